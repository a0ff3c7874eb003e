"""After a hand-over the customer hears who will answer and roughly when (or office hours)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import Message, MessageRole
from chat.services import message_create, note_add
from notifications import selectors, services
from sessions_app.services import session_escalate, session_take_over
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "seconds, words",
    [
        (20, "under a minute"),
        (65, "about a minute"),
        (4 * 60 + 10, "about 4 minutes"),
        (3 * 3600, "about 3 hours"),
        (3 * 86400, "about 3 days"),
    ],
)
def test_duration_words(seconds, words):
    assert services.duration_words(seconds) == words


def _answered_handover(minutes: float, *, ago_days: float = 1):
    """A session handed over ``ago_days`` ago that a person answered ``minutes`` later."""
    agent = StaffFactory()
    session = SupportSessionFactory()
    escalated_at = timezone.now() - timedelta(days=ago_days)
    session.escalated_at = escalated_at
    session.metadata = {"escalation_reason": "human_requested"}
    session.save(update_fields=["escalated_at", "metadata"])
    reply = message_create(
        session_id=session.pk, role=MessageRole.AGENT, content="Hi!", author=agent
    ).message
    Message.objects.filter(pk=reply.pk).update(created_at=escalated_at + timedelta(minutes=minutes))
    return session


def test_the_typical_reply_time_is_the_median_of_recent_first_human_replies(
    django_assert_num_queries,
):
    for minutes in (2, 4, 30):
        _answered_handover(minutes)
    _answered_handover(600, ago_days=40)  # older than the lookback: ignored
    # Taken over straight from the AI (no hand-over): the agent's own timing, not counted.
    direct = _answered_handover(0.1)
    direct.metadata = {}
    direct.save(update_fields=["metadata"])
    # An internal note is no reply to the customer.
    noted = SupportSessionFactory(escalated_at=timezone.now() - timedelta(hours=1))
    note_add(session_id=noted.pk, user=StaffFactory(), content="looking")
    selectors.reply_time_cache_clear()
    with django_assert_num_queries(1):  # one bounded query…
        assert selectors.typical_reply_seconds() == pytest.approx(240, abs=1)
    with django_assert_num_queries(0):  # …then the cache
        assert selectors.typical_reply_seconds() == pytest.approx(240, abs=1)
    assert "typically replies in about 4 minutes" in services.reply_expectation().text


def test_the_sample_is_bounded_by_the_setting(settings):
    settings.REPLY_TIME_SAMPLE = 2
    _answered_handover(50, ago_days=3)
    _answered_handover(2, ago_days=2)
    _answered_handover(4, ago_days=1)
    assert sorted(selectors.first_response_times(now=timezone.now(), limit=2)) == [120, 240]


def test_without_history_the_customer_still_hears_who_will_answer():
    selectors.reply_time_cache_clear()
    text = services.reply_expectation().text
    assert text == "A member of our support team will answer you here as soon as they can."


def test_outside_office_hours_the_customer_is_told_when_the_team_is_back(settings):
    now = timezone.now()
    # A one-hour window on another weekday: whatever "now" is, the office is closed.
    other_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(now.weekday() + 3) % 7]
    settings.SUPPORT_OFFICE_HOURS = f"{other_day} 09:00-10:00"
    settings.SUPPORT_TIMEZONE = "UTC"
    expectation = services.reply_expectation(now=now)
    assert not expectation.office_open
    assert expectation.text.startswith(
        f"We're outside office hours ({other_day} 09:00-10:00 (UTC)); we'll reply when we're back"
    )
    assert "09:00" in expectation.text


def test_a_hand_over_posts_the_expectation_after_the_timeline_note(
    django_capture_on_commit_callbacks,
):
    session = SupportSessionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        session_escalate(session_id=session.pk, reason="human_requested")
    notes = list(Message.objects.filter(session=session).order_by("seq"))
    assert [m.metadata.get("event") for m in notes] == ["escalated", "reply_expectation"]
    assert notes[1].role == MessageRole.SYSTEM
    assert "support team will answer you here" in notes[1].content


def test_a_take_over_needs_no_expectation(django_capture_on_commit_callbacks):
    session = SupportSessionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        session_take_over(session_id=session.pk, user=StaffFactory())
    events = [m.metadata.get("event") for m in Message.objects.filter(session=session)]
    assert "reply_expectation" not in events
