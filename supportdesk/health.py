"""Liveness and readiness probes: /health/live and /health/ready."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _check_database() -> str:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _check_migrations() -> str:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        raise RuntimeError(f"{len(pending)} migrations not applied")
    return "ok"


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("health.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "health.ping", "token": token})
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    # A receive cancelled while waiting is how a channel is released: the pub/sub layer
    # unsubscribes it then, so probes don't leave subscriptions behind.
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=0.05)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned a different message")


def _check_channel_layer() -> str:
    async_to_sync(_layer_round_trip)()
    return "ok"


def _check_cache() -> str:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", 10)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)
    return "ok"


def _check_celery() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "ok (eager, in-process)"
    from supportdesk.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("broker reachable but no worker answered")
    return f"ok ({len(replies)} workers)"


def _check_knowledge_base() -> str:
    from agents.models import Article

    count = Article.objects.filter(is_published=True).count()
    if count == 0:
        raise RuntimeError("no published articles")
    return f"ok ({count} articles)"


CHECKS = {
    "database": _check_database,
    "migrations": _check_migrations,
    "channel_layer": _check_channel_layer,
    "cache": _check_cache,
    "celery": _check_celery,
    "knowledge_base": _check_knowledge_base,
}


@never_cache
@require_GET
def live(request):
    """Answer 200 while the process serves requests."""
    return JsonResponse({"status": "ok"})


def _is_staff(request) -> bool:
    # The user comes from the database: while it is down, nobody is staff (no 500 here).
    try:
        user = request.user
        return bool(user.is_authenticated and user.is_staff and user.is_active)
    except Exception:
        return False


@never_cache
@require_GET
def ready(request):
    """Run every dependency check; 200 if all pass, else 503 with what failed.

    Only staff see each check's detail: an error's text can name the database host and port
    (or worse), so everyone else gets "ok"/"error" per check. The log has the full text.
    """
    results = {}
    healthy = True
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            results[name] = {"status": "ok", "detail": detail}
        except Exception as error:
            healthy = False
            results[name] = {"status": "error", "detail": str(error) or type(error).__name__}
            logger.warning("Readiness check %s failed: %s", name, error)
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    if not _is_staff(request):
        for result in results.values():
            result["detail"] = result["status"]
    response = JsonResponse(
        {"status": "ok" if healthy else "error", "checks": results},
        status=200 if healthy else 503,
    )
    # Each failing check was logged above at WARNING; django.request would add an ERROR line
    # per probe (every few seconds from a load balancer) for the same outage.
    response._has_been_logged = True
    return response
