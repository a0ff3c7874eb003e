"""Faults on a private stack: a worker SIGKILLed holding a reply, Redis down, take-over races.

The stack here is the test's own: a redis-server it may stop (never the shared one), a
Daphne, a Celery worker in its own process group (so SIGKILL takes the main process and its
pool children) and, for the sweep, Celery beat with short intervals. The agent answers
through the openai provider against a local fake endpoint whose answers a test can hold.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import InvalidStatus

from agents.tests.chat_completions_server import ChatCompletionsServer, Reply
from tests.factories import DEFAULT_TOKEN, StaffFactory, SupportSessionFactory
from tests.full.conftest import Ws, http, in_thread, messages_in
from tests.servers import (
    ManagedProcess,
    free_port,
    kill_group,
    server_env,
    start_celery,
    start_daphne,
    start_redis,
)

pytestmark = pytest.mark.full

QUESTION = "How long does a refund take?"
ANSWER = "Refunds reach your card within 5 business days [1]."
# Short sweep settings so a lost reply is found in seconds (production: 15 s / 180 s).
SWEEP_INTERVAL = 1.0
UNANSWERED_AFTER = 3.0


class FaultStack:
    """Redis, Daphne, worker and beat of one test module, each startable and killable."""

    def __init__(self, log_dir: Path, llm: ChatCompletionsServer):
        self.log_dir = log_dir
        self.llm = llm
        self.redis_port = free_port()
        self.env = server_env(
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            CHANNEL_LAYER_PREFIX=f"sdfaults-{uuid.uuid4().hex[:6]}",
            CELERY_TASK_ALWAYS_EAGER="0",
            AGENT_PROVIDER="openai",
            OPENAI_BASE_URL=llm.url,
            OPENAI_API_KEY="sk-test",
            OPENAI_TIMEOUT="40",
            AGENT_SWEEP_INTERVAL=str(SWEEP_INTERVAL),
            AGENT_UNANSWERED_AFTER=str(UNANSWERED_AFTER),
            AGENT_SWEEP_MAX_REQUEUES="2",
            # TF-IDF only: the index builds in about a second (the answer comes from the fake
            # model anyway); the test process builds it the same way (tfidf_only).
            AGENT_ENCODER="none",
        )
        self.redis: ManagedProcess | None = None
        self.daphne: ManagedProcess | None = None
        self.worker: ManagedProcess | None = None
        self.beat: ManagedProcess | None = None
        self.base_url = ""

    # --- processes ---------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.redis = start_redis(self.log_dir, self.redis_port)

    def stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()

    def start_daphne(self) -> None:
        self.daphne, self.base_url = start_daphne(self.log_dir, self.env)

    def start_worker(self) -> None:
        name = f"faults-{uuid.uuid4().hex[:8]}"
        self.worker = start_celery(
            "worker",
            [
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.log_dir,
            self.env,
            ready_marker=" ready.",
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        kill_group(self.worker)

    def start_beat(self) -> None:
        schedule = self.log_dir / f"beat-{uuid.uuid4().hex[:6]}"
        self.beat = start_celery(
            "beat",
            ["beat", "--loglevel=INFO", "-s", str(schedule)],
            self.log_dir,
            self.env,
            ready_marker="beat: Starting",
        )

    def stop_all(self) -> None:
        for proc in (self.beat, self.worker):
            if proc is not None:
                kill_group(proc)
        for proc in (self.daphne, self.redis):
            if proc is not None:
                proc.stop()

    def logs(self) -> str:
        procs = [p for p in (self.redis, self.daphne, self.worker, self.beat) if p is not None]
        return "\n".join(f"--- {p.name} ---\n{p.log_text()[-5000:]}" for p in procs)

    # --- REST --------------------------------------------------------------------------------

    def post_message(self, session_id, content: str, client_msg_id: str, timeout: float = 15):
        return http(
            "POST",
            f"{self.base_url}/api/v1/sessions/{session_id}/messages/",
            json_body={"content": content, "client_msg_id": client_msg_id},
            headers={"Authorization": f"Session {DEFAULT_TOKEN}"},
            timeout=timeout,
        )

    def messages(self, session_id) -> list[dict]:
        response = http(
            "GET",
            f"{self.base_url}/api/v1/sessions/{session_id}/messages/?limit=100",
            headers={"Authorization": f"Session {DEFAULT_TOKEN}"},
        )
        assert response.status == 200, response.body
        return response.body["results"]

    def ws(self, session_id) -> str:
        return f"{self.base_url.replace('http://', 'ws://')}/ws/sessions/{session_id}/"


def poll(what: str, check: Callable[[], object], timeout: float, stack: FaultStack):
    """Return check()'s first truthy value within ``timeout`` s, or fail with the logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"{what}: not within {timeout} s\n{stack.logs()}")


@pytest.fixture(scope="module")
def fault_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    with ChatCompletionsServer() as llm:
        stack = FaultStack(tmp_path_factory.mktemp("faults"), llm)
        try:
            stack.start_redis()
            stack.start_daphne()
            stack.start_worker()
            yield stack
        finally:
            stack.stop_all()


@pytest.fixture
def tfidf_only(settings):
    settings.AGENT_ENCODER = "none"


@pytest.fixture
def faults(fault_stack, tfidf_only, knowledge_base):
    """The module's stack, with every process up and the fake LLM answering at once."""
    stack = fault_stack
    if stack.redis is None or not stack.redis.alive():
        stack.start_redis()
    if stack.worker is None or not stack.worker.alive():
        stack.start_worker()
    stack.llm.script(Reply(text=ANSWER))
    stack.llm.arrived.clear()
    yield stack
    if stack.beat is not None:
        kill_group(stack.beat)
        stack.beat = None


