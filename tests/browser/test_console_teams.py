"""The console's team features in Chromium: away, "My team", reply-assigns, audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from sessions_app.models import AgentProfile, SupportSession, Team
from tests.browser.conftest import console_login, new_page
from tests.browser.test_console import off_loop
from tests.factories import SupportSessionFactory
from tests.servers import server_env, start_daphne

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    get_user_model().objects.create_user(
        "dana", password="dana-password", first_name="Dana", last_name="Lee", is_staff=True
    )
    process, base_url = start_daphne(
        tmp_path, server_env(REDIS_URL="", CELERY_TASK_ALWAYS_EAGER="1")
    )
    yield base_url
    process.stop()


def _waiting_conversations():
    dana = get_user_model().objects.get(username="dana")
    mine, theirs = Team.objects.create(name="Billing"), Team.objects.create(name="Tech")
    mine.members.add(dana)
    # Capacity 0: routing gives Dana nothing (opening the console would otherwise drain the
    # Billing queue to her); she takes the conversation herself by replying.
    AgentProfile.objects.create(user=dana, capacity=0)
    ours = SupportSessionFactory(customer_name="Grace", status="escalated", team=mine)
    SupportSessionFactory(customer_name="Linus", status="escalated", team=theirs)
    return str(ours.pk)


def test_away_switch_team_filter_reply_takes_the_conversation_and_the_audit_trail(server, browser):
    session_id = off_loop(_waiting_conversations)
    agent = new_page(browser)
    console_login(agent, server + "/console/", "dana")
    agent.wait_for_selector("#connection-state[data-state='online']")

    # Away, then back: the server keeps the agent's status.
    agent.locator(".switch-away").click()
    expect(agent.locator("#console-notice")).to_contain_text("You are away")
    assert off_loop(lambda: AgentProfile.objects.get(user__username="dana").status) == "away"
    agent.locator(".switch-away").click()
    expect(agent.locator("#console-notice")).to_contain_text("You are online")

    # "My team" lists my team's conversation only, with its team chip.
    agent.click(".filter[data-filter='team']")
    rows = agent.locator(".inbox-item")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Grace")
    expect(rows.first.locator(".team-chip")).to_have_text("Billing")

    # Replying to the waiting conversation takes it: no "Take over" click.
    rows.first.click()
    expect(agent.locator("#mode-reply")).to_be_checked()
    agent.fill("#composer-input", "Hello Grace, Dana here.")
    agent.press("#composer-input", "Enter")
    transcript = agent.locator("#transcript")
    expect(transcript).to_contain_text("Dana Lee took the conversation.")
    expect(transcript).to_contain_text("Hello Grace, Dana here.")
    expect(agent.locator("#session-assignee")).to_contain_text("Dana Lee")

    # The details panel (always shown at this width) has the team and the trail.
    expect(agent.locator("#detail-team")).to_have_text("Billing")
    expect(agent.locator("#audit-trail")).to_contain_text("Assignee: — → Dana Lee")
    session = off_loop(lambda: SupportSession.objects.select_related("assignee").get(pk=session_id))
    assert (session.assignee.username, session.handled_by) == ("dana", "human")
