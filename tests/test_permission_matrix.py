"""The permission matrix of docs/api.md, checked cell by cell against the real endpoints.

The table in the doc is the source: each row is an endpoint, each column a kind of caller,
each cell the expected status. ``REQUESTS`` below says how to call each row (body, the
session's state); a row without one fails, so documenting an endpoint means testing it.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from agents.models import Article, ArticleExample
from agents.signals import index_updates_muted
from apikeys.services import api_key_create
from chat.attachments import attachment_upload
from chat.models import CannedResponse, Macro
from chat.services import message_create
from sessions_app import services
from sessions_app.models import Contact, Label, Team
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory, UserFactory
from webhooks.models import WebhookDelivery, WebhookEndpoint

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
OTHER_TOKEN = "another-customers-token"


def read_matrix() -> tuple[list[str], dict[str, list[int]]]:
    """Return the column names and {endpoint: [status per column]} of the doc's matrix."""
    text = DOC.read_text()
    section = text.split("## Permission matrix", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    matrix = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        matrix[cells[0].strip("`")] = [int(cell) for cell in cells[1:]]
    return header[1:], matrix


COLUMNS, MATRIX = read_matrix()


@dataclass(frozen=True)
class Call:
    """How to call one row: the body, and what must exist first."""

    # A dict, or a function returning one (a multipart body's file can be read only once).
    body: dict | Callable[[], dict] | None = None
    closed: bool = False  # the session is closed first (rating needs it)
    format: str = "json"  # "multipart" for file uploads
    # Return the URL to call given the row's path and the target session (default: the
    # session's id for "{id}"). Rows about other objects create them here.
    url: Callable[[str, object], str] | None = None
    # Return the body given the target session, for a body that must be made per test.
    body_for: Callable[[object], dict] | None = None


def _with_article(path: str, session) -> str:
    """Create an article with one example; fill the path's ids (article, then example)."""
    with index_updates_muted():
        article = Article.objects.create(slug="refunds", title="Refunds", body="Five days.")
        example = ArticleExample.objects.create(article=article, text="refund?")
    first, _, after = path.partition("{id}")
    return first + str(article.pk) + after.replace("{id}", str(example.pk))


def _with_canned(path: str, session) -> str:
    canned = CannedResponse.objects.create(shortcut="hi", title="Hi", body="Hi!")
    return path.replace("{id}", str(canned.pk))


def _with_team(path: str, session) -> str:
    team = Team.objects.create(name="Billing", topic_tags=["billing"])
    team.members.add(StaffFactory())
    return path


def _with_label(path: str, session) -> str:
    """Create the label "refund"; fill the path's ids (the session, else the label)."""
    label = Label.objects.create(name="refund", color="#dc2626")
    return path.replace("{id}", str(session.pk if "/sessions/" in path else label.pk), 1)


def _with_macro(path: str, session) -> str:
    """Create a macro (reply + label); fill the path's ids (the session first, then the macro)."""
    macro = Macro.objects.create(name="Refund", body="Hi {{customer.first_name|there}}!")
    macro.labels.add(Label.objects.create(name="refund"))
    if "/sessions/" in path:
        path = path.replace("{id}", str(session.pk), 1)
    return path.replace("{id}", str(macro.pk), 1)


def _with_canned_for_session(path: str, session) -> str:
    canned = CannedResponse.objects.create(shortcut="hi", title="Hi", body="Hi {{customer.name}}")
    return path.replace("{id}", str(session.pk), 1).replace("{id}", str(canned.pk), 1)


def _with_contact(path: str, session) -> str:
    contact = Contact.objects.create(name="Grace Hopper")
    return path.replace("{id}", str(contact.pk))


def _resume_body(session) -> dict:
    """A fresh resume link of the session, as the chat page sends it (the value after #resume=)."""
    from notifications.services import resume_link_create

    return {"link": resume_link_create(session_id=session.pk).split("#resume=", 1)[1]}


def _with_webhook(path: str, session) -> str:
    """Create an endpoint with one failed delivery; fill the path's ids (endpoint, delivery)."""
    endpoint = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/hook", events=["session.created"], secret="s" * 32
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id=uuid.uuid4(),
        event_type="session.created",
        payload={"id": "e", "type": "session.created", "data": {}},
        status="failed",
    )
    first, _, after = path.partition("{id}")
    return first + str(endpoint.pk) + after.replace("{id}", str(delivery.pk))


PDF = b"%PDF-1.4\n%%EOF\n"


