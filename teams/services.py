"""Routing: put a handed-over conversation in a team's queue and give it to a free agent.

Round robin among the team's online, not-away agents with free capacity, through the
lifecycle's own assign service (so the console, the `session.assigned` webhook and the
session frame all follow). Concurrency: the session row, then the team row, then the
candidates' profile rows (in id order) are locked; every automatic assignment to an agent
holds that agent's profile lock until it commits, so two hand-overs at once can never both
take an agent's last free place. On SQLite the connection's BEGIN IMMEDIATE serialises it.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.db import transaction
from django.utils import timezone

from sessions_app.models import AgentProfile, SessionStatus, SupportSession, Team
from sessions_app.services import session_assign, session_team_set
from supportdesk import realtime
from supportdesk.conf import app_setting

from . import selectors

logger = logging.getLogger(__name__)


def _locked_session(session_id) -> SupportSession | None:
    return SupportSession.objects.select_for_update().filter(pk=session_id).first()


def _ensure_profiles(team: Team) -> None:
    missing = team.members.filter(agent_profile__isnull=True).values_list("pk", flat=True)
    AgentProfile.objects.bulk_create(
        [AgentProfile(user_id=pk) for pk in missing], ignore_conflicts=True
    )


def _notify_assigned(user_id: int, session_id: uuid.UUID) -> None:
    realtime.group_send(
        realtime.agent_user_group(user_id),
        {"type": "agent.assigned", "session_id": str(session_id)},
    )


def _assign_in_team(session: SupportSession, team: Team):
    """Give the locked ``session`` to the next free agent of ``team``; return them or None."""
    Team.objects.select_for_update().filter(pk=team.pk).first()  # one router per team at a time
    _ensure_profiles(team)
    candidate_ids = list(selectors.routing_candidates(team=team).values_list("pk", flat=True))
    if not candidate_ids:
        return None
    # All candidates at once, in id order: two routers of different teams sharing agents
    # then lock them in the same order and cannot deadlock.
    profiles = {
        p.pk: p
        for p in AgentProfile.objects.select_for_update()
        .filter(pk__in=candidate_ids)
        .select_related("user")
        .order_by("pk")
    }
    # The load is read after the locks: every automatic assignment to these agents committed
    # before we got them is counted.
    load = selectors.open_load(user_ids=[p.user_id for p in profiles.values()])
    for pk in candidate_ids:  # round-robin order
        profile = profiles.get(pk)
        if profile is None or load[profile.user_id] >= profile.capacity:
            continue
        session_assign(session_id=session.pk, assignee=profile.user, actor=None)
        profile.last_assigned_at = timezone.now()
        profile.save(update_fields=["last_assigned_at"])
        transaction.on_commit(partial(_notify_assigned, profile.user_id, session.pk))
        logger.info("Session %s routed to agent %s (team %s)", session.pk, profile.user_id, team.pk)
        return profile.user
    return None


@transaction.atomic
def session_route(*, session_id: uuid.UUID | str):
    """Route a handed-over session: pick its team, then an agent; return the agent or None.

    A session no longer escalated, or already held, is left alone. With no team it stays in
    the general queue; with no free agent, in its team's queue (drained later).
    """
    session = _locked_session(session_id)
    if session is None or session.status != SessionStatus.ESCALATED or session.assignee_id:
        return None
    team = selectors.team_for_session(session=session) or session.team
    if team is None:
        return None
    if session.team_id != team.pk:
        session = session_team_set(session_id=session.pk, team=team)
    return _assign_in_team(session, team)


@transaction.atomic
def session_autoassign(*, session_id: uuid.UUID | str):
    """Give a waiting session of a team's queue to a free agent; return them or None."""
    session = _locked_session(session_id)
    if (
        session is None
        or session.status != SessionStatus.ESCALATED
        or session.assignee_id
        or session.team_id is None
    ):
        return None
    return _assign_in_team(session, session.team)


def queue_drain(*, team_ids=None, limit: int | None = None) -> int:
    """Assign waiting conversations of the teams' queues (all teams: None); return how many.

    Bounded: at most ``limit`` (TEAMS_QUEUE_DRAIN_LIMIT) sessions are looked at, longest
    waiting first, and a team is skipped once one of its sessions found nobody free.
    """
    if limit is None:
        limit = int(app_setting("TEAMS_QUEUE_DRAIN_LIMIT"))
    full: set[int] = set()
    assigned = 0
    for session_id, team_id in selectors.waiting_sessions(team_ids=team_ids, limit=limit):
        if team_id in full:
            continue
        if session_autoassign(session_id=session_id) is None:
            full.add(team_id)
        else:
            assigned += 1
    return assigned


def queue_drain_for_agent(*, user_id: int) -> int:
    """Assign waiting conversations of the agent's teams (they came online or freed a place)."""
    team_ids = list(Team.objects.filter(members=user_id).values_list("pk", flat=True))
    return queue_drain(team_ids=team_ids) if team_ids else 0
