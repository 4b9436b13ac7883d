"""The AppSync namespace handlers (infra/appsync/agent_channels.js) decide like helpdesk.push.access:
each case runs through the JavaScript under node (with a stand-in for @aws-appsync/utils) and
through the Python rules, and both must agree."""
from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import datetime, timezone

import pytest

from helpdesk import errors
from helpdesk.push.access import authorize_agent, presence_message
from infra.push import HANDLERS

NODE = shutil.which("node")
HARNESS = r"""
const fs = require('fs');
class Unauthorized extends Error {}
const util = { unauthorized() { throw new Unauthorized('Unauthorized'); }, time: { nowISO8601: () => 'NOW' } };
let source = fs.readFileSync(process.argv[1], 'utf8')
  .replace(/^import .*$/m, '')
  .replace(/export function/g, 'function');
const handlers = new Function('util', source + '; return { onSubscribe, onPublish };')(util);
const cases = JSON.parse(fs.readFileSync(0, 'utf8'));
const out = cases.map((c) => {
  const ctx = { identity: c.identity, info: { channel: { path: c.channel, segments: c.channel.split('/').filter(Boolean) },
                channelNamespace: { name: c.channel.split('/')[1] }, operation: c.operation }, events: c.events };
  try {
    const result = c.operation === 'SUBSCRIBE' ? handlers.onSubscribe(ctx) : handlers.onPublish(ctx);
    return { allowed: true, result: result === undefined ? null : result };
  } catch (e) {
    if (e instanceof Unauthorized) return { allowed: false };
    throw e;
  }
});
process.stdout.write(JSON.stringify(out));
"""

TARA = {"sub": "sub-tara", "groups": ["agent"], "claims": {"email": "tara@example.com"}}
NOBODY = {"sub": "sub-x", "groups": ["visitors"], "claims": {"email": "x@example.com"}}
T = f"/tickets/{uuid.uuid4()}"
CASES = [
    (TARA, "SUBSCRIBE", T), (TARA, "SUBSCRIBE", f"/teams/{uuid.uuid4()}"), (TARA, "SUBSCRIBE", "/agents/sub-tara"),
    (TARA, "SUBSCRIBE", "/agents/sub-tom"), (NOBODY, "SUBSCRIBE", T), (NOBODY, "SUBSCRIBE", "/agents/sub-x"),
    (TARA, "PUBLISH", T), (TARA, "PUBLISH", f"/teams/{uuid.uuid4()}"), (TARA, "PUBLISH", "/agents/sub-tara"),
    (NOBODY, "PUBLISH", T),
]
EVENTS = [{"kind": "presence", "state": "replying", "agent": {"sub": "sub-tom", "email": "tom@example.com"}},
          {"kind": "change", "type": "ticket.replied"}]


def run_js(cases: list[dict]) -> list[dict]:
    done = subprocess.run([NODE, "-e", HARNESS, str(HANDLERS)], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def python_allows(identity: dict, operation: str, channel: str) -> bool:
    claims = {"sub": identity["sub"], "email": identity["claims"]["email"], "cognito:groups": ",".join(identity["groups"])}
    try:
        authorize_agent(claims, operation, channel)
        return True
    except errors.HelpdeskError:
        return False


@pytest.mark.skipif(NODE is None, reason="node is not installed (the CDK needs it too)")
def test_the_js_handlers_allow_and_refuse_what_the_python_rules_do():
    cases = [{"identity": i, "operation": o, "channel": c, "events": [{"id": "e1", "payload": EVENTS[0]}]} for i, o, c in CASES]
    for (identity, operation, channel), answer in zip(CASES, run_js(cases)):
        assert answer["allowed"] == python_allows(identity, operation, channel), (identity["sub"], operation, channel)


@pytest.mark.skipif(NODE is None, reason="node is not installed (the CDK needs it too)")
def test_the_js_handler_rebuilds_presence_like_python_and_refuses_other_events():
    events = [{"id": "e1", "payload": EVENTS[0]}, {"id": "e2", "payload": EVENTS[1]}]
    [answer] = run_js([{"identity": TARA, "operation": "PUBLISH", "channel": T, "events": events}])
    stamped, refused = answer["result"]
    expected = presence_message({"sub": "sub-tara", "email": "tara@example.com", "cognito:groups": "agent"}, EVENTS[0],
                                datetime.now(timezone.utc))
    assert stamped["id"] == "e1" and {**stamped["payload"], "at": None} == {**expected, "at": None}
    assert refused["id"] == "e2" and "presence" in refused["error"]
    with pytest.raises(errors.ValidationFailed):
        presence_message({"sub": "s", "email": "t@example.com", "cognito:groups": "agent"}, EVENTS[1], datetime.now(timezone.utc))


@pytest.mark.skipif(NODE is None, reason="node is not installed (the CDK needs it too)")
def test_the_push_functions_iam_publishes_pass_through_unchanged():
    iam = {"accountId": "123456789012", "userArn": "arn:aws:sts::123456789012:assumed-role/push/x"}
    events = [{"id": "e1", "payload": {"kind": "change", "type": "ticket.assigned"}}]
    [answer] = run_js([{"identity": iam, "operation": "PUBLISH", "channel": "/teams/abc", "events": events}])
    assert answer == {"allowed": True, "result": events}
