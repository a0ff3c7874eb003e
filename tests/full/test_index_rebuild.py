"""A snapshot the engine cannot read (as after a deploy that changed it): replies hand over
instead of building on the reply path, and the real worker rebuilds the index meanwhile."""

from __future__ import annotations

import time

import pytest

from tests.full.conftest import http

pytestmark = pytest.mark.full

REFUND_QUESTION = "How long does a refund take?"
REFUND_TITLE = "When will I get my refund?"


def _ask(stack, question: str) -> dict:
    created = http(
        "POST", f"{stack.base_url}/api/v1/sessions/", json_body={"customer_name": "Rebuild"}
    )
    assert created.status == 201, created.body
    posted = http(
        "POST",
        f"{stack.base_url}/api/v1/sessions/{created.body['id']}/messages/?wait=20",
        json_body={"content": question},
        headers={"Authorization": f"Session {created.body['token']}"},
        timeout=30,
    )
    assert posted.status == 201, posted.body
    assert posted.body["reply"] is not None, "the worker did not answer within 20 s"
    return posted.body["reply"]


@pytest.mark.django_db(transaction=True)
def test_unreadable_index_hands_over_while_the_worker_rebuilds_it(stack, knowledge_base):
    from agents.models import KnowledgeIndexSnapshot
    from chat.models import Message

    assert _ask(stack, REFUND_QUESTION)["sources"][0]["title"] == REFUND_TITLE

    unreadable = KnowledgeIndexSnapshot.objects.create(
        fingerprint="from-another-engine", document_count=0, build_ms=0, data=b"not an index"
    )
    reply = _ask(stack, REFUND_QUESTION)
    assert reply["requires_escalation"] is True
    assert reply["sources"] == []
    reasons = Message.objects.get(pk=reply["id"]).metadata["reasons"]
    assert reasons == ["knowledge_index_unavailable"]

    # The worker was asked for a rebuild; a newer, readable snapshot appears.
    deadline = time.monotonic() + 60
    while not KnowledgeIndexSnapshot.objects.filter(pk__gt=unreadable.pk).exists():
        assert time.monotonic() < deadline, "the worker did not rebuild the index within 60 s"
        time.sleep(0.25)
    reply = _ask(stack, REFUND_QUESTION)
    assert reply["requires_escalation"] is False
    assert reply["sources"][0]["title"] == REFUND_TITLE
