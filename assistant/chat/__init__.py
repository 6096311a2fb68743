"""Chat: questions over time in, answers in context out.

A `Conversation` resolves follow-ups from earlier turns and keeps citation numbers stable; suggested follow-ups are
checked answerable; the audit log records every answer given, by any channel. Depends on the narrow `Answering`
protocol, not on the facade.
"""

from .answering import Answering
from .audit import AuditLog, read_log
from .conversation import Conversation
from .suggest import suggest_follow_ups

__all__ = ["Answering", "AuditLog", "Conversation", "read_log", "suggest_follow_ups"]
