"""The webhooks admin: secret shown once, SSRF refusal in the form, delivery log, redeliver."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import transaction

from sessions_app.services import session_open
from tests.factories import StaffFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create
from webhooks.tests.receiver import Receiver

ADD = "/admin/webhooks/webhookendpoint/add/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_adding_an_endpoint_shows_its_secret_once(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    response = admin_client.post(
        ADD,
        {"url": "http://127.0.0.1:9/hooks", "events": ["session.created"], "is_active": "on"},
        follow=True,
    )
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(endpoint.secret in message for message in shown)
    change_page = admin_client.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.secret not in change_page.content.decode()


def test_the_form_refuses_private_targets(admin_client):
    response = admin_client.post(
        ADD, {"url": "http://169.254.169.254/", "events": ["session.created"], "is_active": "on"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Refused target" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_delivery_log_and_redeliver_action(admin_client, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    with Receiver(default=500) as receiver:
        endpoint_create(url=receiver.url, events=["session.created"])
        with transaction.atomic():
            session_open()
        delivery = WebhookDelivery.objects.get()
        listing = admin_client.get(DELIVERIES, {"status__exact": "failed"})
        assert listing.status_code == 200 and str(delivery.pk) in listing.content.decode()
        page = admin_client.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()
        assert "500" in page and "received" in page  # the attempt inline with its excerpt
        admin_client.post(
            DELIVERIES, {"action": "redeliver", "_selected_action": [str(delivery.pk)]}
        )
        assert len(receiver.requests) == 2
        assert WebhookDelivery.objects.filter(redelivery_of=delivery).count() == 1
