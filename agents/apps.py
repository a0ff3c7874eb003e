"""App config for agents: wires the knowledge-base change signals and the reply trigger."""

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "AI agent and knowledge base"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from chat.signals import customer_message_stored

        from . import services, signals  # noqa: F401

        customer_message_stored.connect(
            services.reply_on_customer_message, dispatch_uid="agents.reply_on_customer_message"
        )
