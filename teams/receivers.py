"""Signal receivers: route at hand-over, drain queues when an agent comes online or is freed."""

from __future__ import annotations

from sessions_app.models import AgentStatus, SupportSession

from . import services


def route_on_escalation(sender, *, session_id, **kwargs) -> None:
    """Route the session just handed over (after its escalation committed)."""
    services.session_route(session_id=session_id)


def drain_on_close(sender, *, session_id, **kwargs) -> None:
    """A closed conversation frees its agent's place: fill it from their teams' queues."""
    assignee_id = (
        SupportSession.objects.filter(pk=session_id).values_list("assignee_id", flat=True).first()
    )
    if assignee_id is not None:
        services.queue_drain_for_agent(user_id=assignee_id)


def drain_on_connect(sender, *, user_id, **kwargs) -> None:
    """An agent opened the console: they are online, so their teams' queues may move."""
    services.queue_drain_for_agent(user_id=user_id)


def drain_on_status(sender, *, user_id, status, **kwargs) -> None:
    """An agent came back from away."""
    if status == AgentStatus.ONLINE:
        services.queue_drain_for_agent(user_id=user_id)
