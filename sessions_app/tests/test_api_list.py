"""GET /api/v1/sessions/: every filter, its validation, search, ordering, and query count."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.services import message_create
from sessions_app.models import Contact, SupportSession
from tests.factories import StaffFactory, SupportSessionFactory
from tests.rest import api_client, assert_error

pytestmark = pytest.mark.django_db

LIST = "/api/v1/sessions/"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def staff():
    return api_client("staff")


def test_filters_by_status_handled_by_and_assignee(staff):
    agent = StaffFactory()
    mine = SupportSessionFactory(status="escalated", handled_by="human", assignee=agent)
    queued = SupportSessionFactory(status="escalated")
    ai = SupportSessionFactory()
    assert ids(staff.get(LIST, {"status": "escalated"})) != []
    assert set(ids(staff.get(LIST, {"status": "escalated"}))) == {str(mine.pk), str(queued.pk)}
    assert ids(staff.get(LIST, {"handled_by": "human"})) == [str(mine.pk)]
    assert ids(staff.get(LIST, {"assignee": agent.pk})) == [str(mine.pk)]
    assert set(ids(staff.get(LIST, {"assignee": "none"}))) == {str(queued.pk), str(ai.pk)}
    assert ids(staff.get(LIST, {"assignee": "NONE", "status": "open"})) == [str(ai.pk)]


def test_filters_by_contact(staff):
    grace = Contact.objects.create(name="Grace Hopper")
    hers = SupportSessionFactory(contact=grace)
    SupportSessionFactory()
    assert ids(staff.get(LIST, {"contact": str(grace.pk)})) == [str(hers.pk)]
    assert ids(staff.get(LIST, {"contact": str(uuid.uuid4())})) == []


def test_filters_by_created_range():
    staff = api_client("staff")
    now = timezone.now()
    old, recent = SupportSessionFactory(), SupportSessionFactory()
    SupportSession.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    SupportSession.objects.filter(pk=recent.pk).update(created_at=now - timedelta(hours=1))
    day_ago = (now - timedelta(days=1)).isoformat()
    assert ids(staff.get(LIST, {"created_after": day_ago})) == [str(recent.pk)]
    assert ids(staff.get(LIST, {"created_before": day_ago})) == [str(old.pk)]
    # A plain date-time without an offset is read in the server's time zone.
    both = staff.get(LIST, {"created_after": "2000-01-01T00:00:00", "created_before": "2999-01-01"})
    assert set(ids(both)) == {str(old.pk), str(recent.pk)}


def test_search_matches_name_email_and_message_text(staff):
    by_name = SupportSessionFactory(customer_name="Grace Hopper", customer_email="g@example.com")
    by_email = SupportSessionFactory(customer_name="", customer_email="ada@lovelace.example")
    by_text = SupportSessionFactory(customer_name="", customer_email="")
    message_create(session_id=by_text.pk, role="customer", content="My parcel never arrived")
    SupportSessionFactory(customer_name="Nobody", customer_email="n@example.com")
    assert ids(staff.get(LIST, {"search": "hopper"})) == [str(by_name.pk)]
    assert ids(staff.get(LIST, {"search": "lovelace"})) == [str(by_email.pk)]
    assert ids(staff.get(LIST, {"search": "parcel"})) == [str(by_text.pk)]
    assert ids(staff.get(LIST, {"search": "zebra"})) == []
    assert len(ids(staff.get(LIST, {"search": "  "}))) == 4  # an empty box filters nothing


def test_ordering_and_pagination(staff):
    first, second, third = (SupportSessionFactory() for _ in range(3))
    now = timezone.now()
    for offset, session in enumerate((first, second, third)):
        SupportSession.objects.filter(pk=session.pk).update(
            created_at=now - timedelta(minutes=10 - offset),
            last_activity_at=now - timedelta(minutes=offset),
        )
    assert ids(staff.get(LIST, {"ordering": "created_at"})) == [
        str(first.pk),
        str(second.pk),
        str(third.pk),
    ]
    assert ids(staff.get(LIST))[0] == str(first.pk)  # most recently active first
    page = staff.get(LIST, {"ordering": "-created_at", "limit": 2, "offset": 1}).json()
    assert page["count"] == 3
    assert [row["id"] for row in page["results"]] == [str(second.pk), str(first.pk)]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "pending"},
        {"handled_by": "robot"},
        {"assignee": "abc"},
        {"assignee": "-3"},
        {"assignee": "0"},
        {"assignee": "99999999999999999999999"},
        {"assignee": "١٢"},  # Arabic-Indic digits: isdigit() but not an id
        {"created_after": "yesterday"},
        {"created_before": "2024-13-45"},
        {"created_after": "2025-01-02T00:00:00Z", "created_before": "2025-01-01T00:00:00Z"},
        {"search": "x" * 101},
        {"search": "nul\x00byte"},
        {"created_after": "0001-01-01T00:00:00+01:00"},  # out of range once in UTC
        {"ordering": "token_hash"},
        {"contact": "undefined"},
        {"contact": "42"},
        {"limit": "0"},
        {"limit": "many"},
        {"offset": "-1"},
    ],
)
def test_bad_filter_values_are_400_invalid_field(staff, params):
    SupportSessionFactory()
    assert_error(staff.get(LIST, params), 400, "invalid_field")


def test_query_count_does_not_grow_with_sessions(staff, django_assert_num_queries):
    agent = StaffFactory()
    SupportSessionFactory.create_batch(10, assignee=agent, handled_by="human")
    params = {"status": "open", "search": "casey", "ordering": "-created_at", "limit": 100}
    # count + page + the page's labels (prefetched); staff auth is forced: no query
    with django_assert_num_queries(3):
        assert len(ids(staff.get(LIST, params))) == 10
    SupportSessionFactory.create_batch(90, assignee=agent, handled_by="human")
    with django_assert_num_queries(3):
        assert len(ids(staff.get(LIST, params))) == 100
