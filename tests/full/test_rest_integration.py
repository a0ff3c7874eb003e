"""An integration over real HTTP (Daphne, Celery worker, PostgreSQL): an API key adds a
knowledge-base article, the worker rebuilds the index after commit, the AI answers from it;
then the key lists the conversation, replies and closes it."""

from __future__ import annotations

import time

import pytest

from tests.full.conftest import http

pytestmark = pytest.mark.full

QUESTION = "Can I bring my pet iguana to the store?"
TITLE = "Pets in our stores"


@pytest.mark.django_db(transaction=True)
def test_api_key_adds_an_article_the_ai_answers_from_it_and_the_key_answers(stack, knowledge_base):
    from agents.models import KnowledgeIndexSnapshot
    from apikeys.services import api_key_create

    key = api_key_create(name="CRM", scopes=["read", "write"]).key
    auth = {"Authorization": f"Api-Key {key}"}
    api = f"{stack.base_url}/api/v1"
    before = KnowledgeIndexSnapshot.objects.order_by("-pk").values_list("pk", flat=True).first()

    created = http(
        "POST",
        f"{api}/kb/articles/",
        json_body={
            "slug": "pets",
            "title": TITLE,
            "body": "Pets such as iguanas, dogs and cats are welcome in all our stores.",
            "examples": [QUESTION, "are pets allowed in the shop", "can my iguana come in"],
        },
        headers=auth,
    )
    assert created.status == 201, created.body

    # The worker rebuilds the index after the commit (never before: the row must exist).
    deadline = time.monotonic() + 60
    while not KnowledgeIndexSnapshot.objects.filter(pk__gt=before or 0).exists():
        assert time.monotonic() < deadline, "the worker did not rebuild the index within 60 s"
        time.sleep(0.25)

    session = http("POST", f"{api}/sessions/", json_body={"customer_name": "Iggy Owner"}).body
    customer = {"Authorization": f"Session {session['token']}"}
    asked = http(
        "POST",
        f"{api}/sessions/{session['id']}/messages/?wait=20",
        json_body={"content": QUESTION},
        headers=customer,
        timeout=30,
    )
    assert asked.status == 201, asked.body
    assert asked.body["reply"] is not None, "no reply within 20 s"
    assert asked.body["reply"]["sources"][0]["title"] == TITLE

    # The integration finds the conversation by its words, answers it, and closes it.
    found = http("GET", f"{api}/sessions/?search=iguana&status=open", headers=auth)
    assert [row["id"] for row in found.body["results"]] == [session["id"]]
    reply = http(
        "POST",
        f"{api}/sessions/{session['id']}/messages/",
        json_body={"content": "Yes, iguanas are welcome!", "client_msg_id": "crm-1"},
        headers=auth,
    )
    assert (reply.status, reply.body["role"]) == (201, "agent")
    closed = http("POST", f"{api}/sessions/{session['id']}/close/", headers=auth)
    assert closed.body["status"] == "closed"
    transcript = http("GET", f"{api}/sessions/{session['id']}/messages/", headers=customer).body
    roles = [m["role"] for m in transcript["results"]]
    assert roles[:2] == ["customer", "assistant"] and "agent" in roles
