"""Scale-out: two Daphne processes behind HAProxy, one session's sockets on both, the agent.

The balancer is the one `make up WEB=2` runs (scripts/haproxy_config.py: leastconn, no
sticky sessions). Every socket must get every message of its session, the agent's replies
included, in seq order with no gap and no duplicate, whichever process it landed on; a
socket that resumes on the other process gets exactly what it missed.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from scripts.haproxy_config import BACKEND_HEADER
from tests.full.conftest import AGENT_DEMO, Ws, http, in_thread, messages_in, subprocess_env
from tests.servers import (
    daphne_argv,
    free_port,
    raise_nofile_limit,
    start_haproxy,
    start_process,
    wait_until_live,
)

pytestmark = pytest.mark.full

REFUND_QUESTION = "How long does a refund take?"
MONEY_BACK_QUESTION = "When do I get my money back?"
REPLY_TIMEOUT = 30.0


@pytest.fixture(scope="module")
def balanced(live_stack, tmp_path_factory):
    """Two Daphne processes (the live stack's worker answers) behind one HAProxy port."""
    log_dir = tmp_path_factory.mktemp("scale-out")
    # The balancer connects from 127.0.0.1: trusted to say who the client is.
    env = subprocess_env()
    env["TRUSTED_PROXIES"] = "127.0.0.1/32"
    processes = []
    try:
        # Both start at once (each takes seconds to import Django), then both must be live.
        ports = [free_port(), free_port()]
        for port in ports:
            processes.append(
                start_process(
                    f"daphne-{port}", daphne_argv(port), log_dir, env, preexec_fn=raise_nofile_limit
                )
            )
        backends = [f"http://127.0.0.1:{port}" for port in ports]
        for process, url in zip(processes, backends, strict=True):
            wait_until_live(process, url)
        haproxy, base_url = start_haproxy(log_dir, backends)
        processes.append(haproxy)
        yield base_url, processes
    finally:
        for process in reversed(processes):
            process.stop()


@pytest.fixture
def small_knowledge_base(transactional_db, tmp_path):
    """Four demo articles and their examples: a fraction of the full index's build time."""
    from agents.kb_io import kb_import

    slugs = {"refund-timing", "returns-policy", "payment-methods", "contact-support"}
    articles = [
        line
        for line in (AGENT_DEMO / "articles.jsonl").read_text().splitlines()
        if json.loads(line)["slug"] in slugs
    ]
    assert len(articles) == len(slugs), "the demo articles were renamed"
    examples = [
        line
        for index, line in enumerate((AGENT_DEMO / "examples.csv").read_text().splitlines())
        if index == 0 or line.rsplit(",", 1)[-1] in slugs
    ]
    (tmp_path / "articles.jsonl").write_text("\n".join(articles) + "\n")
    (tmp_path / "examples.csv").write_text("\n".join(examples) + "\n")
    result = kb_import(
        articles_file=tmp_path / "articles.jsonl", examples_files=[tmp_path / "examples.csv"]
    )
    assert result.articles_created == len(slugs)
    return result


def _db_seqs(session_id: str) -> list[int]:
    from chat.models import Message

    return list(
        Message.objects.filter(session_id=session_id).order_by("seq").values_list("seq", flat=True)
    )


def _backend(ws: Ws) -> str:
    return ws.conn.response.headers[BACKEND_HEADER]


async def _open_on(url: str, *, name: str, avoid: str | None = None) -> Ws:
    """Open a socket through the balancer until it lands on a process other than ``avoid``.

    Sockets that land elsewhere stay open until then (leastconn sends the next one to the
    other process) and are closed afterwards.
    """
    misses: list[Ws] = []
    try:
        for attempt in range(6):
            ws = await Ws.open(url, name=f"{name}#{attempt}")
            landed = _backend(ws)
            if landed != avoid:
                ws.name = name
                return ws
            misses.append(ws)
        raise AssertionError(f"{name}: every attempt landed on {avoid}")
    finally:
        for miss in misses:
            await miss.close()


async def _assistant_after(ws: Ws, seq: int) -> dict:
    """Wait for the agent's reply to the customer message ``seq`` (a message frame)."""
    frames = await ws.until(
        lambda f: (
            f.get("type") == "message"
            and f["message"]["role"] == "assistant"
            and f["message"]["seq"] > seq
        ),
        timeout=REPLY_TIMEOUT,
    )
    return frames[-1]["message"]


def _assert_in_order(ws: Ws, stored: list[int], *, start: int = 1) -> None:
    seqs = [m["seq"] for m in messages_in(ws.frames)]
    assert seqs == list(range(start, start + len(seqs))), f"{ws.name}: gap or duplicate {seqs}"
    assert seqs == [s for s in stored if s >= start], f"{ws.name}: got {seqs}, stored {stored}"


@pytest.mark.django_db(transaction=True)
async def test_one_session_on_two_processes(stack, balanced, small_knowledge_base):
    base_url, processes = balanced
    ws_base = base_url.replace("http://", "ws://")
    created = await in_thread(
        http, "POST", f"{base_url}/api/v1/sessions/", json_body={"customer_name": "Scale"}
    )
    assert created.status == 201, created.body
    session_id, token = created.body["id"], created.body["token"]
    url = f"{ws_base}/ws/sessions/{session_id}/"

    a = await _open_on(url, name="A")
    b = await _open_on(url, name="B", avoid=_backend(a))
    c: Ws | None = None
    try:
        assert {_backend(a), _backend(b)} == {"web1", "web2"}
        assert (await a.auth(token))["last_seq"] == 0
        assert (await b.auth(token))["last_seq"] == 0

        # --- A (one process) and B (the other) each ask; the worker answers both ---------------
        await a.send({"type": "message", "content": REFUND_QUESTION, "client_msg_id": "sa-1"})
        ack = (await a.until(lambda f: f.get("type") == "ack"))[-1]
        assert ack["seq"] == 1
        for ws in (a, b):
            reply = await _assistant_after(ws, 1)
            assert reply["content"].strip() and reply["sources"], reply

        await b.send({"type": "message", "content": MONEY_BACK_QUESTION, "client_msg_id": "sb-1"})
        ack = (await b.until(lambda f: f.get("type") == "ack"))[-1]
        for ws in (a, b):
            await _assistant_after(ws, ack["seq"])

        # --- a REST post through the balancer (it may land on either process) ------------------
        posted = await in_thread(
            http,
            "POST",
            f"{base_url}/api/v1/sessions/{session_id}/messages/?wait=20",
            json_body={"content": REFUND_QUESTION, "client_msg_id": "s-rest-1"},
            headers={"Authorization": f"Session {token}"},
            timeout=30,
        )
        assert posted.status == 201, posted.body
        headers = {name.lower(): value for name, value in posted.headers.items()}
        assert headers.get(BACKEND_HEADER.lower()) in {"web1", "web2"}
        assert posted.body["reply"] is not None, "the worker did not answer within 20 s"
        last = posted.body["reply"]["seq"]
        for ws in (a, b):
            await ws.until(lambda f: f.get("type") == "message" and f["message"]["seq"] >= last)
        stored = await in_thread(_db_seqs, session_id)
        assert stored == list(range(1, last + 1)), stored
        for ws in (a, b):
            _assert_in_order(ws, stored)
            roles = [m["role"] for m in messages_in(ws.frames)]
            assert roles.count("assistant") == 3, f"{ws.name}: {roles}"

        # --- B leaves; A's messages and the agent's replies go on without it --------------------
        b_backend, b_seen = _backend(b), max(m["seq"] for m in messages_in(b.frames))
        await b.close()
        await a.send({"type": "message", "content": MONEY_BACK_QUESTION, "client_msg_id": "sa-2"})
        ack = (await a.until(lambda f: f.get("type") == "ack"))[-1]
        missed_reply = await _assistant_after(a, ack["seq"])

        # --- B resumes on the OTHER process: exactly what it missed, then live messages --------
        c = await _open_on(url, name="C", avoid=b_backend)
        ready = await c.auth(token, last_seq=b_seen)
        assert ready["last_seq"] == b_seen
        stored = await in_thread(_db_seqs, session_id)
        missed = [s for s in stored if s > b_seen]
        assert missed == [ack["seq"], missed_reply["seq"]], (stored, b_seen)
        await c.until(lambda f: f.get("type") == "message" and f["message"]["seq"] == missed[-1])
        await a.send({"type": "message", "content": REFUND_QUESTION, "client_msg_id": "sa-3"})
        live = (await a.until(lambda f: f.get("type") == "ack"))[-1]["seq"]
        for ws in (a, c):
            await _assistant_after(ws, live)
        await c.quiet(0.5)  # a duplicate would land in c.frames
        stored = await in_thread(_db_seqs, session_id)
        _assert_in_order(c, stored, start=b_seen + 1)
        _assert_in_order(a, stored)
    finally:
        for ws in (a, b, c):
            if ws is not None:
                await ws.close()
    for process in processes:
        assert process.alive(), f"{process.name} died:\n{process.log_text()[-4000:]}"


def _hand_to_person(session_id: str) -> None:
    from sessions_app.models import HandledBy, SessionStatus, SupportSession

    SupportSession.objects.filter(id=session_id).update(
        handled_by=HandledBy.HUMAN, status=SessionStatus.ESCALATED
    )


def _post(base_url: str, session_id: str, token: str, key: str):
    return http(
        "POST",
        f"{base_url}/api/v1/sessions/{session_id}/messages/",
        json_body={"content": f"note {key}", "client_msg_id": key},
        headers={"Authorization": f"Session {token}"},
    )


# Runs last in this module: it kills one of the module's Daphne processes.
@pytest.mark.django_db(transaction=True)
async def test_a_dead_process_is_taken_out_and_its_sockets_resume_on_the_other(stack, balanced):
    base_url, processes = balanced
    haproxy = processes[2]
    log_start = haproxy.log_size()
    created = await in_thread(http, "POST", f"{base_url}/api/v1/sessions/", json_body={})
    assert created.status == 201, created.body
    session_id, token = created.body["id"], created.body["token"]
    await in_thread(_hand_to_person, session_id)  # no agent reply: only these messages
    url = f"{base_url.replace('http://', 'ws://')}/ws/sessions/{session_id}/"
    a = await _open_on(url, name="A")
    b = await _open_on(url, name="B", avoid=_backend(a))
    c: Ws | None = None
    try:
        await a.auth(token)
        await b.auth(token)
        first = await in_thread(_post, base_url, session_id, token, "before")
        assert first.status == 201, first.body
        for ws in (a, b):
            await ws.until(lambda f: f.get("type") == "message" and f["message"]["seq"] == 1)

        # --- A's process dies (SIGKILL: no goodbye); A's socket drops -------------------------
        dead = _backend(a)
        processes[int(dead.removeprefix("web")) - 1].process.kill()
        assert await a.wait_closed(timeout=10) == 1006
        # Requests keep being answered: a refused connection is redispatched. A request that
        # reached the dying process before it was gone can still get a 502; the client then
        # re-sends with the same client_msg_id, as the protocol asks, and nothing is doubled.
        for _attempt in range(3):
            during = await in_thread(_post, base_url, session_id, token, "during")
            if during.status != 502:
                break
        assert during.status == 201, during.body
        await b.until(lambda f: f.get("type") == "message" and f["message"]["seq"] == 2)
        # ... and the health check takes the dead process out.
        deadline = asyncio.get_running_loop().time() + 10
        while f"daphne/{dead} is DOWN" not in haproxy.log_text(log_start):
            assert asyncio.get_running_loop().time() < deadline, haproxy.log_text(log_start)
            await asyncio.sleep(0.2)

        # --- A reconnects through the balancer: the live process, exactly what it missed ------
        c = await Ws.open(url, name="C")
        assert _backend(c) == _backend(b) != dead
        await c.auth(token, last_seq=1)
        await c.until(lambda f: f.get("type") == "message" and f["message"]["seq"] == 2)
        await c.quiet(0.5)  # a duplicate would land in c.frames
        assert [m["seq"] for m in messages_in(c.frames)] == [2]
        assert messages_in(c.frames)[0]["client_msg_id"] == "during"
    finally:
        for ws in (a, b, c):
            if ws is not None:
                await ws.close()
