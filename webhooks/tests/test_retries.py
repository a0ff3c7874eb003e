"""Attempts, retries and disabling, driven attempt by attempt (the worker does it in full mode)."""

from __future__ import annotations

import pytest

from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services import delivery_attempt, endpoint_create, event_publish
from webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    settings.WEBHOOK_RETRY_SCHEDULE = [10, 60, 300, 900, 1800]  # 6 attempts
    settings.WEBHOOK_DISABLE_AFTER = 2
    # Not eager: attempts are made one by one below, as the worker would.
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    enqueued = []
    monkeypatch.setattr(
        "webhooks.services._enqueue",
        lambda delivery_id, attempt, countdown=0: enqueued.append((attempt, countdown)),
    )
    return enqueued


def publish(endpoint: WebhookEndpoint) -> WebhookDelivery:
    (delivery_id,) = event_publish(event_type="session.created", data={"session": {}})
    return WebhookDelivery.objects.get(pk=delivery_id)


def test_retries_until_success_and_logs_every_attempt(_no_broker):
    with Receiver(statuses=[500, 503]) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        delivery = publish(endpoint)
        assert delivery_attempt(delivery_id=delivery.pk, attempt=1) == DeliveryStatus.FAILED
        assert delivery_attempt(delivery_id=delivery.pk, attempt=2) == DeliveryStatus.FAILED
        assert delivery_attempt(delivery_id=delivery.pk, attempt=3) == DeliveryStatus.SUCCEEDED
        # A duplicate of a task (broker redelivery) sends nothing.
        assert delivery_attempt(delivery_id=delivery.pk, attempt=3) is None
        assert len(receiver.requests) == 3
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    codes = list(delivery.attempt_log.values_list("status_code", flat=True))
    assert codes == [500, 503, 200]
    # Attempts 2 and 3 were scheduled 10 s and 60 s (±10 %) later.
    first, second = _no_broker[1:3]
    assert first[0] == 2 and 9 <= first[1] <= 11
    assert second[0] == 3 and 54 <= second[1] <= 66


def test_gives_up_after_the_schedule_then_disables_the_endpoint():
    with Receiver(default=500) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        for _ in range(2):
            delivery = publish(endpoint)
            statuses = [delivery_attempt(delivery_id=delivery.pk, attempt=n) for n in range(1, 7)]
            assert statuses == [DeliveryStatus.FAILED] * 5 + [DeliveryStatus.GAVE_UP]
        assert len(receiver.requests) == 12
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.consecutive_failures == 2
    assert "2 consecutive failed deliveries" in endpoint.disabled_reason
    assert "HTTP 500" in endpoint.disabled_reason
    # Disabled: nothing more is published to it.
    assert event_publish(event_type="session.created", data={}) == []


def test_410_disables_at_once():
    with Receiver(default=410) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        delivery = publish(endpoint)
        assert delivery_attempt(delivery_id=delivery.pk, attempt=1) == DeliveryStatus.GAVE_UP
    endpoint.refresh_from_db()
    assert not endpoint.is_active and "410" in endpoint.disabled_reason


def test_success_resets_the_failure_count_and_reenabling_resets_the_reason():
    with Receiver(statuses=[500] * 6) as receiver:
        endpoint = endpoint_create(url=receiver.url, events=["session.created"]).endpoint
        delivery = publish(endpoint)
        for n in range(1, 7):
            delivery_attempt(delivery_id=delivery.pk, attempt=n)
        endpoint.refresh_from_db()
        assert endpoint.consecutive_failures == 1 and endpoint.is_active
        delivery = publish(endpoint)
        delivery_attempt(delivery_id=delivery.pk, attempt=1)
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.last_success_at is not None


def test_a_timeout_is_retried(settings):
    settings.WEBHOOK_TIMEOUT = 0.3
    import socket

    # A listener that accepts and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        endpoint = endpoint_create(
            url=f"http://127.0.0.1:{port}/x", events=["session.created"]
        ).endpoint
        delivery = publish(endpoint)
        assert delivery_attempt(delivery_id=delivery.pk, attempt=1) == DeliveryStatus.FAILED
    attempt = delivery.attempt_log.get()
    assert attempt.status_code is None and attempt.error.startswith("timeout")
    assert attempt.duration_ms < 2000


def test_overdue_deliveries_are_enqueued_again(_no_broker):
    from datetime import timedelta

    from django.utils import timezone

    from webhooks.services import deliveries_resume

    endpoint = endpoint_create(url="http://127.0.0.1:9/x", events=["session.created"]).endpoint
    lost = publish(endpoint)
    on_time = publish(endpoint)
    WebhookDelivery.objects.filter(pk=lost.pk).update(
        status=DeliveryStatus.FAILED,
        attempts=2,
        next_attempt_at=timezone.now() - timedelta(minutes=5),
    )
    WebhookDelivery.objects.filter(pk=on_time.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)
    )
    _no_broker.clear()
    assert deliveries_resume() == 1
    assert _no_broker == [(3, 0)]


def test_finished_deliveries_are_pruned_after_the_retention():
    from datetime import timedelta

    from django.utils import timezone

    from webhooks.services import deliveries_prune

    endpoint = endpoint_create(url="http://127.0.0.1:9/x", events=["session.created"]).endpoint
    old, pending, recent = publish(endpoint), publish(endpoint), publish(endpoint)
    long_ago = timezone.now() - timedelta(days=31)
    WebhookDelivery.objects.filter(pk=old.pk).update(status="succeeded", created_at=long_ago)
    WebhookDelivery.objects.filter(pk=pending.pk).update(created_at=long_ago)  # still retrying
    WebhookDelivery.objects.filter(pk=recent.pk).update(status="gave_up")
    assert deliveries_prune() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {pending.pk, recent.pk}


def test_a_name_that_does_not_resolve_at_send_time_is_retried(monkeypatch):
    import socket

    endpoint = endpoint_create(url="http://127.0.0.1:9/x", events=["session.created"]).endpoint
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url="http://hooks.invalid/x")
    delivery = publish(endpoint)

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("socket.getaddrinfo", no_dns)
    assert delivery_attempt(delivery_id=delivery.pk, attempt=1) == DeliveryStatus.FAILED
    assert "does not resolve" in delivery.attempt_log.get().error
