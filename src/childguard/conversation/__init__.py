"""Conversation-level protection: grooming and sextortion trajectories, cyberbullying by
repetition and target, emotional dependency on an AI companion."""

from .analyzers import ConversationAnalyzer, register_analyzer
from .monitor import ConversationGuard, build_store
from .schema import ConversationDecision, ConversationFinding, ConversationMessage
from .state import ConversationState, MemoryStateStore, RedisStateStore, StateStore

__all__ = [
    "ConversationAnalyzer", "ConversationDecision", "ConversationFinding", "ConversationGuard",
    "ConversationMessage", "ConversationState", "MemoryStateStore", "RedisStateStore", "StateStore",
    "build_store", "register_analyzer",
]
