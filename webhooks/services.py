"""Webhook state changes: endpoints, publishing events as deliveries, attempts and retries.

Events are published from receivers of the lower apps' domain signals, which fire only after
the change committed; each subscribed endpoint gets a delivery row, and a Celery task per
delivery sends it. Every attempt claims the delivery with a conditional UPDATE, so a task
that runs twice (a broker redelivery, the resume sweep) sends nothing twice.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from supportdesk import metrics
from supportdesk.conf import app_setting

from . import client
from .guard import UnresolvableHost, UnsafeTarget, target_check, url_validate
from .models import DeliveryStatus, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .signing import secret_generate, signature_header

logger = logging.getLogger(__name__)

# A delivery whose next attempt is this late is taken to have lost its task (broker outage,
# lost countdown) and is enqueued again by webhooks.tasks.deliveries_resume.
RESUME_GRACE = timedelta(seconds=60)


class EndpointDisabled(Exception):
    """A delivery to a disabled endpoint was asked for (re-enable it first)."""

    code = "endpoint_disabled"
    detail = "The endpoint is disabled; re-enable it before redelivering."


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once to whoever created the endpoint


def retry_schedule() -> list[float]:
    """Return the delays (seconds) before attempts 2, 3, …: WEBHOOK_RETRY_SCHEDULE."""
    value = app_setting("WEBHOOK_RETRY_SCHEDULE")
    if isinstance(value, str):
        value = value.split(",")
    return [float(item) for item in value]


def events_clean(events: Any) -> list[str]:
    """Return the subscribed event types, deduplicated, in a stable order; ValueError if bad."""
    if not isinstance(events, list | tuple) or not events:
        raise ValueError("Subscribe to at least one event type.")
    unknown = [event for event in events if event not in EventType.values]
    if unknown:
        raise ValueError(f"Unknown event types: {', '.join(map(str, unknown))}.")
    return [event for event in EventType.values if event in events]


@transaction.atomic
def endpoint_create(
    *, url: str, events: list[str], description: str = "", is_active: bool = True
) -> CreatedEndpoint:
    """Create an endpoint with a new secret; UnsafeTarget or ValueError on bad input."""
    secret = secret_generate()
    endpoint = WebhookEndpoint.objects.create(
        url=url_validate(url),
        events=events_clean(events),
        description=description,
        is_active=is_active,
        secret=secret,
    )
    logger.info("Webhook endpoint %s created for %s", endpoint.pk, endpoint.url)
    return CreatedEndpoint(endpoint=endpoint, secret=secret)


@transaction.atomic
def endpoint_update(*, endpoint_id: int, **changes: Any) -> WebhookEndpoint:
    """Change an endpoint's url, events, description or is_active; re-enabling resets failures."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if "url" in changes:
        endpoint.url = url_validate(changes["url"])
    if "events" in changes:
        endpoint.events = events_clean(changes["events"])
    if "description" in changes:
        endpoint.description = changes["description"]
    if "is_active" in changes:
        if changes["is_active"] and not endpoint.is_active:
            endpoint.consecutive_failures = 0
            endpoint.disabled_reason = ""
            endpoint.disabled_at = None
        elif not changes["is_active"] and endpoint.is_active:
            endpoint.disabled_reason = "Disabled by staff."
            endpoint.disabled_at = timezone.now()
        endpoint.is_active = bool(changes["is_active"])
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint_id: int) -> None:
    """Delete an endpoint and its delivery log."""
    WebhookEndpoint.objects.filter(pk=endpoint_id).delete()


# --- Publishing -----------------------------------------------------------------------------


def event_publish(*, event_type: str, data: dict) -> list[uuid.UUID]:
    """Record one delivery of the event per active subscribed endpoint; enqueue them after commit.

    Returns the delivery ids. Call it only once the change the event describes is committed.
    """
    endpoints = [
        endpoint.pk
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    now = timezone.now()
    payload = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                event_id=payload["id"],
                event_type=event_type,
                payload=payload,
                next_attempt_at=now,
            )
            for endpoint_id in endpoints
        )
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: [_enqueue(delivery_id, 1) for delivery_id in ids])
    return ids


