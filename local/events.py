"""The AppSync Events stand-in: the same protocol the deployed Event API speaks, on two loopback ports.

- Real-time: ws://host:port/event/realtime with the subprotocols `aws-appsync-event-ws` and
  `header-<base64url JSON {"host", "Authorization"}>` (the connection's credentials). Messages are
  JSON: connection_init -> connection_ack (then `ka` keep-alives); subscribe {id, channel,
  authorization} -> subscribe_success | subscribe_error; data {id, event: "<json>"} for each event
  published on a subscribed channel; unsubscribe {id} -> unsubscribe_success; publish {id, channel,
  events, authorization} -> publish_success | publish_error.
- HTTP: POST http://host:port/event {"channel", "events": ["<json>", ...]} (1-5 events), signed with
  SigV4 for the service "appsync" by the stack's credentials, as the push function signs in AWS.

Authorization follows infra/ (helpdesk.push.access): the agent namespaces take the stack's agent
tokens (the Cognito stand-in: local/tokens.py); the customer namespaces call functions/push_authorizer
like AppSync's AWS_LAMBDA mode; HTTP publishing needs a valid signature (IAM). Presence that an
agent publishes is rebuilt from their identity, as the tickets namespace's onPublish handler does.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Mapping

from local import tokens

log = logging.getLogger("local.events")

SUBPROTOCOL = "aws-appsync-event-ws"
CONNECTION_TIMEOUT_MS = 300_000
KEEP_ALIVE_SECONDS = 60.0
MAX_EVENTS_PER_PUBLISH = 5
MAX_EVENT_BYTES = 240 * 1024


class Unauthorized(Exception):
    pass


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def header_from_subprotocols(protocols: list[str]) -> dict[str, Any]:
    """The connection's credentials from its `header-<base64url JSON>` subprotocol."""
    for protocol in protocols:
        if protocol.startswith("header-"):
            try:
                doc = json.loads(_unb64(protocol[len("header-"):]))
            except (ValueError, json.JSONDecodeError):
                raise Unauthorized("the header- subprotocol is not base64url JSON") from None
            if isinstance(doc, dict):
                return doc
    raise Unauthorized("no header- subprotocol with the connection's Authorization")


