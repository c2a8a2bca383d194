"""The HTTP service (issue 3, first part): moderation API, health and readiness."""

from .app import create_app

__all__ = ["create_app"]
