"""Which column of a row gives its age and role: the same columns `childguard check --jsonl` reads
(`age`, `lang`, `role`, `country`, `id`), read by default when they exist, so a log scanned without
flags is judged as the live API would judge it. A wrong role is the costly mistake: a stranger's turns
judged as the child's hide a grooming trajectory, so every row records how its role was assigned and
the summary says so."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .config import ScanConfig

AGE_COLUMN = "age"
ROLE_FROM_COLUMN = "role column"
ROLE_FROM_CHILD_SENDER = "--child-sender"
ROLE_FROM_DEFAULT = "--role default"


def value(data: Mapping[str, Any], name: str | None) -> Any:
    """A column's value, with an empty CSV cell read as missing."""
    if name is None:
        return None
    found = data.get(name)
    return None if found == "" else found


def age_of(data: Mapping[str, Any], cfg: ScanConfig) -> Any:
    """--age-field, else --age for every row, else the row's own `age` column when it has one."""
    if cfg.age_field is not None:
        return value(data, cfg.age_field)
    if cfg.age is not None:
        return cfg.age
    return value(data, AGE_COLUMN)


def role_of(data: Mapping[str, Any], cfg: ScanConfig) -> tuple[Any, str]:
    """(role, how it was assigned). With --child-sender the named senders are the child and everyone
    else is a contact (an `ai_output` role column is kept: a bot's turns stay a bot's); without it the
    role column, else --role."""
    column = value(data, cfg.role_field)
    if cfg.child_sender:
        sender = value(data, cfg.sender_field)
        if sender is not None and str(sender) in cfg.child_sender:
            return "child", ROLE_FROM_CHILD_SENDER
        return ("ai_output" if column == "ai_output" else "contact"), ROLE_FROM_CHILD_SENDER
    if column is not None:
        return column, ROLE_FROM_COLUMN
    return cfg.role, ROLE_FROM_DEFAULT


def roles_note(assigned: Mapping[str, int], cfg: ScanConfig) -> str:
    """One sentence for the summary: how roles were assigned, and the warning when every turn of a
    conversation log was taken as the child's."""
    if not assigned:
        return "no rows were decided"
    parts = ", ".join(f"{n:,} by {how}" for how, n in sorted(assigned.items(), key=lambda kv: -kv[1]))
    defaulted = assigned.get(ROLE_FROM_DEFAULT, 0)
    if roles_guessed(assigned, cfg):
        return (f"roles: {parts}; {defaulted:,} turns had no role column and were judged as the child's own "
                "words, so a stranger's grooming in them is missed: name the child with --child-sender "
                "or add a role column")
    return f"roles: {parts}"


def roles_guessed(assigned: Mapping[str, int], cfg: ScanConfig) -> bool:
    """True when turns of a conversation log were all taken as the child's for want of a role."""
    return cfg.conversation_mode and cfg.role == "child" and assigned.get(ROLE_FROM_DEFAULT, 0) > 0
