"""Persistence for human oversight (4i) and privacy by design (5b, 5c): review cases for escalations
and children's reports (redacted, AES-GCM-encrypted excerpts with a retention period), a hash-chained
audit log, moderator accounts and sessions (`accounts`), parental consent (`consent`) and aggregated
decision counts for the transparency report (`stats`). SQLite by default, PostgreSQL in production."""

from .store import Store

__all__ = ["Store"]
