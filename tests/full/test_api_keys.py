"""API keys over real processes: one key's budget is shared by every process (Redis cache)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.full.conftest import http, subprocess_env
from tests.servers import start_daphne

pytestmark = pytest.mark.full


@pytest.fixture
def limited_daphne(transactional_db, tmp_path):
    """A Daphne of its own with a 5/min budget per API key."""
    env = subprocess_env()
    env["API_KEY_RATE"] = "5/min"
    process, base_url = start_daphne(tmp_path, env)
    try:
        yield base_url
    finally:
        process.stop()


def test_key_budget_is_shared_across_processes(limited_daphne, throttle_rates):
    from apikeys.models import ApiKey
    from apikeys.services import api_key_create, api_key_revoke

    throttle_rates(api_key="5/min")  # this test process plays a second server
    created = api_key_create(name="CRM", scopes=["read"])
    header = {"Authorization": f"Api-Key {created.key}"}
    url = f"{limited_daphne}/api/v1/sessions/"

    assert [http("GET", url, headers=header).status for _ in range(3)] == [200, 200, 200]
    local = APIClient()
    local.credentials(HTTP_AUTHORIZATION=header["Authorization"])
    assert [local.get("/api/v1/sessions/").status_code for _ in range(2)] == [200, 200]

    refused = http("GET", url, headers=header)
    assert refused.status == 429
    assert refused.body["error"]["code"] == "throttled"
    retry_after = {k.lower(): v for k, v in refused.headers.items()}["retry-after"]
    assert 1 <= int(retry_after) <= 60
    assert ApiKey.objects.get(pk=created.api_key.pk).last_used_at is not None

    # Revoked: refused at once by the server, whatever the budget.
    api_key_revoke(api_key_id=created.api_key.pk)
    gone = http("GET", url, headers=header)
    assert (gone.status, gone.body["error"]["code"]) == (401, "authentication_failed")
