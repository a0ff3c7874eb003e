"""App config for chat: stores the session timeline notes sessions_app asks for."""

from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sessions_app.signals import timeline_note_requested

        # Receivers that close agent sockets on logout/deactivation.
        from . import (
            revocation,  # noqa: F401
            services,
        )

        timeline_note_requested.connect(
            services.timeline_note_store, dispatch_uid="chat.timeline_note_store"
        )
        from django.db.models.signals import post_delete

        from .attachments import attachment_deleted
        from .models import Attachment

        # Whichever way a row goes (cleanup, a session deleted in the admin), its files follow.
        post_delete.connect(attachment_deleted, sender=Attachment, dispatch_uid="chat.attachment")
