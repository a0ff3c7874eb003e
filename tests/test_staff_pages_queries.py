"""The inbox, reports and knowledge-gaps views keep the same number of queries as data grows."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents.tests.test_gaps import small_kb
from chat import selectors
from chat.models import Message
from chat.serializers import inbox_summary
from sessions_app.models import SupportSession
from sessions_app.selectors import token_hash
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

TOPICS = ["gift cards", "PayPal", "a shop in Berlin", "shipping to Mars", "student discounts"]


def add_sessions(count: int, agents: list) -> None:
    """Bulk-create ``count`` handed-over sessions, each with a question, the AI's hand-over,
    the timeline note and (for most) an agent's reply; some closed and rated."""
    sessions, messages = [], []
    for n in range(count):
        closed = n % 3 == 0
        session = SupportSession(
            id=uuid.uuid4(),
            status="closed" if closed else "escalated",
            handled_by="human",
            assignee=agents[n % len(agents)] if n % 5 else None,
            token_hash=token_hash(f"token-{n}"),
            last_seq=4,
            csat=(n % 5) + 1 if closed else None,
            metadata={"escalation_reason": "low_confidence"},
        )
        sessions.append(session)
        question = Message(
            id=uuid.uuid4(),
            session=session,
            seq=1,
            role="customer",
            content=f"Question {n}: do you have {TOPICS[n % len(TOPICS)]}?",
        )
        messages += [
            question,
            Message(
                session=session,
                seq=2,
                role="assistant",
                content="Passing you to the team.",
                requires_escalation=True,
                in_reply_to=question,
                metadata={"reasons": ["low_confidence"]},
            ),
            Message(
                session=session,
                seq=3,
                role="system",
                content="Handed over.",
                metadata={"event": "escalated"},
            ),
        ]
        if n % 4:
            messages.append(
                Message(
                    session=session, seq=4, role="agent", content="Hello!", author=session.assignee
                )
            )
    SupportSession.objects.bulk_create(sessions)
    Message.objects.bulk_create(messages)
    for session in sessions:
        if session.status == "closed":
            session.closed_at = session.created_at
    SupportSession.objects.bulk_update([s for s in sessions if s.closed_at], ["closed_at"])


def count_queries(action) -> int:
    action()  # warm: the knowledge index and the encoder load once per process
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def test_inbox_reports_and_gaps_queries_do_not_grow_with_the_sessions(client):
    small_kb()
    agents = [StaffFactory() for _ in range(3)]
    client.force_login(agents[0])

    def inbox():
        rows = selectors.inbox_sessions(user=agents[0])[: selectors.INBOX_LIMIT]
        assert [inbox_summary(s) for s in rows]

    def page(name, query=""):
        def fetch():
            response = client.get(reverse(name) + query)
            assert response.status_code == 200
            if name == "console-reports-csv":
                assert len(response.content.decode().splitlines()) >= 2

        return fetch

    views = {
        "inbox": inbox,
        "reports by day": page("console-reports"),
        "reports by agent": page("console-reports", "?group=agent"),
        "reports by team": page("console-reports", "?group=team"),
        "csv": page("console-reports-csv", "?group=agent"),
        "gaps": page("console-gaps"),
    }
    add_sessions(10, agents)
    small = {name: count_queries(view) for name, view in views.items()}
    add_sessions(990, agents)
    assert SupportSession.objects.count() == 1000
    large = {name: count_queries(view) for name, view in views.items()}
    assert large == small
    assert max(small.values()) <= 12


def test_the_reports_page_shows_the_figures_of_those_sessions(client):
    agents = [StaffFactory(username="dana")]
    client.force_login(agents[0])
    add_sessions(12, agents)
    page = client.get(reverse("console-reports") + "?group=agent").content.decode()
    assert 'id="kpi-conversations">12<' in page
    assert "low_confidence 12" in page  # every session handed over for that reason
    assert page.count('<svg class="chart"') == 3
    csv_text = client.get(reverse("console-reports-csv") + "?group=agent").content.decode()
    header, *rows = csv_text.splitlines()
    assert header.startswith("group,conversations,ai_resolved")
    assert rows[-1].startswith("All,12,0,0.0000,low_confidence:12")


def test_reports_validate_their_input_and_are_for_staff_only(client):
    assert client.get(reverse("console-reports")).status_code == 302
    client.force_login(StaffFactory())
    for query in [
        "?start=2026-01-10&end=2026-01-01",
        "?start=2020-01-01&end=2026-01-01",
        "?group=bogus",
        "?start=yesterday",
    ]:
        assert client.get(reverse("console-reports") + query).status_code == 400, query
        assert client.get(reverse("console-reports-csv") + query).status_code == 400, query
