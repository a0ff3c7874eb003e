"""Session search on PostgreSQL: full-text over message text, served by the GIN index."""

from __future__ import annotations

import pytest
from django.db import connection

from chat.services import message_create
from sessions_app.selectors import sessions_list
from tests.factories import SupportSessionFactory
from tests.rest import api_client

pytestmark = [pytest.mark.full, pytest.mark.django_db]

LIST = "/api/v1/sessions/"


def test_full_text_search_matches_words_not_substrings():
    parcel = SupportSessionFactory(customer_name="", customer_email="")
    message_create(session_id=parcel.pk, role="customer", content="My parcels never arrived")
    refund = SupportSessionFactory(customer_name="", customer_email="")
    message_create(session_id=refund.pk, role="customer", content="Refund for order 1234 please")
    staff = api_client("staff")

    def found(text):
        response = staff.get(LIST, {"search": text})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert found("refund order") == [str(refund.pk)]
    assert found('"order 1234"') == [str(refund.pk)]  # websearch syntax: a phrase
    assert found("refund -order") == []
    assert found("parcels") == [str(parcel.pk)]
    # Characters that break raw tsquery syntax are only words to websearch_to_tsquery.
    for text in ("&|!:*()", "'", "\\", "a <-> b", "x" * 100):
        assert staff.get(LIST, {"search": text}).status_code == 200, text


def test_message_search_uses_the_gin_index():
    session = SupportSessionFactory()
    message_create(session_id=session.pk, role="customer", content="where is my refund")
    queryset = sessions_list(search="refund")
    with connection.cursor() as cursor:
        # On a near-empty table the planner prefers a scan; forbid it to see the index is usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "chat_message_content_fts" in plan, plan


def test_list_query_count_is_flat_on_postgresql(django_assert_num_queries):
    staff = api_client("staff")
    params = {"search": "casey", "assignee": "none", "limit": 100}
    SupportSessionFactory.create_batch(10)
    # count + page + the page's labels (one prefetch), whatever the number of sessions
    with django_assert_num_queries(3):
        assert staff.get(LIST, params).json()["count"] == 10
    SupportSessionFactory.create_batch(90)
    with django_assert_num_queries(3):
        assert len(staff.get(LIST, params).json()["results"]) == 100
