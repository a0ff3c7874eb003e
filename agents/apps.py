"""App config for agents: wires the knowledge-base change signals, the reply trigger and the
worker warm-up."""

from celery.signals import worker_process_init, worker_ready
from django.apps import AppConfig


def _warm_worker_process(**kwargs) -> None:
    """A prefork child (or the solo pool) starts: load the encoder and index before tasks."""
    from .knowledge import index_warm

    index_warm()


def _warm_threaded_worker(sender=None, **kwargs) -> None:
    """The worker is ready: warm it here unless its pool forks children (they warm themselves;
    loading the ONNX runtime before a fork is not fork-safe)."""
    from celery.concurrency.prefork import TaskPool as PreforkPool

    if isinstance(getattr(sender, "pool", None), PreforkPool):
        return
    from .knowledge import index_warm

    index_warm()


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
        worker_process_init.connect(_warm_worker_process, weak=False, dispatch_uid="agents.warm")
        worker_ready.connect(_warm_threaded_worker, weak=False, dispatch_uid="agents.warm_ready")
