"""Close a user's agent-console sockets when they log out or lose staff rights (4003).

Also defines ``message_created``, the domain event higher apps (webhooks) listen to.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from supportdesk import realtime

logger = logging.getLogger(__name__)

# Sent after the transaction that stored a message commits, with ``message_id``,
# ``session_id`` and ``internal`` (a staff-only note); sessions_app.signals.send_after_commit.
message_created = Signal()


def agent_sockets_revoke(*, user_id: int, reason: str, session_key: str | None = None) -> None:
    """Tell the user's agent sockets (only those of ``session_key`` if given) to close.

    Sent after commit: a deactivation that is rolled back closes nothing. A lost event is
    covered by the consumer's periodic re-check (CHAT_AGENT_RECHECK_SECONDS).
    """
    event = {"type": "agent.revoke", "reason": reason, "session_key": session_key}
    group = realtime.agent_user_group(user_id)
    transaction.on_commit(lambda: realtime.group_send(group, event))


@receiver(user_logged_out, dispatch_uid="chat.agent_sockets_on_logout")
def _on_logout(sender, request, user, **kwargs) -> None:
    if user is None:
        return
    session = getattr(request, "session", None)
    agent_sockets_revoke(
        user_id=user.pk, reason="logout", session_key=getattr(session, "session_key", None)
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="chat.agent_sockets_on_save")
def _on_user_saved(sender, instance, created, **kwargs) -> None:
    if created or (instance.is_active and instance.is_staff):
        return
    agent_sockets_revoke(user_id=instance.pk, reason="no longer active staff")
