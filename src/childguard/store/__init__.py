"""Persistence for human oversight (4i): review cases for escalations, encrypted redacted excerpts with
a retention period, and a hash-chained audit log. SQLite by default, PostgreSQL in production."""

from .store import Store

__all__ = ["Store"]
