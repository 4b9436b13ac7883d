"""The meter of the counted ticket life: AWS calls made inside a function invocation belong to it,
calls AWS's own services make for us are counted by phase, and the run's own look-ups and idle polls
are not counted."""
from __future__ import annotations

import threading

import boto3
import pytest
from botocore.stub import Stubber

from bench.lifecycle import PHASES, Counted, Meter


class FakeFunctions:
    def __init__(self, work):
        self.work = work

    def invoke(self, name, event):
        return self.work(name, event)


@pytest.fixture
def s3():
    client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        yield client, stub


def test_calls_inside_an_invocation_are_the_functions(s3):
    client, stub = s3
    stub.add_response("get_object", {}, {"Bucket": "raw", "Key": "k"})
    functions = FakeFunctions(lambda name, event: client.get_object(Bucket="raw", Key="k"))
    meter = Meter()
    meter.install(functions)
    try:
        meter.phase = PHASES[0]
        functions.invoke("inbound_email", {"Records": [{}, {}]})
    finally:
        meter.uninstall()
    [run] = meter.counted.invocations
    assert (run.function, run.trigger, run.records, run.phase) == ("inbound_email", "sqs", 2, PHASES[0])
    assert run.calls == {("s3", "GetObject"): 1}
    assert not meter.counted.service_calls


def test_calls_outside_functions_count_by_phase_but_not_the_drivers_own(s3):
    client, stub = s3
    for _ in range(2):
        stub.add_response("put_object", {}, {"Bucket": "raw", "Key": "k", "Body": b"x" * 300})
    meter = Meter()
    meter.install(FakeFunctions(lambda *a: None))
    try:
        meter.phase = PHASES[0]
        client.put_object(Bucket="raw", Key="k", Body=b"x" * 300)  # the driver (main thread): not counted
        worker = threading.Thread(target=lambda: client.put_object(Bucket="raw", Key="k", Body=b"x" * 300), name="smtp")
        worker.start()
        worker.join()
    finally:
        meter.uninstall()
    assert meter.counted.service_calls == {(PHASES[0], "s3", "PutObject"): 1}
    assert meter.counted.s3_bytes_stored[PHASES[0]] == 600  # bytes stored count whoever wrote them


def test_uninstall_puts_botocore_and_the_functions_back():
    from botocore.client import BaseClient

    original = BaseClient._make_api_call
    functions = FakeFunctions(lambda *a: "ran")
    invoke = functions.invoke
    meter = Meter()
    meter.install(functions)
    meter.uninstall()
    assert BaseClient._make_api_call is original and functions.invoke == invoke


def test_ticket_invocations_leave_out_scheduled_runs_and_other_phases():
    from bench.lifecycle import Invocation

    c = Counted(invocations=[Invocation(PHASES[0], "api", "http", 1.0, 1), Invocation(PHASES[0], "notifier", "schedule", 1.0, 1),
                             Invocation("view read", "api", "http", 1.0, 1)])
    assert [i.function for i in c.ticket_invocations()] == ["api"]
