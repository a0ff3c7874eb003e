"""REST canned responses: CRUD, validation, a duplicate shortcut is 409 shortcut_taken."""

from __future__ import annotations

import pytest

from chat.models import CannedResponse
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db

CANNED = "/api/v1/canned-responses/"


@pytest.fixture
def staff():
    return api_client("staff")


def test_create_list_retrieve_update_delete(staff):
    created = staff.post(
        CANNED,
        {"shortcut": "hello", "title": "Greeting", "body": "Hi! How can I help?"},
        format="json",
    )
    assert created.status_code == 201, created.content
    canned_id = created.json()["id"]
    staff.post(CANNED, {"shortcut": "bye", "title": "Bye", "body": "Bye!"}, format="json")
    listed = staff.get(CANNED).json()
    assert [row["shortcut"] for row in listed["results"]] == ["bye", "hello"]
    detail = f"{CANNED}{canned_id}/"
    assert staff.get(detail).json()["body"] == "Hi! How can I help?"
    patched = staff.patch(detail, {"body": "Hello!"}, format="json").json()
    assert (patched["shortcut"], patched["body"]) == ("hello", "Hello!")
    assert staff.delete(detail).status_code == 204
    assert_error(staff.get(detail), 404, "canned_response_not_found")
    assert_error(
        staff.patch(detail, {"body": "x"}, format="json"), 404, "canned_response_not_found"
    )
    assert_error(staff.delete(detail), 404, "canned_response_not_found")


def test_duplicate_shortcut_is_409_shortcut_taken(staff):
    CannedResponse.objects.create(shortcut="hello", title="Hello", body="Hi")
    other = CannedResponse.objects.create(shortcut="bye", title="Bye", body="Bye")
    response = staff.post(CANNED, {"shortcut": "hello", "title": "T", "body": "B"}, format="json")
    assert_error(response, 409, "shortcut_taken")
    patched = staff.patch(f"{CANNED}{other.pk}/", {"shortcut": "hello"}, format="json")
    assert_error(patched, 409, "shortcut_taken")
    assert CannedResponse.objects.get(pk=other.pk).shortcut == "bye"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": "T", "body": "B"}, "shortcut"),
        ({"shortcut": "has space", "title": "T", "body": "B"}, "shortcut"),
        ({"shortcut": "x" * 41, "title": "T", "body": "B"}, "shortcut"),
        ({"shortcut": "ok", "title": "T" * 121, "body": "B"}, "title"),
        ({"shortcut": "ok", "title": "T", "body": ""}, "body"),
        ({"shortcut": "ok", "title": "T", "body": "x" * 4001}, "body"),
    ],
)
def test_validation_errors_name_the_field(staff, payload, field):
    body = assert_error(staff.post(CANNED, payload, format="json"), 400, "invalid_field")
    assert body["error"]["detail"].startswith(f"{field}:")
    assert not CannedResponse.objects.exists()


def test_non_object_body_and_bad_paging_are_400(staff):
    assert_error(staff.post(CANNED, [1, 2], format="json"), 400, "invalid_field")
    assert_error(staff.get(CANNED, {"limit": "lots"}), 400, "invalid_field")
