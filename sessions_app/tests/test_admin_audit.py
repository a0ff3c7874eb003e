"""Session admin: the audit trail on the change page, form edits audited, search by message text."""

from __future__ import annotations

import pytest

from chat.services import message_create
from sessions_app import services
from sessions_app.models import SessionEvent, Team
from tests.factories import StaffFactory, SupportSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    admin = StaffFactory(is_superuser=True, first_name="Root", last_name="Admin")
    client.force_login(admin)
    client.admin = admin
    return client


def test_change_page_shows_the_audit_trail(admin_client):
    dana = StaffFactory(first_name="Dana", last_name="Lee")
    session = SupportSessionFactory()
    services.session_assign(session_id=session.pk, assignee=dana, actor=dana)
    page = admin_client.get(f"/admin/sessions_app/supportsession/{session.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "audit trail" in html.lower()
    assert "Dana Lee" in html and "assignee" in html


def test_a_team_edited_in_the_admin_form_is_audited(admin_client):
    team = Team.objects.create(name="Billing")
    session = SupportSessionFactory()
    url = f"/admin/sessions_app/supportsession/{session.pk}/change/"
    form = {
        "status": "open",
        "handled_by": "ai",
        "assignee": "",
        "team": str(team.pk),
        "priority": "none",
        "customer_name": session.customer_name,
        "customer_email": session.customer_email,
        "metadata": "{}",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event = SessionEvent.objects.get(session=session)
    assert (event.field, event.new_value, event.actor_name) == ("team", "Billing", "Root Admin")


def test_admin_search_finds_sessions_by_the_words_of_their_messages(
    admin_client, django_assert_max_num_queries
):
    wanted, other = SupportSessionFactory(), SupportSessionFactory()
    message_create(session_id=wanted.pk, role="customer", content="My parcel never arrived")
    message_create(session_id=other.pk, role="customer", content="How do refunds work?")
    with django_assert_max_num_queries(12):
        page = admin_client.get("/admin/sessions_app/supportsession/", {"q": "parcel"})
    assert page.status_code == 200
    shown = {str(s.pk) for s in page.context["cl"].result_list}
    assert shown == {str(wanted.pk)}
    by_id = admin_client.get("/admin/sessions_app/supportsession/", {"q": str(other.pk)})
    assert {str(s.pk) for s in by_id.context["cl"].result_list} == {str(other.pk)}