def _pdf_upload() -> dict:
    return {"file": SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")}


def _with_attachment(path: str, session) -> str:
    """Store a customer's image sent in a message of the session; fill session and attachment."""
    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    png.seek(0)
    attachment = attachment_upload(
        session_id=session.pk, upload=png, name="parcel.png", kind="customer"
    )
    message_create(
        session_id=session.pk, role="customer", content="", attachment_ids=[attachment.pk]
    )
    first, _, after = path.partition("{id}")
    return first + str(session.pk) + after.replace("{id}", str(attachment.pk))


REQUESTS: dict[str, Call] = {
    "POST /api/v1/sessions/": Call(body={"customer_name": "Casey"}),
    "GET /api/v1/sessions/": Call(),
    "GET /api/v1/sessions/{id}/": Call(),
    "GET /api/v1/sessions/{id}/messages/": Call(),
    "POST /api/v1/sessions/{id}/messages/": Call(body={"content": "Any news on my order?"}),
    "POST /api/v1/sessions/{id}/escalate/": Call(body={"reason": "vip"}),
    "POST /api/v1/sessions/{id}/assign/": Call(body={"assignee_id": "AGENT"}),
    "POST /api/v1/sessions/{id}/close/": Call(),
    "POST /api/v1/sessions/{id}/rate/": Call(body={"csat": 5, "comment": "Great!"}, closed=True),
    "POST /api/v1/sessions/{id}/email/": Call(body={"email": "casey@example.com"}),
    "POST /api/v1/sessions/{id}/transcript/": Call(
        body={"email": "casey@example.com"}, closed=True
    ),
    # The link is the credential: whoever holds it gets the session, with or without a login.
    "POST /api/v1/resume/": Call(body_for=_resume_body),
    "POST /api/v1/sessions/{id}/notes/": Call(body={"content": "internal"}),
    "POST /api/v1/sessions/{id}/attachments/": Call(body=_pdf_upload, format="multipart"),
    "GET /api/v1/sessions/{id}/attachments/{id}/": Call(url=_with_attachment),
    "GET /api/v1/sessions/{id}/attachments/{id}/thumbnail/": Call(url=_with_attachment),
    "POST /api/v1/sessions/{id}/release/": Call(),
    "POST /api/v1/sessions/{id}/reopen/": Call(closed=True),
    "GET /api/v1/sessions/{id}/events/": Call(closed=True),
    "GET /api/v1/teams/": Call(url=_with_team),
    "GET /api/v1/agents/me/status/": Call(),
    "PUT /api/v1/agents/me/status/": Call(body={"status": "away"}),
    "POST /api/v1/sessions/{id}/priority/": Call(body={"priority": "urgent"}),
    "POST /api/v1/sessions/{id}/labels/": Call(body={"labels": ["refund"]}, url=_with_label),
    "POST /api/v1/sessions/{id}/snooze/": Call(body={"until": "SOON"}),
    "POST /api/v1/sessions/{id}/unsnooze/": Call(),
    "POST /api/v1/sessions/{id}/macros/{id}/apply/": Call(url=_with_macro),
    "GET /api/v1/sessions/{id}/canned-responses/{id}/": Call(url=_with_canned_for_session),
    "GET /api/v1/labels/": Call(),
    "POST /api/v1/labels/": Call(body={"name": "vip", "color": "#7c3aed"}),
    "GET /api/v1/labels/{id}/": Call(url=_with_label),
    "PATCH /api/v1/labels/{id}/": Call(body={"color": "#16a34a"}, url=_with_label),
    "DELETE /api/v1/labels/{id}/": Call(url=_with_label),
    "GET /api/v1/macros/": Call(),
    "POST /api/v1/macros/": Call(body={"name": "Close", "status": "closed"}),
    "GET /api/v1/macros/{id}/": Call(url=_with_macro),
    "PATCH /api/v1/macros/{id}/": Call(body={"priority": "high"}, url=_with_macro),
    "DELETE /api/v1/macros/{id}/": Call(url=_with_macro),
    "GET /api/v1/kb/articles/": Call(),
    "POST /api/v1/kb/articles/": Call(body={"title": "New", "body": "B"}),
    "GET /api/v1/kb/articles/{id}/": Call(url=_with_article),
    "PATCH /api/v1/kb/articles/{id}/": Call(body={"title": "Renamed"}, url=_with_article),
    "DELETE /api/v1/kb/articles/{id}/": Call(url=_with_article),
    "GET /api/v1/kb/articles/{id}/examples/": Call(url=_with_article),
    "POST /api/v1/kb/articles/{id}/examples/": Call(body={"text": "new?"}, url=_with_article),
    "DELETE /api/v1/kb/articles/{id}/examples/{id}/": Call(url=_with_article),
    "GET /api/v1/canned-responses/": Call(),
    "POST /api/v1/canned-responses/": Call(body={"shortcut": "new", "title": "T", "body": "B"}),
    "GET /api/v1/canned-responses/{id}/": Call(url=_with_canned),
    "PATCH /api/v1/canned-responses/{id}/": Call(body={"title": "T2"}, url=_with_canned),
    "DELETE /api/v1/canned-responses/{id}/": Call(url=_with_canned),
    "GET /api/v1/contacts/": Call(),
    "POST /api/v1/contacts/": Call(body={"name": "Grace Hopper", "email": "grace@example.com"}),
    "GET /api/v1/contacts/{id}/": Call(url=_with_contact),
    "PATCH /api/v1/contacts/{id}/": Call(body={"name": "Grace H."}, url=_with_contact),
    "DELETE /api/v1/contacts/{id}/": Call(url=_with_contact),
    "GET /api/v1/contacts/{id}/sessions/": Call(url=_with_contact),
    "GET /api/v1/webhooks/": Call(),
    # A public address: the SSRF guard refuses private ones (and resolving a name needs DNS).
    "POST /api/v1/webhooks/": Call(
        body={"url": "https://93.184.215.14/hook", "events": ["session.created"]}
    ),
    "GET /api/v1/webhooks/{id}/": Call(url=_with_webhook),
    "PUT /api/v1/webhooks/{id}/": Call(
        body={"url": "https://93.184.215.14/crm", "events": ["session.closed"]}, url=_with_webhook
    ),
    "PATCH /api/v1/webhooks/{id}/": Call(body={"description": "CRM"}, url=_with_webhook),
    "DELETE /api/v1/webhooks/{id}/": Call(url=_with_webhook),
    "GET /api/v1/webhooks/{id}/deliveries/": Call(url=_with_webhook),
    "POST /api/v1/webhooks/{id}/deliveries/{id}/redeliver/": Call(url=_with_webhook),
    "GET /api/v1/ops/websockets/": Call(),
    "POST /api/v1/ops/websockets/cleanup/": Call(),
    "POST /api/v1/ops/rate-limits/reset/": Call(body={}),
}


def client_for(column: str) -> APIClient:
    """Return a client that calls as the caller the column names."""
    client = APIClient()
    if column == "anonymous":
        pass
    elif column == "customer (own)":
        client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    elif column == "customer (other)":
        client.credentials(HTTP_AUTHORIZATION=f"Session {OTHER_TOKEN}")
    elif column.startswith("key "):
        key = api_key_create(name=column, scopes=[column.removeprefix("key ")]).key
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    elif column == "staff":
        client.force_login(StaffFactory())  # the real cookie path, not force_authenticate
    elif column == "non-staff user":
        client.force_login(UserFactory())
    else:
        raise AssertionError(f"unknown column {column!r} in docs/api.md")
    return client


def test_matrix_has_every_column_and_a_request_per_row():
    assert COLUMNS == [
        "anonymous",
        "customer (own)",
        "customer (other)",
        "key read",
        "key write",
        "key ops",
        "staff",
        "non-staff user",
    ]
    assert set(MATRIX) == set(REQUESTS), "a documented endpoint needs a request here (or v.v.)"


def test_every_api_endpoint_is_in_the_matrix(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        schema = Client().get("/api/schema/?format=json").json()
    documented = {
        f"{method.upper()} {re.sub(r'{[^}]+}', '{id}', path)}"
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    missing = sorted(documented - set(MATRIX))
    assert not missing, f"add these endpoints to the permission matrix in docs/api.md: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint, column, expected",
    [
        pytest.param(endpoint, column, status, id=f"{endpoint} | {column}")
        for endpoint, statuses in MATRIX.items()
        for column, status in zip(COLUMNS, statuses, strict=True)
    ],
)
def test_permission_cell(endpoint, column, expected):
    from sessions_app.selectors import token_hash

    session = SupportSessionFactory()
    SupportSessionFactory(token_hash=token_hash(OTHER_TOKEN))
    agent = StaffFactory()
    call = REQUESTS[endpoint]
    if call.closed:
        services.session_close(session_id=session.pk)
    method, path = endpoint.split(" ", 1)
    url = call.url(path, session) if call.url else path.replace("{id}", str(session.pk))
    if call.body_for:
        body = call.body_for(session)
    else:
        body = call.body() if callable(call.body) else call.body
    if body and body.get("assignee_id") == "AGENT":
        body = {**body, "assignee_id": agent.pk}
    if body and body.get("until") == "SOON":  # a snooze must end in the future
        body = {**body, "until": (timezone.now() + timedelta(hours=1)).isoformat()}
    client = client_for(column)
    response = getattr(client, method.lower())(url, body, format=call.format)
    assert response.status_code == expected, response.content
    if expected >= 400:
        error = response.json()["error"]
        assert re.fullmatch(r"[a-z_]+", error["code"]), error
