"""The conversation turn a review case records: what the conversation API already returns (turn, the
findings with the turns and stages that moved them), with the time it happened, so the moderator sees
the trajectory and not only the last line (4i). No message text here: the excerpt is redacted apart."""

from __future__ import annotations

from datetime import UTC, datetime

from ..conversation.schema import ConversationDecision, ConversationMessage
from ..store.records import ThreadFinding, ThreadMove, ThreadTurn


def thread_turn(message: ConversationMessage, result: ConversationDecision) -> ThreadTurn:
    return ThreadTurn(turn=result.turn, time=message.time or datetime.now(UTC), role=message.role,
                      action=result.action.value,
                      findings=[ThreadFinding(kind=f.kind, action=f.action.value, risk=round(float(f.risk), 3),
                                              evidence=list(f.evidence),
                                              moved=[ThreadMove(turn=m.turn, stage=m.stage,
                                                                time=m.time.isoformat() if m.time else None)
                                                     for m in f.moved])
                                for f in result.findings])
