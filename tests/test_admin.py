"""The admin as back office: every changelist and change page renders, with bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import Article, ArticleExample
from chat.models import CannedResponse, Connection, Message
from chat.services import message_create, note_add
from sessions_app import services
from sessions_app.models import SupportSession
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def back_office(client):
    admin = StaffFactory(is_superuser=True, first_name="Maya", last_name="Manager")
    agents = [StaffFactory() for _ in range(3)]
    for n in range(12):
        session = SupportSessionFactory(customer_name=f"Customer {n}")
        for i in range(4):
            message_create(session_id=session.pk, role="customer", content=f"question {i}")
            message_create(
                session_id=session.pk,
                role="assistant",
                content=f"answer {i}",
                sources=[{"article_id": 1, "title": "A", "score": 0.9}],
                confidence=0.9,
                metadata={"reasons": []},
            )
        if n % 3 == 0:
            services.session_take_over(session_id=session.pk, user=agents[n % 3])
            note_add(session_id=session.pk, user=agents[n % 3], content="note")
        if n % 4 == 0:
            services.session_close(session_id=session.pk)
            services.session_rate(session_id=session.pk, csat=4)
        Connection.objects.create(
            channel_name=f"chan-{n}", kind="customer", session=session, last_seen_at=timezone.now()
        )
    for n in range(5):
        article = Article.objects.create(slug=f"a-{n}", title=f"Article {n}", body="Body.")
        ArticleExample.objects.create(article=article, text=f"example {n}")
    CannedResponse.objects.create(shortcut="hello", title="Hello", body="Hi!")
    client.force_login(admin)
    return client


PAGES = [
    ("sessions_app", "supportsession", SupportSession),
    ("chat", "message", Message),
    ("chat", "connection", Connection),
    ("chat", "cannedresponse", CannedResponse),
    ("agents", "article", Article),
]


@pytest.mark.parametrize(("app", "model", "cls"), PAGES)
def test_changelist_renders_with_bounded_queries(
    back_office, django_assert_max_num_queries, app, model, cls
):
    with django_assert_max_num_queries(12):
        response = back_office.get(reverse(f"admin:{app}_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize(("app", "model", "cls"), PAGES)
def test_change_page_renders(back_office, django_assert_max_num_queries, app, model, cls):
    obj = cls.objects.order_by("pk").first()
    with django_assert_max_num_queries(25):
        response = back_office.get(reverse(f"admin:{app}_{model}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_session_page_shows_transcript_in_order_with_csat(back_office):
    session = SupportSession.objects.filter(csat=4).first()
    response = back_office.get(
        reverse("admin:sessions_app_supportsession_change", args=[session.pk])
    )
    body = response.content.decode()
    positions = [body.index(f"question {i}") for i in range(4)]
    assert positions == sorted(positions)
    assert "4" in body and "closed" in body.lower()


def test_session_changelist_filters_by_status(back_office):
    response = back_office.get(
        reverse("admin:sessions_app_supportsession_changelist"), {"status__exact": "closed"}
    )
    assert response.context["cl"].result_count == 3


def test_admin_actions_go_through_the_services(back_office):
    session = SupportSession.objects.filter(status="open").first()
    url = reverse("admin:sessions_app_supportsession_changelist")
    back_office.post(url, {"action": "escalate", "_selected_action": [session.pk]})
    session.refresh_from_db()
    assert session.status == "escalated"
    assert Message.objects.filter(session=session, metadata__event="escalated").exists()
    back_office.post(url, {"action": "close", "_selected_action": [session.pk]})
    session.refresh_from_db()
    assert session.status == "closed"
