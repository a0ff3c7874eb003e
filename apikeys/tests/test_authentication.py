"""API key authentication: format, hashing, revocation, last-used writes, scopes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apikeys.models import ApiKey
from apikeys.services import api_key_create, api_key_revoke, key_hash
from tests.factories import SupportSessionFactory

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions/"


def key_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_key_is_stored_only_hashed():
    created = api_key_create(name="CRM", scopes=["read"])
    row = ApiKey.objects.get(pk=created.api_key.pk)
    assert created.key.startswith(f"sd_{row.prefix}_")
    assert row.key_hash == key_hash(created.key)
    assert created.key not in str(ApiKey.objects.filter(pk=row.pk).values().get())


def test_valid_key_lists_sessions():
    SupportSessionFactory()
    created = api_key_create(name="CRM", scopes=["read"])
    response = key_client(created.key).get(SESSIONS)
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    "header",
    [
        "Api-Key ",
        "Api-Key garbage",
        "Api-Key sd_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Api-Key sd_zz_short",
    ],
)
def test_malformed_or_unknown_key_is_401_in_the_error_shape(header, caplog):
    api_key_create(name="CRM", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_right_prefix_wrong_secret_is_401():
    created = api_key_create(name="CRM", scopes=["read"])
    forged = created.key[:-4] + ("AAAA" if not created.key.endswith("AAAA") else "BBBB")
    response = key_client(forged).get(SESSIONS)
    assert response.status_code == 401


def test_revoked_key_is_401_and_logged_by_prefix_only(caplog):
    created = api_key_create(name="CRM", scopes=["read"])
    assert api_key_revoke(api_key_id=created.api_key.pk)
    with caplog.at_level("INFO", logger="apikeys"):
        response = key_client(created.key).get(SESSIONS)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert created.api_key.prefix in logged
    assert created.key not in logged


def test_last_used_is_written_at_most_once_a_minute():
    created = api_key_create(name="CRM", scopes=["read"])
    client = key_client(created.key)
    assert client.get(SESSIONS).status_code == 200
    first = ApiKey.objects.get(pk=created.api_key.pk).last_used_at
    assert first is not None
    assert client.get(SESSIONS).status_code == 200
    assert ApiKey.objects.get(pk=created.api_key.pk).last_used_at == first
    # An hour later the next request writes it again.
    ApiKey.objects.filter(pk=created.api_key.pk).update(last_used_at=first - timedelta(hours=1))
    assert client.get(SESSIONS).status_code == 200
    assert ApiKey.objects.get(pk=created.api_key.pk).last_used_at > first - timedelta(minutes=1)


def test_fresh_key_request_costs_no_write(django_assert_num_queries):
    SupportSessionFactory()
    created = api_key_create(name="CRM", scopes=["read"])
    ApiKey.objects.filter(pk=created.api_key.pk).update(last_used_at=timezone.now())
    # key lookup + count + page + the page's labels (prefetched): no UPDATE of last_used_at.
    with django_assert_num_queries(4):
        assert key_client(created.key).get(SESSIONS).status_code == 200


def test_key_without_the_scope_is_403():
    created = api_key_create(name="Ops bot", scopes=["ops"])
    response = key_client(created.key).get(SESSIONS)
    assert response.status_code == 403
    assert "read" in response.json()["error"]["detail"]


def test_apikey_create_command_prints_a_working_key():
    out = StringIO()
    call_command(
        "apikey_create", "--name", "ci", "--scopes", "read,ops", stdout=out, stderr=StringIO()
    )
    key = out.getvalue().strip()
    assert key_client(key).get(SESSIONS).status_code == 200
    assert ApiKey.objects.get(name="ci").scopes == ["read", "ops"]
