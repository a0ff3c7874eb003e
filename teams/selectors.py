"""Read side of routing: which team a hand-over belongs to, who may take it, the teams list."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet

from agents.models import Article
from chat.models import Connection, ConnectionKind, Message, MessageRole
from sessions_app.models import AgentProfile, AgentStatus, SessionStatus, SupportSession, Team

from .models import RoutingRule

# How far back the topic is looked for: the hand-over reply and a few answers before it.
TOPIC_LOOKBACK_MESSAGES = 5
# Statuses that occupy an agent's capacity.
BUSY_STATUSES = (SessionStatus.OPEN, SessionStatus.ESCALATED)


def _normalized(tags) -> set[str]:
    return {str(tag).strip().lower() for tag in tags or [] if str(tag).strip()}


def session_topic_tags(*, session: SupportSession) -> set[str]:
    """Return the tags of the article the AI last matched in this conversation.

    Its last assistant messages, newest first: the articles a reply cited (``sources``), else
    the best candidate the retrieval engine found for a hand-over reply (which cites nothing,
    but names what it weakly matched in its metadata).
    """
    recent = Message.objects.filter(session=session, role=MessageRole.ASSISTANT).order_by("-seq")
    for sources, metadata in recent.values_list("sources", "metadata")[:TOPIC_LOOKBACK_MESSAGES]:
        ids = [s["article_id"] for s in sources or [] if isinstance(s, dict) and "article_id" in s]
        if ids:
            tags = Article.objects.filter(pk__in=ids).values_list("tags", flat=True)
            return set().union(*(_normalized(t) for t in tags))
        candidates = (metadata or {}).get("candidates") or []
        if candidates and isinstance(candidates[0], dict) and candidates[0].get("slug"):
            tags = Article.objects.filter(slug=candidates[0]["slug"]).values_list("tags", flat=True)
            return set().union(*(_normalized(t) for t in tags))
    return set()


def _reasons(session: SupportSession) -> set[str]:
    text = str((session.metadata or {}).get("escalation_reason", ""))
    return {part.strip().lower() for part in text.split(",") if part.strip()}


def team_for_session(*, session: SupportSession) -> Team | None:
    """Return the team a handed-over session goes to, or None (the general queue).

    In order: the first active routing rule that matches; the team that lists the session's
    website; the team whose topic tags meet the tags of the article the AI last matched.
    Teams and rules are few (an admin's table), so they are read whole.
    """
    tags = session_topic_tags(session=session)
    reasons = _reasons(session)
    for rule in RoutingRule.objects.filter(is_active=True).select_related("team"):
        if rule.matches(website_id=session.website_id, tags=tags, reasons=reasons):
            return rule.team
    if session.website_id is not None:
        team = Team.objects.filter(websites=session.website_id).order_by("name", "pk").first()
        if team is not None:
            return team
    if tags:
        for team in Team.objects.order_by("name", "pk"):
            if _normalized(team.topic_tags) & tags:
                return team
    return None


def open_load(*, user_ids) -> dict[int, int]:
    """Return how many open or escalated conversations each user is assigned, in one query."""
    rows = (
        SupportSession.objects.filter(assignee_id__in=list(user_ids), status__in=BUSY_STATUSES)
        .order_by()
        .values("assignee_id")
        .annotate(count=Count("pk"))
    )
    counts = dict.fromkeys(user_ids, 0)
    counts.update({row["assignee_id"]: row["count"] for row in rows})
    return counts


def _online():
    return Exists(Connection.objects.filter(kind=ConnectionKind.AGENT, user_id=OuterRef("user_id")))


def routing_candidates(*, team: Team) -> QuerySet[AgentProfile]:
    """Return the team's agents who may get a conversation now, next in round robin first.

    Online (a console socket open), not away, active staff; capacity is checked by the caller
    under the profiles' row locks. Round robin: the one assigned longest ago (never first).
    """
    return (
        AgentProfile.objects.filter(
            user__support_teams=team,
            user__is_active=True,
            user__is_staff=True,
            status=AgentStatus.ONLINE,
        )
        .filter(_online())
        .order_by(F("last_assigned_at").asc(nulls_first=True), "user_id")
    )


def teams_list() -> QuerySet[Team]:
    """Return the teams with their members, websites and queue length, in three queries."""
    members = get_user_model().objects.select_related("agent_profile").order_by("username")
    waiting = Count(
        "sessions",
        filter=Q(sessions__status=SessionStatus.ESCALATED, sessions__assignee__isnull=True),
    )
    return (
        Team.objects.annotate(waiting=waiting)
        .prefetch_related(Prefetch("members", queryset=members), "websites")
        .order_by("name", "pk")
    )


def agents_online_ids(*, user_ids) -> set[int]:
    """Return which of these users have a console socket open."""
    return set(
        Connection.objects.filter(kind=ConnectionKind.AGENT, user_id__in=list(user_ids))
        .values_list("user_id", flat=True)
        .distinct()
    )


def waiting_sessions(*, team_ids=None, limit: int) -> list:
    """Return ids of routed conversations nobody holds yet, longest waiting first."""
    queryset = SupportSession.objects.filter(
        status=SessionStatus.ESCALATED, assignee__isnull=True, team__isnull=False
    )
    if team_ids is not None:
        queryset = queryset.filter(team_id__in=list(team_ids))
    return list(
        queryset.order_by(F("escalated_at").asc(nulls_last=True), "pk").values_list(
            "pk", "team_id"
        )[:limit]
    )
