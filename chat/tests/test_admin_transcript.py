"""The session admin's transcript: a conversation (bubbles by role), rich text, linked sources."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from chat import selectors
from chat.services import message_create, note_add
from sessions_app import services
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def _page(client, session) -> str:
    response = client.get(reverse("admin:sessions_app_supportsession_change", args=[session.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _bubbles(html: str) -> list[tuple[str, str]]:
    """(classes, inner html) of each transcript item, in page order."""
    section = html.split('id="sd-transcript-title"', 1)[1]
    return re.findall(
        r'<li class="sd-msg ([^"]+)" data-seq="\d+">(.*?)</li>\s*(?=<li|</ol>)', section, re.S
    )


def test_transcript_is_a_conversation_with_authors_rich_text_and_linked_sources(admin_client):
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory(customer_name="Ada")
    message_create(session_id=session.pk, role="customer", content="Is **this** <b>safe</b>?")
    message_create(
        session_id=session.pk,
        role="assistant",
        content="See https://shop.example/returns",
        sources=[{"article_id": 1, "title": "Returns", "score": 0.8, "url": "/help/returns/"}],
        confidence=0.8123,
        metadata={"reasons": []},
    )
    services.session_take_over(session_id=session.pk, user=agent)
    message_create(session_id=session.pk, role="agent", content="Hi, *Dana* here", author=agent)
    note_add(session_id=session.pk, user=agent, content="VIP customer")

    html = _page(admin_client, session)
    bubbles = _bubbles(html)

    roles = [classes.split()[0] for classes, _ in bubbles]
    assert roles == [
        "sd-msg-customer",
        "sd-msg-assistant",
        "sd-msg-system",  # the take-over note of the timeline
        "sd-msg-agent",
        roles[-1],
    ]
    assert "sd-msg-note" in bubbles[-1][0] and ">Note<" in bubbles[-1][1]
    customer, assistant, _, reply, _ = (inner for _, inner in bubbles)
    assert "Ada" in customer
    assert "<strong>this</strong>" in customer and "&lt;b&gt;safe&lt;/b&gt;" in customer
    assert "AI assistant" in assistant and "Confidence 81%" in assistant
    assert '<a href="/help/returns/" target="_blank" rel="noopener">Returns</a>' in assistant
    assert 'href="https://shop.example/returns" target="_blank"' in assistant
    assert "Dana Lee" in reply and "<em>Dana</em>" in reply
    assert re.search(r"<time datetime=\"[^\"]+\">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d</time>", reply)
    # The old table inline is gone.
    assert "messages-group" not in html and "Messages</h2>" not in html


def test_transcript_is_one_bounded_query_however_long(
    admin_client, django_assert_max_num_queries, monkeypatch
):
    session = SupportSessionFactory()
    for n in range(12):
        message_create(session_id=session.pk, role="customer", content=f"question {n}")
    monkeypatch.setattr(selectors, "TRANSCRIPT_LIMIT", 5)

    with django_assert_max_num_queries(25):
        html = _page(admin_client, session)

    shown = [int(n) for n in re.findall(r'class="sd-msg [^"]+" data-seq="(\d+)"', html)]
    assert shown == list(range(8, 13))  # the newest five, in order
    assert "Showing the last 5 of 12 messages" in html
