"""Session lifecycle services: transitions, conflicts, timeline messages, broadcasts."""

from __future__ import annotations

import pytest

from chat.models import Message
from sessions_app import services
from sessions_app.exceptions import AlreadyAssigned, InvalidTransition, SessionClosed
from sessions_app.models import SupportSession
from sessions_app.selectors import parse_session_id, session_for_customer, token_hash
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


def timeline(session) -> list[str]:
    return list(
        Message.objects.filter(session=session)
        .order_by("seq")
        .values_list("metadata__event", flat=True)
    )


def test_open_returns_a_token_stored_only_as_a_hash():
    opened = services.session_open(customer_name="Ana")
    stored = SupportSession.objects.get(pk=opened.session.pk)
    assert stored.token_hash == token_hash(opened.token) != opened.token
    assert session_for_customer(session_id=str(stored.pk), token=opened.token) == stored


def test_escalate_take_over_release_close_rate():
    session = SupportSessionFactory()
    agent = StaffFactory()
    services.session_escalate(session_id=session.pk, reason="low_confidence")
    services.session_take_over(session_id=session.pk, user=agent)
    session.refresh_from_db()
    assert (session.status, session.handled_by, session.assignee) == ("escalated", "human", agent)
    services.session_release(session_id=session.pk)
    session.refresh_from_db()
    assert (session.status, session.handled_by, session.assignee) == ("open", "ai", None)
    services.session_close(session_id=session.pk)
    services.session_rate(session_id=session.pk, csat=5)
    session.refresh_from_db()
    assert session.status == "closed" and session.closed_at and session.csat == 5
    assert timeline(session) == ["escalated", "taken_over", "released", "closed"]


def test_second_agent_cannot_take_over():
    session = SupportSessionFactory()
    services.session_take_over(session_id=session.pk, user=StaffFactory())
    with pytest.raises(AlreadyAssigned):
        services.session_take_over(session_id=session.pk, user=StaffFactory())


def test_closed_session_cannot_be_escalated_or_taken_over():
    session = SupportSessionFactory(status="closed")
    with pytest.raises(SessionClosed):
        services.session_escalate(session_id=session.pk, reason="x")
    with pytest.raises(SessionClosed):
        services.session_take_over(session_id=session.pk, user=StaffFactory())


@pytest.mark.parametrize("csat", [0, 6, "5", None, True])
def test_rating_must_be_1_to_5(csat):
    session = SupportSessionFactory(status="closed")
    with pytest.raises(InvalidTransition):
        services.session_rate(session_id=session.pk, csat=csat)


def test_open_session_cannot_be_rated():
    session = SupportSessionFactory()
    with pytest.raises(InvalidTransition):
        services.session_rate(session_id=session.pk, csat=4)


def test_escalating_twice_adds_one_timeline_message():
    session = SupportSessionFactory()
    services.session_escalate(session_id=session.pk, reason="a")
    services.session_escalate(session_id=session.pk, reason="b")
    assert timeline(session) == ["escalated"]


@pytest.mark.parametrize("raw", ["undefined", "null", "", None, 42, "x" * 36])
def test_parse_session_id_rejects_non_uuids(raw):
    from sessions_app.exceptions import InvalidSessionId

    with pytest.raises(InvalidSessionId):
        parse_session_id(raw)
