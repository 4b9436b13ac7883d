"""SLA policy and schedule CRUD: validation names the field, references are checked, nothing half-written."""
from __future__ import annotations

import uuid

import pytest

from helpdesk import errors
from helpdesk.sla.schedule_store import Schedules
from tests.factories import FACTORY

from .conftest import NY_HOURS


def test_policy_crud(db, policies, team):
    created = policies.create({"name": "gold", "priority": "high", "tier": "premium", "team_id": str(team),
                               "channel": "email", "targets": {"first_response": {"seconds": 1800},
                                                               "next_reply": {"seconds": 3600, "business": False}}}, by=FACTORY)
    assert created["targets"] == {"first_response": {"seconds": 1800, "business": True},
                                  "next_reply": {"seconds": 3600, "business": False}}
    assert policies.get(created["id"]) == created
    updated = policies.update(created["id"], {"name": "gold", "position": 5, "targets": {"resolution": {"seconds": 7200}}}, by=FACTORY)
    assert (updated["position"], updated["priority"], updated["targets"]) == (5, None, {"resolution": {"seconds": 7200, "business": True}})
    policies.create({"name": "a-default", "targets": {"resolution": {"seconds": 86400}}}, by=FACTORY)
    assert [p["name"] for p in policies.list()] == ["gold", "a-default"]
    policies.delete(created["id"], by=FACTORY)
    with pytest.raises(errors.NotFound):
        policies.get(created["id"])
    with pytest.raises(errors.NotFound):
        policies.delete(created["id"], by=FACTORY)


@pytest.mark.parametrize("data, words", [
    ({"name": "x", "targets": {}}, "at least one target"),
    ({"name": "x", "targets": {"first_reply": {"seconds": 60}}}, "targets.first_reply"),
    ({"name": "x", "targets": {"resolution": {"seconds": 5}}}, "targets.resolution.seconds"),
    ({"name": "x", "priority": "critical", "targets": {"resolution": {"seconds": 60}}}, "priority"),
    ({"name": "x", "tier": "gold", "targets": {"resolution": {"seconds": 60}}}, "tier"),
    ({"name": "", "targets": {"resolution": {"seconds": 60}}}, "name"),
])
def test_policy_validation(db, policies, data, words):
    with pytest.raises(errors.ValidationFailed) as err:
        policies.create(data, by=FACTORY)
    assert words in err.value.detail
    assert policies.list() == []


def test_policy_references_and_names(db, policies):
    with pytest.raises(errors.ValidationFailed, match="unknown team_id or schedule_id"):
        policies.create({"name": "x", "team_id": str(uuid.uuid4()), "targets": {"resolution": {"seconds": 60}}}, by=FACTORY)
    policies.create({"name": "x", "targets": {"resolution": {"seconds": 60}}}, by=FACTORY)
    with pytest.raises(errors.Conflict, match="already exists"):
        policies.create({"name": "x", "targets": {"resolution": {"seconds": 60}}}, by=FACTORY)


def test_policy_in_use_cannot_be_deleted(db, policies, standard_policy, open_ticket):
    open_ticket()
    with pytest.raises(errors.Conflict, match="deactivate"):
        policies.delete(standard_policy["id"], by=FACTORY)


def test_schedule_crud_and_validation(db, now):
    schedules = Schedules(db, now)
    s = schedules.create({"name": "ny", "document": NY_HOURS}, by=FACTORY)
    assert schedules.get(s["id"])["document"] == NY_HOURS
    with pytest.raises(errors.ValidationFailed, match="schedule hours.mon\\[0\\]"):
        schedules.update(s["id"], {"name": "ny", "document": {"timezone": "UTC", "hours": {"mon": [["18:00", "09:00"]]}}}, by=FACTORY)
    assert schedules.get(s["id"])["document"] == NY_HOURS
    doc = {**NY_HOURS, "holidays": ["2026-12-25"], "holiday_country": "US"}
    assert schedules.update(s["id"], {"name": "ny2", "document": doc}, by=FACTORY)["document"]["holiday_country"] == "US"
    assert [x["name"] for x in schedules.list()] == ["ny2"]
    with pytest.raises(errors.Conflict):
        schedules.create({"name": "ny2", "document": NY_HOURS}, by=FACTORY)
    with pytest.raises(errors.NotFound):
        schedules.get(uuid.uuid4())
