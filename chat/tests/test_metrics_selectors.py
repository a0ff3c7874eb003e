"""First response, resolution and reports on scripted timelines: exact values, honest rules."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest.mock import patch

import pytest
from django.urls import reverse
from django.utils import timezone

from chat.metrics_selectors import (
    desk_report,
    first_response_seconds,
    percentile,
    resolution_seconds,
    sessions_with_timings,
)
from chat.models import Message
from sessions_app.models import SupportSession, Team
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@contextmanager
def clock(at: dt.datetime):
    """Make auto_now_add stamp ``at`` (scripted timelines)."""
    with patch("django.utils.timezone.now", return_value=at):
        yield


def scripted(events, *, closed_after=None, csat=None, assignee=None, reason=None):
    """Create a session at T0 and its messages at T0 + offset seconds, in order.

    ``events``: (offset, role, extra) with extra e.g. {"event": "escalated"} for a timeline
    note or {"internal": True} for a note.
    """
    with clock(T0):
        session = SupportSessionFactory(assignee=assignee)
    for seq, (offset, role, extra) in enumerate(events, start=1):
        extra = dict(extra or {})
        internal = extra.pop("internal", False)
        with clock(T0 + dt.timedelta(seconds=offset)):
            Message.objects.create(
                session=session,
                seq=seq,
                role=role,
                content=f"{role} at {offset}",
                internal=internal,
                metadata=extra,
            )
    updates = {"last_seq": len(events), "csat": csat}
    if closed_after is not None:
        updates.update(status="closed", closed_at=T0 + dt.timedelta(seconds=closed_after))
    if reason:
        updates["metadata"] = {"escalation_reason": reason}
    SupportSession.objects.filter(pk=session.pk).update(**updates)
    return sessions_with_timings().get(pk=session.pk)


AI_HANDS_OVER = [
    (5, "customer", None),
    (6, "assistant", {"reasons": ["low_confidence"]}),  # the AI's hand-over text: not a reply
    (6, "system", {"event": "escalated"}),
    (100, "system", {"event": "taken_over"}),
    (110, "agent", {"internal": True}),  # a private note: not a reply either
    (135, "agent", None),
    (200, "agent", None),
]


def test_first_response_runs_from_the_hand_over_to_the_first_human_reply():
    session = scripted(AI_HANDS_OVER, closed_after=606)
    assert first_response_seconds(session) == 129.0  # 135 - 6, not the AI's "1 s"
    assert resolution_seconds(session) == 600.0  # hand-over (6) to close (606)


def test_without_ai_the_clock_starts_at_the_customers_first_message():
    session = scripted(
        [(10, "customer", None), (20, "customer", None), (55, "agent", None)], closed_after=90
    )
    assert session.handover_at is None
    assert first_response_seconds(session) == 45.0
    assert resolution_seconds(session) == 90.0  # no hand-over: from creation


def test_ai_only_session_has_no_first_response_and_resolves_from_creation():
    session = scripted([(3, "customer", None), (4, "assistant", None)], closed_after=30)
    assert first_response_seconds(session) is None
    assert resolution_seconds(session) == 30.0


def test_waiting_and_open_sessions_have_no_figures_yet():
    session = scripted(AI_HANDS_OVER[:4])
    assert first_response_seconds(session) is None
    assert resolution_seconds(session) is None


def test_a_reply_before_a_later_hand_over_does_not_count_for_it():
    # Released back to the AI after a first human reply, then escalated again: the first
    # hand-over is the clock, and the reply after it is the response.
    session = scripted(
        [
            (0, "customer", None),
            (2, "system", {"event": "assigned"}),
            (32, "agent", None),
            (40, "system", {"event": "escalated"}),
        ]
    )
    assert first_response_seconds(session) == 30.0


def test_percentile_interpolates_like_percentile_cont():
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    assert percentile(values, 0.5) == 30.0
    assert percentile(values, 0.9) == pytest.approx(76.0)
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None


def test_report_by_agent_and_day_on_scripted_sessions():
    dana, lee = StaffFactory(username="dana"), StaffFactory(username="lee")
    for reply_at, agent in [(16, dana), (26, dana), (36, lee), (46, dana), (106, dana)]:
        scripted(
            [
                (5, "customer", None),
                (6, "system", {"event": "escalated"}),
                (reply_at, "agent", None),
            ],
            closed_after=reply_at + 100,
            csat=4 if agent is dana else 2,
            assignee=agent,
            reason="low_confidence, repeated_unhelpful",
        )
    scripted([(1, "customer", None), (2, "assistant", None)], closed_after=10, csat=5)
    scripted([(1, "customer", None), (2, "system", {"event": "taken_over"})], assignee=lee)

    day = timezone.localtime(T0).date()
    report = desk_report(start=day, end=day, group="agent")
    by_label = {row.key: row for row in report.rows}
    assert sorted(by_label) == ["dana", "lee", "~"]
    total = report.total
    assert total.conversations == 7
    assert total.ai_resolved == 1
    assert total.ai_resolved_share == pytest.approx(1 / 7)
    assert report.handover_reasons == [("low_confidence", 5), ("taken_over", 1)]
    # Replies 10, 20, 30, 40, 100 s after the hand-over at 6 s.
    assert total.first_response_p50 == 30.0
    assert total.first_response_p90 == pytest.approx(76.0)
    # Resolutions: 110, 120, 130, 140, 200 (from hand-over) and 10 (AI alone, from creation).
    assert total.resolution_p50 == 125.0
    assert total.csat_count == 6
    assert total.csat_average == pytest.approx((4 * 4 + 2 + 5) / 6)
    dana_row = by_label["dana"]
    assert (dana_row.conversations, dana_row.first_response_p50) == (4, 30.0)  # 10, 20, 40, 100
    assert by_label["lee"].first_responses == [30.0]  # the take-over without a reply: none
    assert by_label["~"].ai_resolved == 1

    days = desk_report(start=day - dt.timedelta(days=1), end=day, group="day")
    assert [(row.label, row.conversations) for row in days.rows] == [(day.isoformat(), 7)]
    assert desk_report(start=day + dt.timedelta(days=1), end=day + dt.timedelta(days=2)).rows == []


def test_admin_shows_the_human_first_response_not_the_ais_hand_over(client):
    session = scripted(AI_HANDS_OVER, closed_after=606)
    client.force_login(StaffFactory(is_superuser=True))
    listing = client.get(reverse("admin:sessions_app_supportsession_changelist")).content.decode()
    assert "2 min 9 s" in listing and "10 min 0 s" in listing
    assert ">1 s<" not in listing
    page = client.get(reverse("admin:sessions_app_supportsession_change", args=[session.pk]))
    assert "2 min 9 s" in page.content.decode()


def test_report_by_team_groups_by_the_team_the_session_was_routed_to():
    billing = Team.objects.create(name="Billing")
    for reply_at, team in [(16, billing), (26, billing), (36, None)]:
        session = scripted(
            [
                (5, "customer", None),
                (6, "system", {"event": "escalated"}),
                (reply_at, "agent", None),
            ],
            closed_after=reply_at + 100,
        )
        SupportSession.objects.filter(pk=session.pk).update(team=team)
    day = timezone.localtime(T0).date()
    report = desk_report(start=day, end=day, group="team")
    rows = {row.label: row for row in report.rows}
    assert sorted(rows) == ["Billing", "No team (general queue)"]
    assert rows["Billing"].first_responses == [10.0, 20.0]
    assert rows["No team (general queue)"].conversations == 1
