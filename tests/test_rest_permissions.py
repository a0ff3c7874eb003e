"""The REST permission matrix of docs/api.md (sessions, messages, notes, knowledge base, canned
responses), cell by cell: anonymous, customer token, non-staff user, staff, each API-key scope."""

from __future__ import annotations

import pytest

from agents.models import Article, ArticleExample
from agents.signals import index_updates_muted
from chat.models import CannedResponse
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import CALLERS, api_client

pytestmark = pytest.mark.django_db

# Who may call, as (anonymous, customer, user, staff, key_read, key_write, key_ops);
# "ok" is the endpoint's success status.
STAFF_READ = (401, 403, 403, "ok", "ok", "ok", 403)
STAFF_WRITE = (401, 403, 403, "ok", 403, "ok", 403)
CUSTOMER_READ = (401, "ok", 403, "ok", "ok", "ok", 403)
CUSTOMER_WRITE = (401, "ok", 403, "ok", 403, "ok", 403)
CUSTOMER_ONLY = (401, "ok", 403, 403, 403, 403, 403)

S = "/api/v1/sessions/{session}/"
A = "/api/v1/kb/articles/{article}/"
C = "/api/v1/canned-responses/{canned}/"

# (method, path, body, ok status, who, session state)
ENDPOINTS = [
    ("get", "/api/v1/sessions/", None, 200, STAFF_READ, "open"),
    ("get", S, None, 200, CUSTOMER_READ, "open"),
    ("get", S + "messages/", None, 200, CUSTOMER_READ, "open"),
    ("post", S + "messages/", {"content": "hello"}, 201, CUSTOMER_WRITE, "open"),
    ("post", S + "notes/", {"content": "internal"}, 201, STAFF_WRITE, "open"),
    ("post", S + "escalate/", {}, 200, STAFF_WRITE, "open"),
    ("post", S + "assign/", {"assignee_id": "{agent}"}, 200, STAFF_WRITE, "open"),
    ("post", S + "release/", None, 200, STAFF_WRITE, "escalated"),
    ("post", S + "close/", None, 200, STAFF_WRITE, "open"),
    ("post", S + "reopen/", None, 200, STAFF_WRITE, "closed"),
    ("post", S + "rate/", {"csat": 5}, 200, CUSTOMER_ONLY, "closed"),
    ("get", "/api/v1/kb/articles/", None, 200, STAFF_READ, "open"),
    ("post", "/api/v1/kb/articles/", {"title": "New", "body": "B"}, 201, STAFF_WRITE, "open"),
    ("get", A, None, 200, STAFF_READ, "open"),
    ("patch", A, {"title": "Renamed"}, 200, STAFF_WRITE, "open"),
    ("delete", A, None, 204, STAFF_WRITE, "open"),
    ("get", A + "examples/", None, 200, STAFF_READ, "open"),
    ("post", A + "examples/", {"text": "new question"}, 201, STAFF_WRITE, "open"),
    ("delete", A + "examples/{example}/", None, 204, STAFF_WRITE, "open"),
    ("get", "/api/v1/canned-responses/", None, 200, STAFF_READ, "open"),
    (
        "post",
        "/api/v1/canned-responses/",
        {"shortcut": "new", "title": "T", "body": "B"},
        201,
        STAFF_WRITE,
        "open",
    ),
    ("get", C, None, 200, STAFF_READ, "open"),
    ("patch", C, {"title": "T2"}, 200, STAFF_WRITE, "open"),
    ("delete", C, None, 204, STAFF_WRITE, "open"),
]

CELLS = [
    pytest.param(
        method,
        path,
        body,
        ok if expected == "ok" else expected,
        caller,
        state,
        id=f"{method.upper()} {path} as {caller}",
    )
    for method, path, body, ok, who, state in ENDPOINTS
    for caller, expected in zip(CALLERS, who, strict=True)
]


@pytest.mark.parametrize(("method", "path", "body", "status", "caller", "state"), CELLS)
def test_permission_cell(method, path, body, status, caller, state):
    agent = StaffFactory()
    with index_updates_muted():
        article = Article.objects.create(slug="refunds", title="Refunds", body="Five days.")
        example = ArticleExample.objects.create(article=article, text="refund?")
    ids = {
        "session": SupportSessionFactory(status=state).pk,
        "article": article.pk,
        "example": example.pk,
        "canned": CannedResponse.objects.create(shortcut="hi", title="Hi", body="Hi!").pk,
        "agent": agent.pk,
    }
    if body is not None:
        body = {k: ids[v[1:-1]] if v == "{agent}" else v for k, v in body.items()}
    response = getattr(api_client(caller), method)(path.format(**ids), body, format="json")
    assert response.status_code == status, response.content
    if status >= 400:
        expected = {401: "not_authenticated", 403: "permission_denied"}[status]
        assert response.json()["error"]["code"] == expected
