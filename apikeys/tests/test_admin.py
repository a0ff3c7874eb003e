"""The API key admin: the key is shown once and stored hashed; revoke; the list's columns."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from apikeys.services import api_key_create, key_hash
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/apikeys/apikey/add/"
LIST = "/admin/apikeys/apikey/"


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_adding_a_key_shows_it_once_and_stores_only_its_hash(admin_client):
    response = admin_client.post(
        ADD, {"name": "CRM sync", "scopes": ["read", "write"]}, follow=True
    )
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    text = response.content.decode()
    match = re.search(r"sd_[0-9a-f]{12}_[A-Za-z0-9_-]+", text)
    assert match, shown
    key = match.group(0)
    row = ApiKey.objects.get(name="CRM sync")
    assert (row.key_hash, row.scopes, row.created_by.is_superuser) == (
        key_hash(key),
        ["read", "write"],
        True,
    )
    # It works, and no later page shows it again.
    assert (
        APIClient().get("/api/v1/sessions/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    )
    assert key not in admin_client.get(LIST).content.decode()
    assert key not in admin_client.get(f"{LIST}{row.pk}/change/").content.decode()


def test_a_key_needs_a_scope(admin_client):
    response = admin_client.post(ADD, {"name": "nothing", "scopes": []})
    assert response.status_code == 200  # the form again, with its error
    assert not ApiKey.objects.exists()


def test_revoke_action_stops_the_key(admin_client):
    created = api_key_create(name="old", scopes=["read"])
    response = admin_client.post(
        LIST, {"action": "revoke", "_selected_action": [created.api_key.pk]}, follow=True
    )
    assert response.status_code == 200
    assert ApiKey.objects.get(pk=created.api_key.pk).revoked_at is not None
    refused = APIClient().get("/api/v1/sessions/", HTTP_AUTHORIZATION=f"Api-Key {created.key}")
    assert refused.status_code == 401


def test_list_shows_prefix_scopes_last_used_and_revoked(admin_client):
    created = api_key_create(name="listed", scopes=["read", "ops"])
    text = admin_client.get(LIST).content.decode()
    assert created.api_key.prefix in text
    assert "read, ops" in text
    assert "Last used at" in text or "last used" in text.lower()
    assert "revoked" in text.lower()
