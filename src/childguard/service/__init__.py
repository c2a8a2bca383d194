"""The HTTP service: moderation API, chat gateway, conversation API, reports, consent, transparency, the
moderators' console, health and readiness."""

from .app import create_app

__all__ = ["create_app"]
