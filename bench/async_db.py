#!/usr/bin/env python
"""Store messages from an event loop: Django's connection in a thread (run_db) vs psycopg async.

The question issue 11 leaves open: would an async driver (psycopg's ``AsyncConnection`` from
an ``AsyncConnectionPool``) store a customer message for less CPU than what the consumers do
now (``run_db``: a hop to a pool thread, Django's pooled sync connection)? Both variants run
the very statement of the message path (``chat.services.persist_statement``: seq, idempotency and
insert in one CTE, in a short transaction) from ``--tasks`` concurrent coroutines on one event
loop, on PostgreSQL, and report messages/s and the process's CPU per message (all threads).
Nothing else of the message path runs (no broadcast, no signals), so the difference is the
driver and the hop alone.

    .venv/bin/python bench/async_db.py --messages 4000 --tasks 50

Needs local PostgreSQL (127.0.0.1:5432, user postgres, trust); creates and migrates the
database ``sd_async_db_bench`` on first use (``--db-name``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(db_name: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db_name}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "supportdesk.settings"
    # Fails harmlessly when the database exists already (then it is only migrated).
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", db_name], capture_output=True)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True
    )
    import django

    django.setup()


def persist_sql_and_params(session_id: uuid.UUID, content: str, client_msg_id: str):
    """The message path's statement and its parameters, built by chat.services itself."""
    from django.db import connection

    from chat.models import MessageRole
    from chat.services import persist_statement

    _, sql, params = persist_statement(
        connection,
        session_id=session_id,
        refuse_if_closed=False,
        refuse_if_snoozed=False,
        fields={
            "session_id": session_id,
            "role": MessageRole.CUSTOMER,
            "content": content,
            "client_msg_id": client_msg_id,
        },
    )
    return sql, params


def sessions(count: int) -> list[uuid.UUID]:
    from sessions_app.models import SupportSession

    return [
        SupportSession.objects.create(token_hash=uuid.uuid4().hex, handled_by="human").pk
        for _ in range(count)
    ]


async def drive(tasks: int, messages: int, store) -> dict:
    """``tasks`` coroutines store ``messages`` in all, each one message at a time."""
    from asgiref.sync import sync_to_async

    session_ids = await sync_to_async(sessions)(tasks)
    per_task = messages // tasks
    cpu0, wall0 = time.process_time(), time.perf_counter()

    async def one(session_id: uuid.UUID) -> None:
        for n in range(per_task):
            await store(session_id, f"hello {n}", f"c{n}")

    await asyncio.gather(*(one(s) for s in session_ids))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    total = per_task * tasks
    return {
        "messages": total,
        "per_s": round(total / wall, 1),
        "cpu_ms_per_message": round(cpu * 1000 / total, 3),
    }


async def run_db_variant(tasks: int, messages: int) -> dict:
    from channels.db import database_sync_to_async
    from django.db import connection, transaction

    def persist(session_id, content, client_msg_id):
        sql, params = persist_sql_and_params(session_id, content, client_msg_id)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    async def store(session_id, content, client_msg_id):
        # What chat.consumers.run_db does: a pool thread, Django's connection around it.
        await database_sync_to_async(persist, thread_sensitive=False)(
            session_id, content, client_msg_id
        )

    return await drive(tasks, messages, store)


async def async_driver_variant(tasks: int, messages: int, db_name: str) -> dict:
    import psycopg
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(
        f"postgresql://postgres@127.0.0.1:5432/{db_name}",
        min_size=2,
        max_size=10,  # DB_POOL_MAX_SIZE's default: the same cap as run_db's pool
        kwargs={"cursor_factory": psycopg.AsyncClientCursor},  # Django's client-side binding
        open=False,
    )
    await pool.open()
    try:

        async def store(session_id, content, client_msg_id):
            sql, params = persist_sql_and_params(session_id, content, client_msg_id)
            async with pool.connection() as conn, conn.transaction():
                cursor = await conn.execute(sql, params)
                await cursor.fetchone()

        return await drive(tasks, messages, store)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--db-name", default="sd_async_db_bench")
    args = parser.parse_args()
    setup_django(args.db_name)
    for round_ in range(args.rounds):
        for name, variant in (
            ("run_db (thread + Django sync connection)", run_db_variant(args.tasks, args.messages)),
            (
                "psycopg AsyncConnectionPool",
                async_driver_variant(args.tasks, args.messages, args.db_name),
            ),
        ):
            row = {"round": round_ + 1, "variant": name, **asyncio.run(variant)}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