def _enqueue(delivery_id: uuid.UUID, attempt: int, countdown: float = 0) -> None:
    from .tasks import delivery_attempt  # tasks import this module

    try:
        delivery_attempt.apply_async((str(delivery_id), attempt), countdown=countdown)
    except Exception as error:  # broker down: the resume sweep enqueues it later
        logger.warning("Could not enqueue webhook delivery %s: %r", delivery_id, error)


# --- Sending --------------------------------------------------------------------------------


def _claim(delivery_id: uuid.UUID | str, attempt: int) -> bool:
    timeout = float(app_setting("WEBHOOK_TIMEOUT"))
    # While the attempt runs, next_attempt_at is its lease: the resume sweep leaves it alone.
    lease = timezone.now() + timedelta(seconds=3 * timeout) + RESUME_GRACE
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id,
            attempts=attempt - 1,
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
        ).update(attempts=attempt, next_attempt_at=lease)
    )


def delivery_attempt(*, delivery_id: uuid.UUID | str, attempt: int) -> str | None:
    """Make attempt number ``attempt`` of a delivery; return its new status (None: not ours).

    2xx: succeeded. 410: the endpoint is disabled at once. Anything else (status, timeout,
    refused connection) schedules the next attempt from WEBHOOK_RETRY_SCHEDULE, with jitter,
    until none is left; then the delivery gives up and counts against its endpoint.
    """
    if not _claim(delivery_id, attempt):
        logger.info("Webhook delivery %s attempt %s already made; skipped", delivery_id, attempt)
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint = delivery.endpoint
    started_at = timezone.now()
    if not endpoint.is_active:
        WebhookAttempt.objects.create(
            delivery=delivery, number=attempt, started_at=started_at, error="endpoint disabled"
        )
        return _finish(delivery, DeliveryStatus.GAVE_UP, count_failure=False)

    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        target = target_check(endpoint.url)
    except UnresolvableHost as error:
        # DNS trouble is usually transient: a failed attempt like a timeout, retried.
        return _attempt_record(
            delivery, attempt, client.SendResult(None, 0, error=str(error)[:300]), started_at
        )
    except UnsafeTarget as error:
        # Not transient: the name now points somewhere we never connect to (or the address
        # rules changed). No connection is made.
        logger.warning("Webhook delivery %s refused: %s", delivery.pk, error)
        WebhookAttempt.objects.create(
            delivery=delivery, number=attempt, started_at=started_at, error=str(error)[:300]
        )
        metrics.WEBHOOK_DELIVERIES.labels(outcome="refused").inc()
        return _finish(delivery, DeliveryStatus.GAVE_UP, reason=str(error))

    headers = {
        "Content-Type": "application/json",
        "User-Agent": "supportdesk-webhooks/1",
        "X-Supportdesk-Event": delivery.event_type,
        "X-Supportdesk-Delivery": str(delivery.pk),
        "X-Supportdesk-Signature": signature_header(
            secret=endpoint.secret, body=body, timestamp=int(time.time())
        ),
    }
    result = client.post(target=target, body=body, headers=headers)
    return _attempt_record(delivery, attempt, result, started_at)


def _attempt_record(
    delivery: WebhookDelivery, attempt: int, result: client.SendResult, started_at
) -> str:
    """Log the attempt, then finish the delivery or schedule its next attempt."""
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=attempt,
        started_at=started_at,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        response_excerpt=result.response_excerpt,
        error=result.error,
    )
    what = f"HTTP {result.status_code}" if result.status_code else result.error
    if result.status_code is not None and 200 <= result.status_code < 300:
        metrics.WEBHOOK_DELIVERIES.labels(outcome="succeeded").inc()
        return _finish(delivery, DeliveryStatus.SUCCEEDED)
    if result.status_code == 410:
        metrics.WEBHOOK_DELIVERIES.labels(outcome="gone").inc()
        _disable(delivery.endpoint_id, "The endpoint answered 410 Gone.")
        return _finish(delivery, DeliveryStatus.GAVE_UP, count_failure=False)
    schedule = retry_schedule()
    if attempt <= len(schedule):
        jitter = float(app_setting("WEBHOOK_RETRY_JITTER"))
        delay = schedule[attempt - 1] * (1 + random.uniform(-jitter, jitter))
        logger.info(
            "Webhook delivery %s attempt %s failed (%s); retry in %.1f s",
            delivery.pk,
            attempt,
            what,
            delay,
        )
        metrics.WEBHOOK_DELIVERIES.labels(outcome="retried").inc()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        )
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            # Eagerly (embedded mode) a countdown is ignored and the retries would run at
            # once inside the request; there the resume sweep or a redelivery sends it again.
            _enqueue(delivery.pk, attempt + 1, countdown=delay)
        return DeliveryStatus.FAILED
    logger.warning(
        "Webhook delivery %s gave up after %s attempts (last: %s)", delivery.pk, attempt, what
    )
    metrics.WEBHOOK_DELIVERIES.labels(outcome="gave_up").inc()
    return _finish(delivery, DeliveryStatus.GAVE_UP, reason=what)