class Authorizer:
    """AppSync's auth modes, locally: agent tokens (Cognito stand-in), the push authorizer function
    (AWS_LAMBDA) for customers, SigV4 with the stack's key for publishing over HTTP (AWS_IAM)."""

    def __init__(self, token_key: str, invoke_authorizer: Callable[[dict[str, Any]], Any],
                 secret_access_key: str = "testing", now: Callable[[], datetime] | None = None) -> None:
        self.token_key = token_key
        self.invoke_authorizer = invoke_authorizer
        self.secret_access_key = secret_access_key
        self.now = now or (lambda: datetime.now(timezone.utc))

    def agent_claims(self, token: str) -> dict[str, Any] | None:
        try:
            return tokens.verify(token, self.token_key)
        except tokens.InvalidToken:
            return None

    def _lambda(self, token: str, operation: str, channel: str | None, headers: Mapping[str, str] | None) -> bool:
        """Ask the push authorizer the way AppSync's AWS_LAMBDA mode does: the request shape of
        https://docs.aws.amazon.com/appsync/latest/eventapi/configure-event-api-auth.html (a connect names
        no channel; the headers are those of the client's request). Like AppSync, a token that does not
        match the authorizer's validation expression is refused without calling it."""
        from helpdesk.push.access import CUSTOMER_TOKEN_PATTERN

        if not re.fullmatch(CUSTOMER_TOKEN_PATTERN, token):
            return False
        namespace = channel.strip("/").split("/")[0] if channel else None
        answer = self.invoke_authorizer({
            "authorizationToken": token,
            "requestContext": {"apiId": "local", "accountId": "123456789012", "requestId": str(uuid.uuid4()),
                               "operation": f"EVENT_{operation}", "channelNamespaceName": namespace, "channel": channel},
            "requestHeaders": {str(k): str(v) for k, v in (headers or {}).items()}})
        return bool(isinstance(answer, dict) and answer.get("isAuthorized") is True)

    def connect(self, token: str, headers: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """The agent's claims, None for a customer the authorizer admits; Unauthorized otherwise."""
        claims = self.agent_claims(token)
        if claims is not None:
            return claims
        if token and self._lambda(token, "CONNECT", None, headers):
            return None
        raise Unauthorized("the connection's Authorization is neither an agent token nor a valid customer token")

    def check(self, token: str, operation: str, channel: str,
              headers: Mapping[str, str] | None = None) -> dict[str, Any] | None:
        """May the bearer of `token` SUBSCRIBE/PUBLISH `channel`? Returns the agent claims (None for a customer)."""
        from helpdesk import errors
        from helpdesk.push.access import authorize_agent
        from helpdesk.push.channels import AGENT_NAMESPACES, parse_channel

        try:
            namespace = parse_channel(channel).namespace
        except errors.HelpdeskError as exc:
            raise Unauthorized(exc.detail) from None
        if namespace in AGENT_NAMESPACES:
            claims = self.agent_claims(token)
            if claims is None:
                raise Unauthorized(f"/{namespace} channels need an agent's token")
            try:
                authorize_agent(claims, operation, channel)
            except errors.HelpdeskError as exc:
                raise Unauthorized(exc.detail) from None
            return claims
        if not self._lambda(token, operation, channel, headers):
            raise Unauthorized(f"the push authorizer refused {operation.lower()} on {channel}")
        return None

    def check_sigv4(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        """Verify an AWS SigV4 signature (service appsync) made with the stack's credentials."""
        auth = headers.get("authorization", "")
        if not auth.startswith("AWS4-HMAC-SHA256 "):
            raise Unauthorized("publishing needs a SigV4-signed request (IAM)")
        fields = dict(part.strip().split("=", 1) for part in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in part)
        try:
            _key_id, date, region, service, _terminator = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            given = fields["Signature"]
        except (KeyError, ValueError):
            raise Unauthorized("malformed SigV4 Authorization header") from None
        if service != "appsync":
            raise Unauthorized(f"signed for service {service!r}, not appsync")
        amz_date = headers.get("x-amz-date", "")
        canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
        canonical = "\n".join([method, path, "", canonical_headers, ";".join(signed),
                               hashlib.sha256(body).hexdigest()])
        scope = f"{date}/{region}/{service}/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = f"AWS4{self.secret_access_key}".encode()
        for part in (date, region, service, "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise Unauthorized("SigV4 signature does not match")


class EventsStandIn:
    """Channels and their subscribers; the WebSocket server runs on its own asyncio loop thread."""

    def __init__(self, authorizer: Authorizer, host: str = "127.0.0.1") -> None:
        self.authorizer = authorizer
        self.host = host
        self.loop = asyncio.new_event_loop()
        self._subscriptions: dict[str, dict[tuple[Any, str], None]] = defaultdict(dict)  # channel -> {(ws, sub id)}
        self._thread = threading.Thread(target=self.loop.run_forever, name="local-events", daemon=True)
        self._server: Any = None
        self._http: ThreadingHTTPServer | None = None
        self.realtime_url = ""
        self.http_url = ""
        self.published = 0
        self.delivered = 0

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "EventsStandIn":
        from websockets.asyncio.server import serve

        self._thread.start()

        async def _serve():
            return await serve(self._connection, self.host, 0, subprotocols=[SUBPROTOCOL],
                               select_subprotocol=self._select_subprotocol, ping_interval=None)

        self._server = asyncio.run_coroutine_threadsafe(_serve(), self.loop).result(10)
        port = self._server.sockets[0].getsockname()[1]
        self.realtime_url = f"ws://{self.host}:{port}/event/realtime"
        self._http = ThreadingHTTPServer((self.host, 0), self._http_handler())
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.2}, name="local-events-http",
                         daemon=True).start()
        self.http_url = f"http://{self.host}:{self._http.server_address[1]}/event"
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._server is not None:
            self._server.close()
            try:
                asyncio.run_coroutine_threadsafe(self._server.wait_closed(), self.loop).result(5)
            except Exception:  # noqa: BLE001 - stopping anyway
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)

    # -- publishing ----------------------------------------------------------------------
    def publish(self, channel: str, events: list[str]) -> None:
        """Deliver each event to the channel's subscribers (thread-safe)."""
        self.published += len(events)
        self.loop.call_soon_threadsafe(self._fan_out, channel, list(events))

    def _fan_out(self, channel: str, events: list[str]) -> None:
        for ws, sub_id in list(self._subscriptions.get(channel, {})):
            for event in events:
                self.delivered += 1
                self.loop.create_task(self._send(ws, {"type": "data", "id": sub_id, "event": event}))

    @staticmethod
    async def _send(ws: Any, message: dict[str, Any]) -> None:
        try:
            await ws.send(json.dumps(message))
        except Exception:  # noqa: BLE001 - a closed connection: its subscriptions go with it
            pass

    # -- WebSocket -----------------------------------------------------------------------
    @staticmethod
    def _select_subprotocol(connection: Any, subprotocols: list[str]) -> str | None:
        return SUBPROTOCOL if SUBPROTOCOL in subprotocols else None

    async def _connection(self, ws: Any) -> None:
        offered = [p.strip() for p in (ws.request.headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        if ws.request.path.split("?")[0] != "/event/realtime":
            await ws.close(4404, "not found: the real-time endpoint is /event/realtime")
            return
        try:
            header = header_from_subprotocols(offered)
            request_headers = dict(ws.request.headers.items())
            await asyncio.to_thread(self.authorizer.connect, str(header.get("Authorization") or ""), request_headers)
        except Unauthorized as exc:
            await ws.send(json.dumps({"type": "connection_error", "errors": [
                {"errorType": "UnauthorizedException", "message": str(exc)}]}))
            await ws.close(4401, "unauthorized")
            return
        mine: dict[str, str] = {}  # subscription id -> channel
        keep_alive = None
        try:
            async for raw in ws:
                try:
                    message = json.loads(raw)
                    kind = message.get("type")
                except (ValueError, AttributeError):
                    await ws.send(json.dumps({"type": "error", "errors": [
                        {"errorType": "BadRequestException", "message": "messages are JSON objects with a type"}]}))
                    continue
                if kind == "connection_init":
                    await ws.send(json.dumps({"type": "connection_ack", "connectionTimeoutMs": CONNECTION_TIMEOUT_MS}))
                    keep_alive = keep_alive or asyncio.ensure_future(self._keep_alive(ws))
                elif kind == "subscribe":
                    await self._subscribe(ws, message, header, mine)
                elif kind == "unsubscribe":
                    channel = mine.pop(str(message.get("id")), None)
                    if channel:
                        self._subscriptions[channel].pop((ws, str(message.get("id"))), None)
                    await ws.send(json.dumps({"type": "unsubscribe_success", "id": message.get("id")}))
                elif kind == "publish":
                    await self._publish_ws(ws, message, header)
                else:
                    await ws.send(json.dumps({"type": "error", "id": message.get("id"), "errors": [
                        {"errorType": "UnsupportedOperation", "message": f"unknown message type {kind!r}"}]}))
        except Exception:  # noqa: BLE001 - the client went away
            pass
        finally:
            if keep_alive:
                keep_alive.cancel()
            for sub_id, channel in mine.items():
                self._subscriptions[channel].pop((ws, sub_id), None)

    async def _keep_alive(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(KEEP_ALIVE_SECONDS)
            await self._send(ws, {"type": "ka"})

    @staticmethod
    def _token(message: dict[str, Any], header: dict[str, Any]) -> str:
        auth = message.get("authorization") if isinstance(message.get("authorization"), dict) else header
        return str(auth.get("Authorization") or header.get("Authorization") or "")

    async def _subscribe(self, ws: Any, message: dict[str, Any], header: dict[str, Any], mine: dict[str, str]) -> None:
        sub_id, channel = str(message.get("id") or ""), str(message.get("channel") or "")
        try:
            if not sub_id:
                raise Unauthorized("a subscribe message needs an id")
            await asyncio.to_thread(self.authorizer.check, self._token(message, header), "SUBSCRIBE", channel,
                                    dict(ws.request.headers.items()))
        except Unauthorized as exc:
            await ws.send(json.dumps({"type": "subscribe_error", "id": sub_id, "errors": [
                {"errorType": "UnauthorizedException", "message": str(exc)}]}))
            return
        mine[sub_id] = channel
        self._subscriptions[channel][(ws, sub_id)] = None
        await ws.send(json.dumps({"type": "subscribe_success", "id": sub_id}))

    async def _publish_ws(self, ws: Any, message: dict[str, Any], header: dict[str, Any]) -> None:
        from helpdesk import errors
        from helpdesk.push.access import presence_message

        pub_id, channel = message.get("id"), str(message.get("channel") or "")
        events = message.get("events")
        try:
            if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_PUBLISH:
                raise errors.ValidationFailed(f"publish carries 1-{MAX_EVENTS_PER_PUBLISH} events")
            claims = await asyncio.to_thread(self.authorizer.check, self._token(message, header), "PUBLISH", channel,
                                             dict(ws.request.headers.items()))
            if claims is None:
                raise Unauthorized("customers do not publish")
            now = self.authorizer.now()
            stamped = [json.dumps(presence_message(claims, e, now)) for e in events]
        except (Unauthorized, errors.HelpdeskError) as exc:
            detail = exc.detail if isinstance(exc, errors.HelpdeskError) else str(exc)
            await ws.send(json.dumps({"type": "publish_error", "id": pub_id, "errors": [
                {"errorType": "UnauthorizedException" if isinstance(exc, (Unauthorized, errors.Forbidden)) else "BadRequestException",
                 "message": detail}]}))
            return
        self.publish(channel, stamped)
        await ws.send(json.dumps({"type": "publish_success", "id": pub_id, "failed": [],
                                  "successful": [{"identifier": str(uuid.uuid4()), "index": i} for i in range(len(stamped))]}))

    # -- HTTP publish --------------------------------------------------------------------
    def _http_handler(self):
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = stand_in.http_publish(self.path, headers, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, fmt: str, *args: Any) -> None:
                log.debug(fmt, *args)

        return Handler

    def http_publish(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        from helpdesk import errors
        from helpdesk.push.channels import parse_channel

        if path != "/event":
            return 404, {"errors": [{"errorType": "NotFound", "message": "publish with POST /event"}]}
        try:
            self.authorizer.check_sigv4("POST", path, headers, body)
        except Unauthorized as exc:
            return 401, {"errors": [{"errorType": "UnauthorizedException", "message": str(exc)}]}
        try:
            doc = json.loads(body)
            channel, events = parse_channel(doc["channel"]).path, doc["events"]
            if not isinstance(events, list) or not 1 <= len(events) <= MAX_EVENTS_PER_PUBLISH \
                    or not all(isinstance(e, str) and len(e.encode()) <= MAX_EVENT_BYTES for e in events):
                raise ValueError(f"events: 1-{MAX_EVENTS_PER_PUBLISH} JSON strings of at most {MAX_EVENT_BYTES} bytes")
            for event in events:
                json.loads(event)
        except (ValueError, KeyError, TypeError, errors.HelpdeskError) as exc:
            detail = exc.detail if isinstance(exc, errors.HelpdeskError) else str(exc)
            return 400, {"errors": [{"errorType": "BadRequestException", "message": detail}]}
        self.publish(channel, events)
        return 200, {"failed": [], "successful": [{"identifier": str(uuid.uuid4()), "index": i} for i in range(len(events))]}
