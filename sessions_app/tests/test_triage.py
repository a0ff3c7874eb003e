"""Conversation states: close/undo, reopen on reply, snooze and its sweep, priority, labels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message
from chat.services import message_create
from sessions_app import services, triage
from sessions_app.exceptions import InvalidSnooze, SessionClosed
from sessions_app.models import Label, SupportSession
from sessions_app.tasks import snoozed_wake
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db


def url(session_id, action):
    return f"/api/v1/sessions/{session_id}/{action}/"


def fresh(session) -> SupportSession:
    return SupportSession.objects.get(pk=session.pk)


# --- Close and reopen -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "before",
    [
        {"status": "open", "handled_by": "ai"},
        {"status": "escalated", "handled_by": "ai"},  # waiting in the queue
        {"status": "escalated", "handled_by": "human", "agent": True},
    ],
)
def test_reopen_after_close_restores_exactly_what_the_close_ended(before):
    agent = StaffFactory() if before.get("agent") else None
    escalated_at = (
        timezone.now() - timedelta(minutes=5) if before["status"] == "escalated" else None
    )
    session = SupportSessionFactory(
        status=before["status"],
        handled_by=before["handled_by"],
        assignee=agent,
        escalated_at=escalated_at,
        priority="high",
    )
    services.session_close(session_id=session.pk, actor=agent)
    closed = fresh(session)
    assert closed.status == "closed" and closed.closed_at is not None
    services.session_reopen(session_id=session.pk, actor=agent)
    back = fresh(session)
    assert (back.status, back.handled_by, back.assignee, back.escalated_at) == (
        before["status"],
        before["handled_by"],
        agent,
        escalated_at,
    )
    assert back.closed_at is None and back.priority == "high"
    assert "closed_from" not in back.metadata


def test_a_customer_writing_soon_after_the_close_reopens_it(settings):
    settings.SESSION_REOPEN_WITHIN = 3600
    agent = StaffFactory()
    session = SupportSessionFactory(status="escalated", handled_by="human", assignee=agent)
    services.session_close(session_id=session.pk, actor=agent)
    result = message_create(session_id=session.pk, role="customer", content="One more thing")
    back = fresh(session)
    assert (back.status, back.assignee) == ("escalated", agent)
    events = list(
        Message.objects.filter(session=session)
        .order_by("seq")
        .values_list("metadata__event", flat=True)
    )
    assert events == ["closed", "reopened", None]  # the note first, then the customer's message
    assert result.message.seq == back.last_seq


def test_a_customer_writing_after_the_window_is_refused_and_nothing_changes(settings):
    settings.SESSION_REOPEN_WITHIN = 3600
    session = SupportSessionFactory()
    services.session_close(session_id=session.pk)
    SupportSession.objects.filter(pk=session.pk).update(
        closed_at=timezone.now() - timedelta(hours=2)
    )
    with pytest.raises(SessionClosed):
        message_create(session_id=session.pk, role="customer", content="hello?")
    assert fresh(session).status == "closed"


def test_a_zero_window_never_reopens(settings):
    settings.SESSION_REOPEN_WITHIN = 0
    session = SupportSessionFactory()
    services.session_close(session_id=session.pk)
    with pytest.raises(SessionClosed):
        message_create(session_id=session.pk, role="customer", content="hello?")


def test_an_agent_cannot_write_into_a_closed_session_without_reopening_it():
    session = SupportSessionFactory()
    services.session_close(session_id=session.pk)
    with pytest.raises(SessionClosed):
        message_create(session_id=session.pk, role="agent", content="hi")


# --- Snooze ---------------------------------------------------------------------------------


def test_snooze_keeps_the_status_and_notes_it_for_staff_only():
    session = SupportSessionFactory(status="escalated")
    until = timezone.now() + timedelta(hours=2)
    triage.session_snooze(session_id=session.pk, until=until)
    assert fresh(session).snoozed_until == until
    assert fresh(session).status == "escalated"
    note = Message.objects.get(session=session)
    assert note.internal and note.metadata["event"] == "snoozed"


@pytest.mark.parametrize("delta", [timedelta(seconds=-1), timedelta(days=91)])
def test_snooze_refuses_a_past_or_too_distant_time(delta):
    session = SupportSessionFactory()
    with pytest.raises(InvalidSnooze):
        triage.session_snooze(session_id=session.pk, until=timezone.now() + delta)


def test_the_sweep_wakes_only_what_is_due():
    due, later = SupportSessionFactory(), SupportSessionFactory()
    triage.session_snooze(session_id=due.pk, until=timezone.now() + timedelta(seconds=30))
    triage.session_snooze(session_id=later.pk, until=timezone.now() + timedelta(hours=1))
    assert triage.snoozed_wake_due(now=timezone.now() + timedelta(minutes=1)) == 1
    assert fresh(due).snoozed_until is None and fresh(later).snoozed_until is not None
    assert snoozed_wake() == 0  # the task itself: nothing due now


def test_a_customer_message_wakes_a_snoozed_session():
    session = SupportSessionFactory(status="escalated")
    triage.session_snooze(session_id=session.pk, until=timezone.now() + timedelta(days=1))
    message_create(session_id=session.pk, role="customer", content="Any news?")
    assert fresh(session).snoozed_until is None
    events = list(
        Message.objects.filter(session=session)
        .order_by("seq")
        .values_list("metadata__event", flat=True)
    )
    assert events == ["snoozed", "woken", None]


def test_closing_ends_a_snooze_and_a_closed_session_cannot_be_snoozed():
    session = SupportSessionFactory()
    triage.session_snooze(session_id=session.pk, until=timezone.now() + timedelta(days=1))
    services.session_close(session_id=session.pk)
    assert fresh(session).snoozed_until is None
    with pytest.raises(SessionClosed):
        triage.session_snooze(session_id=session.pk, until=timezone.now() + timedelta(days=1))


# --- REST: priority, labels, snooze, filters, customers' view -------------------------------


def test_rest_priority_labels_and_filters():
    staff = api_client("staff")
    refund = staff.post("/api/v1/labels/", {"name": "Refund", "color": "#dc2626"}, format="json")
    assert refund.status_code == 201
    assert_error(
        staff.post("/api/v1/labels/", {"name": "refund"}, format="json"), 409, "label_exists"
    )
    staff.post("/api/v1/labels/", {"name": "vip"}, format="json")
    one, two = SupportSessionFactory(), SupportSessionFactory()
    body = staff.post(url(one.pk, "priority"), {"priority": "urgent"}, format="json").json()
    assert body["priority"] == "urgent"
    body = staff.post(url(one.pk, "labels"), {"labels": ["refund", "VIP"]}, format="json").json()
    assert sorted(label["name"] for label in body["labels"]) == ["Refund", "vip"]
    assert_error(
        staff.post(url(two.pk, "labels"), {"labels": ["nope"]}, format="json"), 400, "invalid_field"
    )
    assert_error(
        staff.post(url(two.pk, "priority"), {"priority": "p1"}, format="json"), 400, "invalid_field"
    )
    listed = staff.get("/api/v1/sessions/", {"label": "refund", "priority": "urgent"}).json()
    assert [row["id"] for row in listed["results"]] == [str(one.pk)]
    assert staff.get("/api/v1/sessions/", {"label": "vip", "priority": "low"}).json()["count"] == 0
    # Replacing with [] removes them all.
    assert staff.post(url(one.pk, "labels"), {"labels": []}, format="json").json()["labels"] == []


def test_rest_snooze_and_unsnooze_and_the_snoozed_filter():
    staff = api_client("staff")
    session = SupportSessionFactory()
    until = (timezone.now() + timedelta(hours=3)).isoformat()
    assert staff.post(url(session.pk, "snooze"), {"until": until}, format="json").json()[
        "snoozed_until"
    ]
    assert staff.get("/api/v1/sessions/", {"snoozed": "true"}).json()["count"] == 1
    assert staff.get("/api/v1/sessions/", {"snoozed": "false"}).json()["count"] == 0
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    assert_error(
        staff.post(url(session.pk, "snooze"), {"until": past}, format="json"), 400, "invalid_field"
    )
    assert staff.post(url(session.pk, "unsnooze")).json()["snoozed_until"] is None


def test_the_customer_never_sees_the_triage():
    session = SupportSessionFactory(priority="urgent")
    session.labels.add(Label.objects.create(name="angry"))
    mine = api_client("customer").get(f"/api/v1/sessions/{session.pk}/").json()
    assert not {"priority", "labels", "snoozed_until"} & set(mine)
    staff = api_client("staff").get(f"/api/v1/sessions/{session.pk}/").json()
    assert staff["priority"] == "urgent" and staff["labels"][0]["name"] == "angry"


def test_deleting_a_label_removes_it_from_its_sessions():
    label = Label.objects.create(name="bug")
    session = SupportSessionFactory()
    session.labels.add(label)
    assert api_client("staff").delete(f"/api/v1/labels/{label.pk}/").status_code == 204
    assert fresh(session).labels.count() == 0


def test_priority_labels_and_snooze_changes_are_in_the_audit_trail():
    staff = api_client("staff")
    staff.post("/api/v1/labels/", {"name": "refund"}, format="json")
    staff.post("/api/v1/labels/", {"name": "vip"}, format="json")
    session = SupportSessionFactory()
    staff.post(url(session.pk, "priority"), {"priority": "high"}, format="json")
    staff.post(url(session.pk, "labels"), {"labels": ["vip", "refund"]}, format="json")
    staff.post(url(session.pk, "labels"), {"labels": ["vip"]}, format="json")
    until = (timezone.now() + timedelta(hours=2)).isoformat()
    staff.post(url(session.pk, "snooze"), {"until": until}, format="json")
    staff.post(url(session.pk, "unsnooze"), format="json")

    events = staff.get(url(session.pk, "events")).json()
    trail = [(e["field"], e["old_value"], e["new_value"]) for e in events]
    assert trail[:3] == [
        ("priority", "none", "high"),
        ("labels", "", "refund, vip"),
        ("labels", "refund, vip", "vip"),
    ]
    assert [field for field, _, _ in trail[3:]] == ["snoozed_until", "snoozed_until"]
    assert trail[4][2] == ""  # woken
    assert {e["actor"] for e in events} == {events[0]["actor"]} and events[0]["actor"]
