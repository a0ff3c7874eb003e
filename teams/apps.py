"""App config for teams: routing connects to the lifecycle's and the console's signals."""

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Teams and routing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat.signals import agent_connected
        from sessions_app.signals import agent_status_changed, session_closed, session_escalated

        from . import receivers

        session_escalated.connect(receivers.route_on_escalation, dispatch_uid="teams.route")
        session_closed.connect(receivers.drain_on_close, dispatch_uid="teams.drain_on_close")
        agent_connected.connect(receivers.drain_on_connect, dispatch_uid="teams.drain_on_connect")
        agent_status_changed.connect(
            receivers.drain_on_status, dispatch_uid="teams.drain_on_status"
        )
