"""Webhooks end to end: real Daphne, real Celery worker, a real local HTTP receiver.

The worker runs with WEBHOOK_ALLOW_PRIVATE_TARGETS=1, a short retry schedule
(conftest.WEBHOOK_TEST_SCHEDULE) and WEBHOOK_DISABLE_AFTER=2 (tests/full/conftest.py).
The signature is checked with the very snippets printed in docs/api.md (Python and Node.js).
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import time
from pathlib import Path

import pytest
from django.db import transaction

from apikeys.services import api_key_create
from sessions_app.models import HandledBy, SessionStatus, SupportSession
from sessions_app.services import session_open
from tests.full.conftest import WEBHOOK_TEST_SCHEDULE, http
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.tests.receiver import Receiver

pytestmark = [pytest.mark.full, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.fixture(autouse=True)
def _local_targets(settings):
    # This process creates the endpoints (creation-time check); the worker sends.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True


def doc_snippet(marker: str, language: str) -> str:
    """Return the code block that follows ``<!-- marker -->`` in docs/api.md."""
    text = DOCS.read_text()
    match = re.search(rf"<!-- {marker} -->\n```{language}\n(.*?)```", text, re.DOTALL)
    assert match, f"docs/api.md has no {language} block after <!-- {marker} -->"
    return match.group(1)


def wait_until(check, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


def test_signed_delivery_verifies_with_the_documented_python_and_javascript(stack, tmp_path):
    with Receiver() as receiver:
        secret = endpoint_create(url=receiver.url, events=["session.created"]).secret
        created = http("POST", f"{stack.base_url}/api/v1/sessions/", json_body={})
        assert created.status == 201
        (request,) = receiver.wait_for(lambda requests: len(requests) == 1)

    body = json.loads(request.body)
    assert body["type"] == "session.created"
    assert body["data"]["session"]["id"] == created.body["id"]
    assert request.headers["X-Supportdesk-Event"] == "session.created"
    assert request.headers["Content-Type"] == "application/json"
    assert WebhookDelivery.objects.filter(pk=request.headers["X-Supportdesk-Delivery"]).exists()
    header = request.headers["X-Supportdesk-Signature"]
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)

    # Python: exec the snippet exactly as printed.
    namespace: dict = {}
    exec(compile(doc_snippet("verify-python", "python"), "docs/api.md", "exec"), namespace)  # noqa: S102
    verify = namespace["verify_signature"]
    assert verify(secret, request.body, header)
    assert not verify(secret, request.body + b" ", header)
    assert not verify("whsec_wrong", request.body, header)
    assert not verify(secret, request.body, header, tolerance=-1)  # outside the tolerance
    assert not verify(secret, request.body, "garbage")

    # JavaScript: run the snippet in Node.js against the same real delivery.
    (tmp_path / "body.bin").write_bytes(request.body)
    script = tmp_path / "verify.js"
    script.write_text(
        doc_snippet("verify-javascript", "javascript")
        + """
