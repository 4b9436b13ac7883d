"""Publishing to AppSync Events over HTTP: POST https://<http domain>/event with
{"channel": "/ns/key", "events": ["<json>", ...]}, signed with SigV4 for the service "appsync" by
the function's IAM role. The local stand-in (local/events.py) serves the same request and checks
the same signature.

AppSync's limits, kept here: at most 5 events per publish request
(https://docs.aws.amazon.com/appsync/latest/eventapi/publish-http.html) and at most 240 KB per event
(https://docs.aws.amazon.com/appsync/latest/eventapi/event-api-concepts.html). A channel's events go
in as many requests as needed; an event over the size limit is never sent (AppSync would refuse it
on every retry, holding back the batch until the DLQ): it is logged and left out. Our signals are
ids and states (helpdesk.push.channels), far below the limit."""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from helpdesk import errors
from helpdesk.push.channels import Channel
from helpdesk.tls import client_context

log = logging.getLogger(__name__)

MAX_EVENTS_PER_PUBLISH = 5  # AppSync Events: a publish request carries 1-5 events
MAX_EVENT_BYTES = 240 * 1024  # AppSync Events: one event (the JSON string) at most 240 KB
MAX_PARALLEL = 8  # requests in flight at once: a batch's channels are published side by side
TIMEOUT_SECONDS = 5.0


class PublishFailed(errors.HelpdeskError):
    """AppSync did not accept every event (the consumer's batch is retried)."""

    code = "push_publish_failed"


class AppSyncEventsPublisher:
    def __init__(self, http_endpoint: str, region: str, credentials: Any, *, timeout: float = TIMEOUT_SECONDS) -> None:
        if not http_endpoint:
            raise errors.ValidationFailed("AppSyncEventsPublisher needs the Event API's HTTP endpoint (PUSH_HTTP_ENDPOINT)")
        base = http_endpoint if "://" in http_endpoint else f"https://{http_endpoint}"
        self.url = base.rstrip("/") + ("" if base.rstrip("/").endswith("/event") else "/event")
        self.region = region
        self.credentials = credentials
        self.timeout = timeout
        self._tls = client_context()  # built here, not on the first publish (push's SnapStart snapshot has it)

    def publish(self, deliveries: Sequence[tuple[Channel, dict[str, Any]]]) -> int:
        """Publish every (channel, message); returns how many were accepted, PublishFailed if any was not."""
        by_channel: dict[str, list[str]] = defaultdict(list)
        for channel, message in deliveries:
            event = json.dumps(message, separators=(",", ":"))
            if len(event.encode()) > MAX_EVENT_BYTES:
                log.error("push: a %d-byte message for %s is over AppSync's %d-byte event limit; not sent",
                          len(event.encode()), channel.path, MAX_EVENT_BYTES)
                continue
            by_channel[channel.path].append(event)
        requests = [(path, events[i:i + MAX_EVENTS_PER_PUBLISH])
                    for path, events in by_channel.items() for i in range(0, len(events), MAX_EVENTS_PER_PUBLISH)]
        if not requests:
            return 0
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(requests))) as pool:
            results = list(pool.map(lambda r: self._post(*r), requests))
        failed = [f"{path}: {reason}" for (path, _), (_, reason) in zip(requests, results) if reason]
        if failed:
            raise PublishFailed(f"push: {len(failed)} of {len(requests)} publish requests failed: {'; '.join(failed[:5])}")
        return sum(accepted for accepted, _ in results)

    def _post(self, channel: str, events: list[str]) -> tuple[int, str | None]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        body = json.dumps({"channel": channel, "events": events}).encode()
        request = AWSRequest(method="POST", url=self.url, data=body, headers={"Content-Type": "application/json"})
        SigV4Auth(self.credentials, "appsync", self.region).add_auth(request)
        http = urllib.request.Request(self.url, data=body, method="POST", headers=dict(request.headers.items()))
        try:
            with urllib.request.urlopen(http, timeout=self.timeout, context=self._tls) as answer:
                doc = json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return 0, f"HTTP {exc.code} {exc.read()[:300].decode(errors='replace')}"
        except (OSError, ValueError) as exc:
            return 0, f"{type(exc).__name__}: {exc}"
        failed = doc.get("failed") or []
        if failed:
            return len(doc.get("successful") or []), f"{len(failed)} event(s) refused: {failed[0]}"
        return len(doc.get("successful") or []), None
