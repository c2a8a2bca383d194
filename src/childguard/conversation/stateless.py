"""A state store that keeps nothing: for a child whose parent withdrew consent, the message is still
judged (its own safe answer, helplines) and the conversation analysers see a fresh state, but nothing
about the conversation is written (issue 18, item 9: after withdrawal nothing new is stored)."""

from __future__ import annotations

from typing import TypeVar

from .state import ConversationState, Step

T = TypeVar("T")


class StatelessStore:
    def load(self, conversation: str) -> ConversationState | None:
        return None

    def update(self, conversation: str, step: Step[T]) -> tuple[ConversationState, T]:
        return step(None)

    def save(self, conversation: str, state: ConversationState) -> None:
        return None

    def delete(self, conversation: str) -> None:
        return None