const fs = require("node:fs");
const [secret, header, bodyPath] = process.argv.slice(2);
const body = fs.readFileSync(bodyPath);
console.log(JSON.stringify({
  valid: verifySignature(secret, body, header),
  tampered: verifySignature(secret, Buffer.concat([body, Buffer.from(" ")]), header),
  wrongSecret: verifySignature("whsec_wrong", body, header),
  stale: verifySignature(secret, body, header, -1),
  garbage: verifySignature(secret, body, "t=1,v1=zz"),
}));
"""
    )
    result = subprocess.run(
        ["node", str(script), secret, header, str(tmp_path / "body.bin")],
        capture_output=True,
        text=True,
        timeout=20,
        check=True,
    )
    assert json.loads(result.stdout) == {
        "valid": True,
        "tampered": False,
        "wrongSecret": False,
        "stale": False,
        "garbage": False,
    }


def test_500_twice_then_200_is_one_successful_delivery_with_three_attempts(stack):
    with Receiver(statuses=[500, 500], default=200) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        with transaction.atomic():
            session_open()
        delivery = wait_until(
            lambda: WebhookDelivery.objects.filter(
                endpoint=endpoint, status=DeliveryStatus.SUCCEEDED
            ).first(),
            what="a succeeded delivery",
        )
        requests = list(receiver.requests)

    assert len(requests) == 3
    assert len({r.headers["X-Supportdesk-Delivery"] for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same event each time
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    assert delivery.attempts == 3
    log = list(delivery.attempt_log.order_by("number"))
    assert [a.number for a in log] == [1, 2, 3]
    assert [a.status_code for a in log] == [500, 500, 200]
    assert all(a.duration_ms >= 0 for a in log) and '"status": 500' in log[0].response_excerpt
    # Backoff observed at the receiver: each gap at least its scheduled delay minus jitter.
    gaps = [later.at - earlier.at for earlier, later in zip(requests, requests[1:], strict=False)]
    print(f"observed retry gaps (s): {[round(g, 3) for g in gaps]}")
    for gap, scheduled in zip(gaps, WEBHOOK_TEST_SCHEDULE, strict=False):
        assert gap >= scheduled * 0.9


def test_no_event_for_a_rolled_back_transaction(stack):
    class Rollback(Exception):
        pass

    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.created", "message.created"])
        with pytest.raises(Rollback), transaction.atomic():
            doomed = session_open(customer_name="Rolled Back").session
            raise Rollback()
        # A committed marker afterwards: once it has arrived, the doomed one would have too.
        with transaction.atomic():
            marker = session_open(customer_name="Committed").session
        receiver.wait_for(lambda requests: any(str(marker.pk) in r.body.decode() for r in requests))
        bodies = [r.body.decode() for r in receiver.requests]
    assert not any(str(doomed.pk) in body for body in bodies)
    assert len(bodies) == 1
    assert not WebhookDelivery.objects.filter(payload__data__session__id=str(doomed.pk)).exists()


def test_endpoint_disabled_after_repeated_failures_with_a_visible_reason(stack):
    key = api_key_create(name="monitor", scopes=["read"]).key
    with Receiver(default=500) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        with transaction.atomic():
            session_open()
            session_open()
        wait_until(
            lambda: not WebhookEndpoint.objects.get(pk=endpoint.pk).is_active,
            timeout=30,
            what="the endpoint disabled",
        )
        attempts = len(receiver.requests)
        # Disabled: a new event is not even recorded for it.
        with transaction.atomic():
            session_open()
        assert not WebhookDelivery.objects.filter(endpoint=endpoint, status="pending").exists()

    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert deliveries.count() == 2
    assert {d.status for d in deliveries} == {DeliveryStatus.GAVE_UP}
    assert attempts == 2 * (len(WEBHOOK_TEST_SCHEDULE) + 1)
    # The schedule as observed for one delivery (printed for docs/api.md).
    one = deliveries.first()
    starts = [a.started_at for a in one.attempt_log.order_by("number")]
    offsets = [round((s - starts[0]).total_seconds(), 2) for s in starts]
    print(f"observed attempt offsets (s): {offsets}")

    shown = http(
        "GET",
        f"{stack.base_url}/api/v1/webhooks/{endpoint.pk}/",
        headers={"Authorization": f"Api-Key {key}"},
    )
    assert shown.status == 200
    assert shown.body["is_active"] is False
    assert shown.body["disabled_reason"] == (
        "Disabled after 2 consecutive failed deliveries (last error: HTTP 500)."
    )


def test_delivery_latency_after_commit(stack):
    """100 events, one every 50 ms: time from commit to the receiver reading the body."""
    committed: dict[str, float] = {}
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["session.created"])
        for _ in range(100):
            with transaction.atomic():
                marks: list[float] = []
                transaction.on_commit(lambda marks=marks: marks.append(time.time()))
                session_id = str(session_open().session.pk)
            committed[session_id] = marks[0]
            time.sleep(0.05)  # pacing, not an assertion
        requests = receiver.wait_for(lambda requests: len(requests) >= 100, timeout=30)
    latencies = sorted(
        (r.at - committed[json.loads(r.body)["data"]["session"]["id"]]) * 1000 for r in requests
    )
    assert len(latencies) == 100
    p50 = statistics.median(latencies)
    p95 = latencies[94]
    print(
        f"webhook latency after commit: p50 {p50:.1f} ms, p95 {p95:.1f} ms,"
        f" max {latencies[-1]:.1f} ms"
    )
    assert p95 < 5000


def test_an_endpoint_added_here_gets_the_next_message_daphne_stores(stack):
    """Daphne caches which events have subscribers; an endpoint saved in another process (this
    one, like the admin's) bumps the shared version, so Daphne's very next message is sent."""
    opened = session_open()
    # Held by a person: no AI reply keeps the worker busy (or adds events) past the test.
    SupportSession.objects.filter(pk=opened.session.pk).update(
        handled_by=HandledBy.HUMAN, status=SessionStatus.ESCALATED
    )
    url = f"{stack.base_url}/api/v1/sessions/{opened.session.pk}/messages/"
    headers = {"Authorization": f"Session {opened.token}"}

    def post(content: str) -> None:
        response = http("POST", url, json_body={"content": content}, headers=headers)
        assert response.status == 201, response.body

    post("before any endpoint")  # Daphne now knows: no subscriber
    with Receiver() as receiver:
        endpoint_create(url=receiver.url, events=["message.created"])
        post("right after the endpoint")

        def contents(requests) -> list[str]:
            return [json.loads(r.body)["data"]["message"]["content"] for r in requests]

        requests = receiver.wait_for(lambda requests: len(requests) >= 1, timeout=20)
        # The worker records the delivery after the receiver answered: let it finish first.
        wait_until(
            lambda: not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists(),
            what="the delivery recorded",
        )
    assert contents(requests) == ["right after the endpoint"]
