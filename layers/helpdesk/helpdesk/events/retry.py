"""Retry timing for queue consumers: exponential backoff through the SQS visibility timeout."""
from __future__ import annotations

BASE_SECONDS = 30
MAX_SECONDS = 900


def backoff_seconds(receive_count: int, *, base: int = BASE_SECONDS, cap: int = MAX_SECONDS) -> int:
    """30 s, 60 s, 120 s ... up to 15 minutes, by how often the message was received already."""
    return int(min(cap, base * 2 ** max(0, receive_count - 1)))


def parse_queue_arn(arn: str, endpoint: str = "") -> tuple[str, str, str]:
    """(queue name, account id, region) from an SQS queue ARN (arn:aws:sqs:region:account:name)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"not an SQS queue ARN: {arn!r}")
    return parts[5], parts[4], parts[3]
