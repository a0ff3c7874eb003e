"""REST: the rating's optional comment; the email address a customer leaves after a hand-over."""

import pytest
from rest_framework.test import APIClient

from sessions_app.models import CSAT_COMMENT_MAX_CHARS, SupportSession
from sessions_app.services import session_close
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer_client():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Session {DEFAULT_TOKEN}")
    return client


def test_a_rating_carries_an_optional_comment(customer_client):
    session = SupportSessionFactory()
    session_close(session_id=session.pk)
    response = customer_client.post(
        f"/api/v1/sessions/{session.pk}/rate/",
        {"csat": 4, "comment": "  Quick and \u202efriendly!  "},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["csat_comment"] == "Quick and friendly!"  # trimmed, bidi removed
    session.refresh_from_db()
    assert (session.csat, session.csat_comment) == (4, "Quick and friendly!")
    # Staff read it with the session.
    staff = APIClient()
    staff.force_authenticate(StaffFactory())
    assert staff.get(f"/api/v1/sessions/{session.pk}/").json()["csat_comment"] == (
        "Quick and friendly!"
    )


def test_stars_alone_still_work_and_the_comment_is_bounded(customer_client):
    session = SupportSessionFactory()
    session_close(session_id=session.pk)
    too_long = customer_client.post(
        f"/api/v1/sessions/{session.pk}/rate/",
        {"csat": 5, "comment": "x" * (CSAT_COMMENT_MAX_CHARS + 1)},
        format="json",
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "invalid_field"
    ok = customer_client.post(f"/api/v1/sessions/{session.pk}/rate/", {"csat": 5}, format="json")
    assert ok.status_code == 200 and ok.json()["csat_comment"] == ""


def test_the_customer_leaves_an_email_address(customer_client):
    session = SupportSessionFactory(customer_email="")
    response = customer_client.post(
        f"/api/v1/sessions/{session.pk}/email/", {"email": "casey@example.com"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["customer_email"] == "casey@example.com"
    assert SupportSession.objects.get(pk=session.pk).customer_email == "casey@example.com"


@pytest.mark.parametrize("body", [{}, {"email": "nope"}, {"email": "a@b." + "c" * 300}, []])
def test_a_bad_address_is_refused(customer_client, body):
    session = SupportSessionFactory(customer_email="")
    response = customer_client.post(f"/api/v1/sessions/{session.pk}/email/", body, format="json")
    assert response.status_code == 400
    assert SupportSession.objects.get(pk=session.pk).customer_email == ""


def test_no_address_is_taken_for_a_closed_session(customer_client):
    session = SupportSessionFactory(customer_email="")
    session_close(session_id=session.pk)
    response = customer_client.post(
        f"/api/v1/sessions/{session.pk}/email/", {"email": "casey@example.com"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "session_closed"
