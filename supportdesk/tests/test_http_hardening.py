"""HTTP hardening (issue 9): client IP, deep JSON, rating once, bidi names, CSP, health, deploy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from sessions_app.models import SupportSession
from sessions_app.serializers import strip_bidi_controls
from supportdesk.clientip import resolve_client_ip
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

ROOT = Path(__file__).resolve().parents[2]


# --- client IP (finding 1) --------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = []
    assert resolve_client_ip("10.0.0.5", ["6.6.6.6"]) == "10.0.0.5"


@pytest.mark.parametrize(
    ("trusted", "peer", "header", "expected"),
    [
        # The proxy's own address, then the client it saw (rightmost untrusted hop).
        (["10.0.0.0/8"], "10.0.0.5", ["1.2.3.4"], "1.2.3.4"),
        # A client's fake entries sit left of the real one and are never reached.
        (["10.0.0.5"], "10.0.0.5", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),
        # Two trusted proxies in a row.
        (["10.0.0.0/8"], "10.0.0.5", ["1.2.3.4, 10.0.0.9"], "1.2.3.4"),
        # A peer that is not a trusted proxy is the client, header or not.
        (["10.0.0.5"], "192.0.2.7", ["1.2.3.4"], "192.0.2.7"),
        # Garbage from a trusted proxy: stop at the last address we can trust.
        (["10.0.0.5"], "10.0.0.5", ["not-an-ip"], "10.0.0.5"),
        (["::1"], "::1", ["2001:db8::1"], "2001:db8::1"),
    ],
)
def test_forwarded_for_is_read_only_through_trusted_proxies(
    settings, trusted, peer, header, expected
):
    settings.TRUSTED_PROXIES = trusted
    assert resolve_client_ip(peer, header) == expected


def _create(client, forwarded_for: str, peer: str = "198.51.100.1"):
    return client.post(
        "/api/v1/sessions/",
        {},
        format="json",
        REMOTE_ADDR=peer,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


@pytest.mark.django_db
def test_session_throttle_keys_on_the_peer_not_a_spoofed_header(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"session_create": "3/min"},
    }
    client = APIClient()
    statuses = [_create(client, f"203.0.113.{n}").status_code for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]


@pytest.mark.django_db
def test_session_throttle_honours_forwarded_for_from_a_trusted_proxy(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"session_create": "3/min"},
    }
    settings.TRUSTED_PROXIES = ["198.51.100.0/24"]
    client = APIClient()
    # Each real client behind the proxy has its own budget …
    assert [_create(client, f"203.0.113.{n}").status_code for n in range(5)] == [201] * 5
    # … and one client is still limited.
    statuses = [_create(client, "203.0.113.99").status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    refused = _create(client, "203.0.113.99")
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0


# --- REST deep JSON, lone surrogate ------------------------------------------------------------


@pytest.mark.django_db
def test_json_nested_too_deep_is_400_invalid_json():
    body = "[" * 10_000 + "]" * 10_000
    response = APIClient().post("/api/v1/sessions/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert response.json()["request_id"]


@pytest.mark.django_db
def test_deeply_nested_message_body_is_400_invalid_json():
    session = SupportSessionFactory()
    body = '{"content": ' + "{" * 0 + "[" * 10_000 + "]" * 10_000 + "}"
    response = APIClient().post(
        f"/api/v1/sessions/{session.pk}/messages/",
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.django_db
def test_lone_surrogate_in_content_is_400():
    session = SupportSessionFactory()
    response = APIClient().post(
        f"/api/v1/sessions/{session.pk}/messages/",
        '{"content": "hi \\ud800 there"}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}",
    )
    assert response.status_code == 400
    assert "error" in response.json()


# --- rating once (finding 10f) -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_closed_conversation_is_rated_once():
    session = SupportSessionFactory(status="closed")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    url = f"/api/v1/sessions/{session.pk}/rate/"
    assert client.post(url, {"csat": 2}, format="json").status_code == 200
    again = client.post(url, {"csat": 5}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_rated"
    session.refresh_from_db()
    assert session.csat == 2


# --- bidi controls in names (finding 10g) ------------------------------------------------------


def test_strip_bidi_controls_keeps_right_to_left_letters():
    assert strip_bidi_controls("\u202eexe.gnp") == "exe.gnp"
    assert strip_bidi_controls("\u2066a\u2069\u200e\u200f\u061c") == "a"
    assert strip_bidi_controls("שלום عليكم") == "שלום عليكم"


@pytest.mark.django_db
def test_customer_name_loses_bidi_overrides_at_input():
    response = APIClient().post(
        "/api/v1/sessions/", {"customer_name": "Eve \u202egnp.exe\u202c"}, format="json"
    )
    assert response.status_code == 201
    assert SupportSession.objects.get(pk=response.json()["id"]).customer_name == "Eve gnp.exe"


def test_console_isolates_customer_names():
    css = re.sub(
        r"/\*.*?\*/", "", (ROOT / "static" / "console" / "console.css").read_text(), flags=re.S
    )
    rule = re.search(r"([^{}]*)\{\s*unicode-bidi:\s*(isolate|plaintext);\s*\}", css)
    assert rule, "no unicode-bidi isolation rule in console.css"
    selectors = {s.strip() for s in rule.group(1).split(",")}
    assert {".inbox-name", ".conv-customer", "#detail-name", ".msg-author-name"} <= selectors


# --- Content-Security-Policy (finding 10a) -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/console/login/", "/admin/login/", "/api/docs/"])
def test_pages_carry_a_csp_without_inline_scripts(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    # Every <script> must load a file: an inline one would be blocked by the policy.
    for tag, inline in re.findall(r"(<script\b[^>]*>)(.*?)</script>", html, re.S | re.I):
        assert "src=" in tag and not inline.strip(), f"inline script on {path}: {tag}"


# --- /health/ready details (finding 10d) -------------------------------------------------------


@pytest.mark.django_db
def test_ready_hides_failure_details_from_anyone_but_staff(monkeypatch):
    from supportdesk import health

    def database_down():
        # The text psycopg gives when the server is unreachable: it names the host and port.
        raise OSError('connection to server at "db.internal" (10.1.2.3), port 5433 failed')

    monkeypatch.setitem(health.CHECKS, "database", database_down)
    anonymous = APIClient().get("/health/ready")
    assert anonymous.status_code == 503
    text = json.dumps(anonymous.json())
    assert "db.internal" not in text and "10.1.2.3" not in text and "5433" not in text
    check = anonymous.json()["checks"]["database"]
    assert (check["status"], check["detail"]) == ("error", "error")
    staff = APIClient()
    staff.force_login(StaffFactory())
    detailed = staff.get("/health/ready").json()["checks"]["database"]
    assert "db.internal" in detailed["detail"]


# --- TLS settings from the environment (finding 10b) -------------------------------------------

DEPLOY_WARNINGS = ("security.W004", "security.W008", "security.W012", "security.W016")


def _check_deploy(**extra: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "SESSION_COOKIE", "CSRF_COOKIE", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings",
        SECRET_KEY="x" * 60 + "-not-a-real-secret-but-long-and-varied-0123456789",
        SUPPORTDESK_TESTING="0",
        DEBUG="0",
        **extra,
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_check_deploy_is_clean_of_tls_warnings_when_set_from_the_environment():
    default = _check_deploy()
    assert all(code in default for code in DEPLOY_WARNINGS), default
    hardened = _check_deploy(
        SECURE_HSTS_SECONDS="31536000",
        SECURE_SSL_REDIRECT="1",
        SESSION_COOKIE_SECURE="1",
        CSRF_COOKIE_SECURE="1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
    )
    assert not [code for code in DEPLOY_WARNINGS if code in hardened], hardened


@pytest.mark.django_db
def test_proxy_ssl_header_and_redirect_exempt_health(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.get("/api/v1/sessions/").status_code == 301
    assert client.get("/health/live").status_code == 200
    assert client.get("/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