def _roles(messages: list[dict]) -> list[str]:
    return [m["role"] for m in messages]


# --- finding 6: no AI reply after a take-over or a close ----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["take_over", "close"])
async def test_a_reply_held_across_a_take_over_or_close_is_dropped(faults, change):
    session = await in_thread(SupportSessionFactory)
    agent = await in_thread(StaffFactory)
    gate = threading.Event()
    faults.llm.script(Reply(gate=gate, text=ANSWER))
    ws = await Ws.open(faults.ws(session.pk), name="customer")
    try:
        await ws.auth(DEFAULT_TOKEN)
        posted = await in_thread(faults.post_message, session.pk, QUESTION, "race-1")
        assert posted.status == 201, posted.body
        # The worker is composing: its request to the model is being held.
        assert await in_thread(faults.llm.arrived.wait, 20), faults.logs()
        from sessions_app import services

        if change == "take_over":
            await in_thread(services.session_take_over, session_id=session.pk, user=agent)
        else:
            await in_thread(services.session_close, session_id=session.pk)
        gate.set()
        # The customer page is told the AI stopped (and gets no answer).
        await ws.until(lambda f: f.get("type") == "agent_status" and f["state"] == "idle", 20)
    finally:
        gate.set()
        await ws.close()
    assert not [m for m in messages_in(ws.frames) if m["role"] == "assistant"]
    stored = await in_thread(faults.messages, session.pk)
    assert "assistant" not in _roles(stored), stored
    status = "escalated" if change == "take_over" else "closed"
    assert stored[-1]["role"] == "system"
    from sessions_app.models import SupportSession

    current = await in_thread(SupportSession.objects.get, pk=session.pk)
    assert current.status == status


# --- finding 3: a worker SIGKILLed while it holds the reply ------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_a_reply_lost_with_a_killed_worker_is_redone_within_seconds(faults):
    session = await in_thread(SupportSessionFactory)
    never = threading.Event()  # the first answer never comes: the worker dies holding it
    faults.llm.script(Reply(gate=never, text="never sent"), Reply(text=ANSWER))

    posted = await in_thread(faults.post_message, session.pk, QUESTION, "lost-1")
    assert posted.status == 201, posted.body
    assert await in_thread(faults.llm.arrived.wait, 20), faults.logs()
    faults.kill_worker()  # main process and pool child: the task stays unacked in Redis
    killed_at = time.monotonic()

    await in_thread(faults.start_worker)
    await in_thread(faults.start_beat)

    def answered():
        replies = [m for m in faults.messages(session.pk) if m["role"] == "assistant"]
        return replies or None

    replies = await in_thread(poll, "the reply after the kill", answered, 30, faults)
    took = time.monotonic() - killed_at
    print(f"reply {took:.1f} s after the worker was killed")
    assert replies[0]["content"].startswith("Refunds reach your card")
    # Two more sweep periods: still exactly one reply (a re-enqueue never answers twice).
    await asyncio.sleep(2 * SWEEP_INTERVAL + 1)
    stored = await in_thread(faults.messages, session.pk)
    assert _roles(stored) == ["customer", "assistant"], stored


# --- finding 4: Redis down ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_redis_down_stores_answers_201_closes_sockets_1013_and_replies_when_back(faults):
    session = await in_thread(SupportSessionFactory)
    await in_thread(faults.start_beat)
    faults.stop_redis()
    try:
        started = time.monotonic()
        posted = await in_thread(faults.post_message, session.pk, QUESTION, "outage-1")
        post_seconds = time.monotonic() - started
        assert posted.status == 201, posted.body
        assert posted.body["seq"] == 1 and posted.body["client_msg_id"] == "outage-1"
        print(f"POST during the outage answered in {post_seconds:.2f} s")

        # The handshake is not an HTTP 500: accepted, then closed "try again later".
        try:
            ws = await Ws.open(faults.ws(session.pk), name="outage")
        except InvalidStatus as refused:
            pytest.fail(f"handshake refused with HTTP {refused.response.status_code}")
        try:
            assert await ws.wait_closed(timeout=15) == 1013
        finally:
            await ws.close()
        # Keep Redis down until the message is overdue and beat has tried to send the sweep
        # twice into the outage: beat and worker must survive it, not just a blip.
        await asyncio.sleep(
            max(0.0, UNANSWERED_AFTER + 2 * SWEEP_INTERVAL - (time.monotonic() - started))
        )
    finally:
        outage_ended = time.monotonic()
        faults.start_redis()  # same port: every process reconnects to it

    def answered():
        replies = [m for m in faults.messages(session.pk) if m["role"] == "assistant"]
        return replies or None

    await in_thread(poll, "the reply once Redis is back", answered, 40, faults)
    print(f"reply {time.monotonic() - outage_ended:.1f} s after Redis came back")

    again = await in_thread(faults.post_message, session.pk, QUESTION, "outage-1")
    assert again.status == 200, again.body
    assert again.body["id"] == posted.body["id"]
    await asyncio.sleep(2 * SWEEP_INTERVAL + 1)
    stored = await in_thread(faults.messages, session.pk)
    assert _roles(stored) == ["customer", "assistant"], stored
    daphne_log = faults.daphne.log_text()
    assert " ERROR " not in daphne_log, daphne_log[-4000:]
