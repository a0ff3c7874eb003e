"""The PostgreSQL one-statement message path: seq, idempotency and refusals (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from sessions_app.models import HandledBy, SessionStatus
from tests.factories import DEFAULT_TOKEN, SupportSessionFactory
from tests.full.conftest import ROOT

pytestmark = [pytest.mark.full, pytest.mark.django_db(transaction=True)]


def _human_session(**kwargs):
    defaults = {"status": SessionStatus.ESCALATED, "handled_by": HandledBy.HUMAN}
    return SupportSessionFactory(**{**defaults, **kwargs})


def _rows(session_id) -> list[tuple[int, str | None]]:
    from chat.models import Message

    return list(
        Message.objects.filter(session_id=session_id)
        .order_by("seq")
        .values_list("seq", "client_msg_id")
    )


def _touching_message_path(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "chat_message" in q["sql"] or "sessions_app_supportsession" in q["sql"]
    ]


def test_a_customer_message_is_one_statement_on_postgresql():
    from chat.services import message_create
    from sessions_app.models import SupportSession

    assert connection.vendor == "postgresql"
    session = _human_session()
    before = SupportSession.objects.get(pk=session.pk).last_activity_at
    with CaptureQueriesContext(connection) as captured:
        result = message_create(
            session_id=session.pk, role="customer", content="hello", client_msg_id="c1"
        )
    statements = _touching_message_path(captured.captured_queries)
    assert len(statements) == 1, statements
    assert statements[0].lstrip().startswith("WITH s AS (")
    assert result.created and result.message.seq == 1
    stored = SupportSession.objects.get(pk=session.pk)
    assert stored.last_seq == 1
    assert stored.last_activity_at > before
    assert _rows(session.pk) == [(1, "c1")]


def test_a_resent_client_msg_id_returns_the_stored_message_and_consumes_no_seq():
    from chat.services import message_create

    session = _human_session()
    first = message_create(session_id=session.pk, role="customer", content="a", client_msg_id="x")
    again = message_create(session_id=session.pk, role="customer", content="b", client_msg_id="x")
    assert not again.created
    assert again.message.pk == first.message.pk and again.message.content == "a"
    after = message_create(session_id=session.pk, role="customer", content="c", client_msg_id="y")
    assert after.message.seq == 2
    assert _rows(session.pk) == [(1, "x"), (2, "y")]


def test_a_closed_session_refuses_a_person_without_consuming_a_seq():
    from chat.services import message_create
    from sessions_app.exceptions import SessionClosed, SessionNotFound
    from sessions_app.models import SupportSession

    session = _human_session()
    message_create(session_id=session.pk, role="customer", content="a", client_msg_id="x")
    SupportSession.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED)
    with pytest.raises(SessionClosed):
        message_create(session_id=session.pk, role="customer", content="b", client_msg_id="n")
    # A re-send of what was stored before the close still gets its message back.
    resent = message_create(session_id=session.pk, role="customer", content="a", client_msg_id="x")
    assert not resent.created and resent.message.seq == 1
    # System messages (timeline notes) may still be added: the next seq, no gap.
    note = message_create(session_id=session.pk, role="system", content="closed")
    assert note.message.seq == 2
    assert SupportSession.objects.get(pk=session.pk).last_seq == 2
    with pytest.raises(SessionNotFound):
        message_create(
            session_id="00000000-0000-4000-8000-000000000000", role="customer", content="?"
        )


def test_a_rolled_back_enclosing_transaction_leaves_no_message_and_no_seq():
    from chat.services import message_create
    from sessions_app.models import SupportSession

    session = _human_session()
    with pytest.raises(RuntimeError), transaction.atomic():
        message_create(session_id=session.pk, role="customer", content="gone")
        raise RuntimeError("roll back")
    assert _rows(session.pk) == []
    assert SupportSession.objects.get(pk=session.pk).last_seq == 0
    kept = message_create(session_id=session.pk, role="customer", content="kept")
    assert kept.message.seq == 1


_RESENDER = textwrap.dedent(
    """
    import json, sys, time, urllib.request
    base, session_id, token, ids, start_at = sys.argv[1:6]
    time.sleep(max(0.0, float(start_at) - time.time()))
    got = []
    for cid in ids.split(","):
        body = json.dumps({"content": f"text of {cid}", "client_msg_id": cid})
        request = urllib.request.Request(
            f"{base}/api/v1/sessions/{session_id}/messages/", data=body.encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Session {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            payload = json.loads(response.read())
            got.append([cid, payload["seq"], payload["id"], response.status])
    print(json.dumps(got))
    """
)


def test_processes_resending_the_same_ids_store_each_once_without_gaps(stack):
    """Three Daphne clients and two threads here send the same ids at once, in other orders."""
    from django.db import connections

    from chat.services import message_create
    from sessions_app.models import SupportSession

    ids = [f"m{k}" for k in range(20)]
    orders = [ids, ids[::-1], ids[7:] + ids[:7]]
    session = _human_session()
    start_at = time.time() + 1.5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _RESENDER, stack.base_url, str(session.pk), DEFAULT_TOKEN]
            + [",".join(order), str(start_at)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for order in orders
    ]
    direct: list[list] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(order: list[str]) -> None:
        try:
            time.sleep(max(0.0, start_at - time.time()))
            for cid in order:
                result = message_create(
                    session_id=session.pk,
                    role="customer",
                    content=f"text of {cid}",
                    client_msg_id=cid,
                )
                with lock:
                    direct.append([cid, result.message.seq, str(result.message.pk), None])
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(o,)) for o in (ids[::2] + ids[1::2], ids)]
    for thread in threads:
        thread.start()
    answers: list[list] = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, f"resender failed ({proc.returncode}): {err[-2000:]}"
            answers.extend(json.loads(out))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
        for thread in threads:
            thread.join(timeout=120)
    assert not errors, errors
    answers += direct
    assert len(answers) == 5 * len(ids)
    # Every sender of an id got the same message; the ids hold seqs 1..20, each once.
    by_id: dict[str, set[tuple[int, str]]] = {}
    for cid, seq, pk, _ in answers:
        by_id.setdefault(cid, set()).add((seq, pk))
    assert all(len(seen) == 1 for seen in by_id.values()), by_id
    assert sorted(seq for ((seq, _),) in by_id.values()) == list(range(1, len(ids) + 1))
    assert [seq for seq, _ in _rows(session.pk)] == list(range(1, len(ids) + 1))
    assert SupportSession.objects.get(pk=session.pk).last_seq == len(ids)
    # REST answered 201 to exactly one sender per id at most, 200 to the re-sends.
    assert {status for *_, status in answers if status is not None} <= {200, 201}