def _finish(
    delivery: WebhookDelivery, status: str, *, reason: str = "", count_failure: bool = True
) -> str:
    now = timezone.now()
    with transaction.atomic():
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, completed_at=now, next_attempt_at=None
        )
        endpoints = WebhookEndpoint.objects.filter(pk=delivery.endpoint_id)
        if status == DeliveryStatus.SUCCEEDED:
            endpoints.update(consecutive_failures=0, last_success_at=now)
        elif count_failure:
            endpoints.update(
                consecutive_failures=F("consecutive_failures") + 1,
                total_failures=F("total_failures") + 1,
                last_failure_at=now,
            )
            limit = int(app_setting("WEBHOOK_DISABLE_AFTER"))
            failures = endpoints.values_list("consecutive_failures", flat=True).first() or 0
            if limit > 0 and failures >= limit:
                _disable(
                    delivery.endpoint_id,
                    f"Disabled after {failures} consecutive failed deliveries "
                    f"(last error: {reason}).",
                )
    return status


def _disable(endpoint_id: int, reason: str) -> None:
    updated = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True).update(
        is_active=False, disabled_reason=reason[:300], disabled_at=timezone.now()
    )
    if updated:
        # WARNING: an integration stopped receiving events; someone should look.
        logger.warning("Webhook endpoint %s disabled: %s", endpoint_id, reason)


@transaction.atomic
def delivery_redeliver(*, delivery_id: uuid.UUID | str) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint, as a new delivery (same event id)."""
    original = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if not original.endpoint.is_active:
        raise EndpointDisabled()
    delivery = WebhookDelivery.objects.create(
        endpoint=original.endpoint,
        event_id=original.event_id,
        event_type=original.event_type,
        payload=original.payload,
        next_attempt_at=timezone.now(),
        redelivery_of=original,
    )
    transaction.on_commit(lambda: _enqueue(delivery.pk, 1))
    logger.info("Webhook delivery %s redelivered as %s", original.pk, delivery.pk)
    return delivery


def deliveries_resume() -> int:
    """Enqueue again deliveries whose next attempt is overdue (their task was lost)."""
    cutoff = timezone.now() - RESUME_GRACE
    overdue = list(
        WebhookDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.FAILED),
            next_attempt_at__lt=cutoff,
        ).values_list("pk", "attempts")[:500]
    )
    for delivery_id, attempts in overdue:
        _enqueue(delivery_id, attempts + 1)
    if overdue:
        logger.warning("Re-enqueued %d overdue webhook deliveries", len(overdue))
    return len(overdue)


def deliveries_prune(*, older_than_days: int | None = None) -> int:
    """Delete finished deliveries (and their attempts) older than WEBHOOK_LOG_RETENTION_DAYS."""
    days = int(
        app_setting("WEBHOOK_LOG_RETENTION_DAYS") if older_than_days is None else older_than_days
    )
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    _, per_model = WebhookDelivery.objects.filter(
        status__in=[DeliveryStatus.SUCCEEDED, DeliveryStatus.GAVE_UP], created_at__lt=cutoff
    ).delete()
    deleted = per_model.get(WebhookDelivery._meta.label, 0)
    if deleted:
        logger.info("Pruned %d webhook delivery log rows older than %d days", deleted, days)
    return deleted
