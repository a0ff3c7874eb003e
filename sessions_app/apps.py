"""App config for sessions_app."""

from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Support sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from supportdesk.origin import register_customer_origin_hook

        from .selectors import website_allows_socket_origin

        # A widget session's socket may also come from its own site's allowed origins (an
        # integrator's own UI on that site); no other session's, and never the agent socket.
        register_customer_origin_hook(
            lambda session_id, origin: website_allows_socket_origin(
                session_id=session_id, origin=origin
            )
        )
