"""Macros and canned-response placeholders: safe rendering, REST management, applying."""

from __future__ import annotations

import pytest

from chat.macros import macro_apply, macro_create
from chat.models import CannedResponse, Macro, Message
from chat.placeholders import placeholder_context, placeholders_check, placeholders_render
from chat.services import message_create
from sessions_app.models import Label, SupportSession
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db


def test_placeholders_are_plain_substitution_never_template_code():
    context = {"customer.name": "<b>{{agent.name}}</b>", "agent.name": "Dana"}
    text = "Hi {{ customer.name }}, {{agent.name}} here. {{ customer.email | no email }}"
    # The value is inserted as typed: not re-expanded, not escaped (messages are plain text).
    assert placeholders_render(text, context) == "Hi <b>{{agent.name}}</b>, Dana here. no email"
    assert placeholders_check(text) == []
    assert placeholders_check("{% load x %}{{ settings.SECRET_KEY }} {{customer.nam}}") == [
        "unknown placeholder '{% load x %}'",
        "unknown placeholder '{{ settings.SECRET_KEY }}'",
        "unknown placeholder '{{customer.nam}}'",
    ]


def test_context_reads_the_customer_the_agent_and_the_last_cited_article(settings):
    settings.ARTICLE_URL_TEMPLATE = "https://help.example.com/a/{slug}"
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory(customer_name="Casey Jones")
    message_create(
        session_id=session.pk,
        role="assistant",
        content="See the refund article.",
        sources=[{"article_id": 1, "title": "Refunds", "score": 0.9, "slug": "refunds"}],
    )
    context = placeholder_context(session=session, agent=agent)
    assert context["customer.first_name"] == "Casey" and context["agent.name"] == "Dana Lee"
    assert context["article.url"] == "https://help.example.com/a/refunds"
    assert context["article.title"] == "Refunds"
    # Without a template: the desk's own help-center page.
    settings.ARTICLE_URL_TEMPLATE = ""
    settings.SUPPORT_PUBLIC_URL = "https://desk.example.com"
    context = placeholder_context(session=session, agent=agent)
    assert context["article.url"] == "https://desk.example.com/help/refunds/"


def test_canned_responses_refuse_unknown_placeholders_and_render_per_session():
    staff_user = StaffFactory(first_name="Dana", last_name="Lee")
    staff = api_client("staff", user=staff_user)
    bad = {"shortcut": "x", "title": "X", "body": "Hi {{customer.password}}"}
    assert_error(staff.post("/api/v1/canned-responses/", bad, format="json"), 400, "invalid_field")
    canned = CannedResponse.objects.create(
        shortcut="hi",
        title="Hi",
        body="Hi {{customer.first_name|there}}, {{agent.first_name}} here.",
    )
    session = SupportSessionFactory(customer_name="")
    rendered = staff.get(f"/api/v1/sessions/{session.pk}/canned-responses/{canned.pk}/").json()
    assert rendered["text"] == "Hi there, Dana here."


def test_macro_reply_labels_priority_and_close_in_one_call():
    agent = StaffFactory(first_name="Dana", last_name="Lee")
    refund = Label.objects.create(name="refund")
    staff = api_client("staff", user=agent)
    created = staff.post(
        "/api/v1/macros/",
        {
            "name": "Refund policy",
            "body": "Hi {{customer.first_name}}, refunds take 5 days. {{agent.name}}",
            "labels": ["refund"],
            "priority": "low",
            "status": "closed",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["labels"][0]["name"] == "refund"
    session = SupportSessionFactory(customer_name="Casey Jones", status="escalated")
    applied = staff.post(f"/api/v1/sessions/{session.pk}/macros/{created.json()['id']}/apply/")
    assert applied.status_code == 200, applied.content
    body = applied.json()
    assert body["message"]["content"] == "Hi Casey, refunds take 5 days. Dana Lee"
    assert body["message"]["role"] == "agent" and body["message"]["author"]["id"] == agent.pk
    assert body["session"]["status"] == "closed" and body["session"]["priority"] == "low"
    assert [label["id"] for label in body["session"]["labels"]] == [refund.pk]
    # Reply before the close: the customer read it before the rating prompt.
    events = list(
        Message.objects.filter(session=session)
        .order_by("seq")
        .values_list("metadata__event", flat=True)
    )
    assert events == ["taken_over", None, "closed"]


def test_a_macro_on_another_agents_session_changes_nothing():
    holder, other = StaffFactory(), StaffFactory()
    session = SupportSessionFactory(status="escalated", handled_by="human", assignee=holder)
    macro = macro_create(
        name="Tag and reply",
        body="Hello",
        labels=[Label.objects.create(name="vip")],
        priority="urgent",
    )
    response = api_client("staff", user=other).post(
        f"/api/v1/sessions/{session.pk}/macros/{macro.pk}/apply/"
    )
    assert_error(response, 409, "already_assigned")
    unchanged = SupportSession.objects.get(pk=session.pk)
    assert unchanged.priority == "none" and unchanged.labels.count() == 0
    assert not Message.objects.filter(session=session).exists()


def test_macro_validation():
    staff = api_client("staff")
    assert_error(
        staff.post("/api/v1/macros/", {"name": "Empty"}, format="json"), 400, "invalid_field"
    )
    assert_error(
        staff.post("/api/v1/macros/", {"name": "L", "labels": ["missing"]}, format="json"),
        400,
        "invalid_field",
    )
    assert_error(
        staff.post("/api/v1/macros/", {"name": "T", "body": "{{ agent.secret }}"}, format="json"),
        400,
        "invalid_field",
    )
    Macro.objects.create(name="Taken", status="closed")
    assert_error(
        staff.post("/api/v1/macros/", {"name": "Taken", "status": "closed"}, format="json"),
        409,
        "macro_exists",
    )


def test_macro_back_to_the_ai_reopens_a_closed_session_then_releases_it():
    session = SupportSessionFactory(status="closed", handled_by="human", assignee=StaffFactory())
    macro = macro_create(name="Back to AI", status="open")
    macro_apply(macro=macro, session_id=session.pk, user=None, api_key_name="crm")
    back = SupportSession.objects.get(pk=session.pk)
    assert (back.status, back.handled_by, back.assignee) == ("open", "ai", None)
