"""Admin of teams, agent profiles and routing rules: pages render, tags are typed as tags."""

from __future__ import annotations

import pytest

from sessions_app.models import Team
from teams.models import RoutingRule
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(StaffFactory(is_superuser=True))
    return client


def test_team_is_created_with_members_and_tags_typed_as_text(admin_client):
    agent = StaffFactory()
    response = admin_client.post(
        "/admin/sessions_app/team/add/",
        {
            "name": "Billing",
            "members": [str(agent.pk)],
            "topic_tags": "Billing,  refunds, billing,",
            "routing_rules-TOTAL_FORMS": "1",
            "routing_rules-INITIAL_FORMS": "0",
            "routing_rules-0-position": "3",
            "routing_rules-0-is_active": "on",
            "routing_rules-0-reason": "human_requested",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    team = Team.objects.get(name="Billing")
    assert team.topic_tags == ["billing", "refunds"]
    assert list(team.members.all()) == [agent]
    rule = RoutingRule.objects.get(team=team)
    assert (rule.position, rule.reason, str(rule)) == (
        3,
        "human_requested",
        "#3: reason human_requested → Billing",
    )
    page = admin_client.get(f"/admin/sessions_app/team/{team.pk}/change/")
    assert 'value="billing, refunds"' in page.content.decode()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/sessions_app/team/",
        "/admin/sessions_app/agentprofile/",
        "/admin/teams/routingrule/",
        "/admin/teams/routingrule/add/",
    ],
)
def test_pages_render(admin_client, url):
    Team.objects.create(name="Tech").members.add(StaffFactory())
    assert admin_client.get(url).status_code == 200
