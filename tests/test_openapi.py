"""The OpenAPI schema an integrator lives from: valid, every operation described, auth, errors."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_schema_validates_without_warnings(tmp_path):
    # --fail-on-warn: an unresolved authenticator, a component clash or an unknown type fails.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


def test_every_operation_has_a_summary_a_description_and_its_access(schema):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert operation.get("description"), where
        assert "**Access:**" in operation["description"], where


def test_three_auth_schemes_are_documented(schema):
    schemes = schema["components"]["securitySchemes"]
    assert set(schemes) == {"customerToken", "apiKey", "staffSession"}
    assert "Session <token>" in schemes["customerToken"]["description"]
    assert "Api-Key" in schemes["apiKey"]["description"]
    assert schemes["staffSession"]["in"] == "cookie"


def security(operation) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


def test_each_operation_lists_the_credentials_it_accepts(schema):
    paths = schema["paths"]
    assert security(paths["/api/v1/sessions/"]["get"]) == {"apiKey", "staffSession"}
    assert security(paths["/api/v1/sessions/"]["post"]) == set()  # anyone
    assert security(paths["/api/v1/sessions/{session_id}/"]["get"]) == {
        "customerToken",
        "apiKey",
        "staffSession",
    }
    assert security(paths["/api/v1/ops/websockets/"]["get"]) == {"apiKey", "staffSession"}
    assert "`ops` scope" in paths["/api/v1/ops/websockets/"]["get"]["description"]
    assert "`write` scope" in paths["/api/v1/sessions/{session_id}/close/"]["post"]["description"]


def error_statuses(operation) -> set[str]:
    return {
        status
        for status, response in operation["responses"].items()
        if response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
        == "#/components/schemas/ErrorResponse"
    }


@pytest.mark.parametrize(
    "path, method, expected",
    [
        ("/api/v1/sessions/", "post", {"400", "401", "413", "429", "503"}),
        ("/api/v1/sessions/", "get", {"400", "401", "403", "429", "503"}),
        ("/api/v1/sessions/{session_id}/", "get", {"400", "401", "403", "404", "429", "503"}),
        (
            "/api/v1/sessions/{session_id}/close/",
            "post",
            {"400", "401", "403", "404", "409", "413", "429", "503"},
        ),
        ("/api/v1/ops/websockets/", "get", {"401", "403", "429", "503"}),
    ],
)
def test_error_responses_use_the_error_shape(schema, path, method, expected):
    operation = schema["paths"][path][method]
    assert error_statuses(operation) == expected
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    for response in operation["responses"].values():
        assert "X-Request-ID" in response["headers"]


def test_error_shape_component(schema):
    component = schema["components"]["schemas"]["ErrorResponse"]
    assert set(component["required"]) == {"error", "request_id"}
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "detail"}


def test_lists_are_documented_as_pages(schema):
    for path in ("/api/v1/sessions/", "/api/v1/sessions/{session_id}/messages/"):
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]["$ref"]
        page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        assert {"count", "next", "previous", "results"} <= set(page["properties"]), path


def test_main_endpoints_carry_examples(schema):
    paths = schema["paths"]
    created = paths["/api/v1/sessions/"]["post"]
    assert created["requestBody"]["content"]["application/json"]["examples"]
    assert created["responses"]["201"]["content"]["application/json"]["examples"]
    posted = paths["/api/v1/sessions/{session_id}/messages/"]["post"]
    assert posted["requestBody"]["content"]["application/json"]["examples"]
    assert paths["/api/v1/sessions/{session_id}/"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["examples"]


def test_websocket_protocol_page_is_linked_and_complete(schema):
    assert "/api/docs/websocket/" in schema["info"]["description"]
    assert schema["externalDocs"]["url"] == "/api/docs/websocket/"
    response = Client().get("/api/docs/websocket/")
    assert response.status_code == 200
    text = response.content.decode()
    for close_code in ("4000", "4001", "4003", "4004", "4008", "4029", "1009"):
        assert f"<td>{close_code}</td>" in text, close_code
    for frame in ("auth", "ready", "message", "ack", "stream", "agent_status", "pong", "error"):
        assert f"<code>{frame}</code>" in text, frame
    assert "Example session" in text


def test_operations_are_grouped_by_resource(schema):
    tags = {path: operation["tags"] for path, _, operation in operations(schema)}
    assert tags["/api/v1/sessions/{session_id}/messages/"] == ["sessions"]
    assert tags["/api/v1/ops/websockets/"] == ["ops"]
