"""SQL for the ticket commands and reads, one module per concern.

Each command is ONE statement: its CTEs write the ticket, the message, the SLA rows, the audit
trail and the outbox together, or nothing at all. The steps they share (writing events, the SLA
effects of a status change, the trail of an assignment) are SQL functions (migration 1170), so
every statement here is whole: it can be read, and run in psql, as it stands.

Every command returns the ticket as JSON, the outbox rows it wrote (so the caller publishes them
without reading again) and the SLA clocks whose deadline the application must compute in business
time (`pending_sla`): `CommandRow`.
"""
from __future__ import annotations

from typing import Any, TypedDict

class CommandRow(TypedDict):
    """What every ticket command returns besides its own columns."""
    ticket: dict[str, Any] | None       # the ticket as JSON after the change; None when nothing changed
    events: list[dict[str, Any]]        # the outbox rows written, in order, for the publisher
    pending_sla: list[dict[str, Any]]   # clocks whose deadline the application computes in business time
