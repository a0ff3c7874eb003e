#!/usr/bin/env python
"""Run every issue-11 scenario side by side (bare consumer, code before, code after); plot it.

    .venv/bin/python bench/run_all.py --quick [--before-src /tmp/before_src]

One command, bounded (``--quick`` ≈ 10 minutes on an idle 2-core machine): each scenario
starts its own Daphne (and Celery worker where the AI answers), appends one JSON line per run
to ``--json-out`` (docs/perf/results.jsonl) with the machine's load average, and the plot is
rendered into docs/perf/issue11.png. ``--before-src`` is a tree of the code to compare with
(e.g. ``git archive 11d95d0 | tar -x -C /tmp/before_src``); without it only "after" and the
bare consumer run. Scenarios (docs/performance.md, "Issue 11: side by side"):

1. fan-out at 500 msg/s, 50 sessions × 2 customer sockets: people answering, the AI answering
   (real Celery worker, extractive provider); a rising-rate sweep; 5. 20 agent console sockets
   during the people run (inbox refresh latency);
2. connection soak: idle customer sockets with heartbeats: RSS per connection, ping→pong;
3. agent round trip at 50 concurrent conversations;
4. REST ``GET …/messages/`` at 200 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ws_fanout as wf  # noqa: E402

ROOT = wf.ROOT
PY = str(wf.BIN / "python")


def log(text: str) -> None:
    print(f"[run_all {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def machine() -> dict:
    return {
        "nproc": os.cpu_count(),
        "load": [round(x, 2) for x in os.getloadavg()],
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_head": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
    }


def record(out: Path, scenario: str, variant: str, result: dict) -> dict:
    row = {"scenario": scenario, "variant": variant, "machine": machine(), **result}
    with out.open("a") as fh:
        fh.write(json.dumps(row) + "\n")
    log(f"{scenario}/{variant}: {json.dumps(_brief(row))}")
    return row


def _brief(row: dict) -> dict:
    keys = (
        "delivery_ratio",
        "deliveries_per_s",
        "latency_ms",
        "inbox_latency_ms",
        "rss_per_connection_kib",
        "ping_ms",
        "final_ms",
        "first_ms",
        "replies_per_s_per_worker_process",
        "rest_ms",
        "achieved_rps",
        "error",
    )
    return {k: row[k] for k in keys if k in row}


def db_for(args, root: Path | None) -> str:
    """The database a variant runs on: an older tree gets its own, migrated by its own code."""
    return args.db_name if root is None else f"{args.db_name}_before"


def database_create(args, root: Path | None) -> None:
    name = db_for(args, root)
    wf.configure_targets(argparse.Namespace(db_name=name, redis_db=args.redis_db))
    wf.run(["dropdb", *wf.PG, "--if-exists", "--force", name], timeout=60)
    wf.run(["createdb", *wf.PG, name], timeout=60)
    env = {**os.environ, "DATABASE_URL": wf.DATABASE_URL, "SECRET_KEY": "bench", "DEBUG": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("PYTHONPATH", None)
    wf.run([PY, "manage.py", "migrate", "--noinput"], env=env, timeout=600, cwd=root or ROOT)


# --- scenario 1 (and 5): fan-out through ws_fanout.py -------------------------------------------


def fanout(args, *, server: str, rate: float, seconds: float, root: Path | None, **extra) -> dict:
    """One ws_fanout.py run: 50 sessions × 2 sockets; returns its JSON summary."""
    out = args.tmp / f"fanout-{time.monotonic_ns()}.json"
    cmd = [PY, str(ROOT / "bench" / "ws_fanout.py"), "--server", server]
    cmd += ["--sockets", "100", "--sessions", "50", "--rate", str(rate)]
    cmd += ["--messages", str(max(1, int(rate * seconds))), "--deadline", str(args.deadline)]
    cmd += ["--db-name", db_for(args, root), "--redis-db", str(args.redis_db), "--prefix", "perfb"]
    cmd += ["--json-out", str(out), "--log-dir", str(args.tmp), "--reuse-db", "--no-migrate"]
    cmd += ["--max-seconds", "300"]
    if root is not None:
        cmd += ["--server-root", str(root)]
    if extra.get("ai"):
        cmd.append("--ai")
    if extra.get("agents"):
        cmd += ["--agents", str(extra["agents"])]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=420)
    if done.returncode != 0 or not out.exists():
        return {"error": done.stderr[-1500:]}
    return json.loads(out.read_text().splitlines()[-1])


def scenario_fanout(args, variants: dict[str, Path | None]) -> None:
    for variant, root in variants.items():
        server = "bare" if variant == "bare" else "supportdesk"
        agents = 0 if server == "bare" else 20
        row = fanout(args, server=server, rate=500, seconds=args.seconds, root=root, agents=agents)
        record(args.json_out, "1-fanout-people", variant, row)
        if server == "supportdesk":
            row = fanout(args, server=server, rate=500, seconds=args.seconds, root=root, ai=True)
            record(args.json_out, "1-fanout-ai", variant, row)
    for variant in ("bare", "after"):
        for rate in args.sweep:
            server = "bare" if variant == "bare" else "supportdesk"
            row = fanout(args, server=server, rate=rate, seconds=args.sweep_seconds, root=None)
            record(args.json_out, "1-sweep", variant, {"rate": rate, **row})


# --- servers started here (scenarios 2–4) ------------------------------------------------------


class Stack:
    """One Daphne (supportdesk from ``root``, or the bare consumer), optionally a worker."""

    def __init__(self, args, *, bare: bool, root: Path | None, ai: bool = False):
        wf.SERVER_ROOT = (root or ROOT).resolve()
        ns = argparse.Namespace(
            layer="pubsub",
            chat_rate_limit="100000/1s",
            session_create_rate="10000000/min",
            log_level="WARNING",
            db_conn_max_age=None,
            prefix="perfs",
            db_name=db_for(args, root),
            redis_db=args.redis_db,
            reuse_db=True,
            no_migrate=True,
        )
        wf.configure_targets(ns)
        self.env = wf.server_env(ns)
        wf.flush_redis()
        self.port = wf.free_port()
        self.worker_processes = args.worker_concurrency
        self.worker = (
            wf.start_ai_worker(
                self.env, args.tmp / f"w{self.port}.log", concurrency=args.worker_concurrency
            )
            if ai
            else None
        )
        app = {"app": "bench.bare_asgi:application"} if bare else {}
        self.daphne = wf.Daphne(self.env, self.port, args.tmp / f"d{self.port}.log", **app)
        self.daphne.wait_live()

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.daphne.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        self.daphne.stop()
        if self.worker is not None:
            self.worker.stop()
        with contextlib.suppress(Exception):
            wf.flush_redis()


def sessions_for(stack: Stack, count: int, bare: bool) -> list[dict]:
    if bare:
        import uuid

        return [{"id": str(uuid.uuid4()), "token": "-"} for _ in range(count)]
    from concurrent.futures import ThreadPoolExecutor

    chunks = [max(1, count // 8)] * 8
    chunks[-1] += count - sum(chunks)
    with ThreadPoolExecutor(8) as pool:
        parts = pool.map(lambda n: wf.create_sessions(stack.port, n), chunks)
    return [s for part in parts for s in part][:count]


async def open_customer(port: int, session: dict, timeout: float = 120):
    from websockets.asyncio.client import connect

    ws = await connect(
        f"ws://127.0.0.1:{port}/ws/sessions/{session['id']}/",
        origin=f"http://127.0.0.1:{port}",
        open_timeout=timeout,
        ping_interval=None,
        max_size=2**20,
    )
    await ws.send(json.dumps({"type": "auth", "token": session["token"]}))
    async with asyncio.timeout(timeout):
        while json.loads(await ws.recv()).get("type") != "ready":
            pass
    return ws


def pct(values: list[float], q: float) -> float | None:
    return wf.percentile(sorted(values), q)


# --- scenario 2: connection soak ----------------------------------------------------------------


async def soak(stack: Stack, sessions: list[dict], sockets: int, ping_every: float) -> dict:
    rss0 = stack.rss_kib()
    gate = asyncio.Semaphore(200)
    opened, errors = [], 0

    async def one(i: int):
        nonlocal errors
        async with gate:
            try:
                opened.append(await open_customer(stack.port, sessions[i % len(sessions)]))
            except Exception:  # noqa: BLE001 - counted
                errors += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(sockets)))
    connect_s = time.perf_counter() - t0
    await asyncio.sleep(3)
    rss1 = stack.rss_kib()
    # Heartbeats: every socket pings once per ping_every s, spread evenly; RTT of each.
    rtts: list[float] = []

    async def heartbeat(ws, offset: float, rounds: int):
        await asyncio.sleep(offset)
        for _ in range(rounds):
            start = time.perf_counter()
            with contextlib.suppress(Exception):
                await ws.send('{"type":"ping"}')
                async with asyncio.timeout(30):
                    while json.loads(await ws.recv()).get("type") != "pong":
                        pass
                rtts.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(max(0.0, ping_every - (time.perf_counter() - start)))

    n = len(opened)
    await asyncio.gather(
        *(heartbeat(ws, ping_every * i / max(1, n), 2) for i, ws in enumerate(opened))
    )
    rss2 = stack.rss_kib()
    for ws in opened:
        with contextlib.suppress(Exception):
            await ws.close()
    return {
        "sockets": sockets,
        "sockets_open": n,
        "connect_errors": errors,
        "connect_s": round(connect_s, 1),
        "rss_idle_kib": rss0,
        "rss_open_kib": rss1,
        "rss_after_heartbeats_kib": rss2,
        "rss_per_connection_kib": round((max(rss1, rss2) - rss0) / max(1, n), 1),
        "heartbeats_per_s": round(n / ping_every, 1),
        "ping_ms": {"p50": pct(rtts, 50), "p99": pct(rtts, 99), "n": len(rtts)},
    }


def scenario_soak(args, variants: dict[str, Path | None]) -> None:
    for variant, root in variants.items():
        bare = variant == "bare"
        stack = Stack(args, bare=bare, root=root)
        try:
            sessions = sessions_for(stack, max(1, args.soak // 5), bare)
            row = asyncio.run(soak(stack, sessions, args.soak, args.ping_every))
        except Exception as error:  # noqa: BLE001 - recorded, next variant runs
            row = {"error": repr(error)}
        finally:
            stack.stop()
        record(args.json_out, "2-soak", variant, row)


# --- scenario 3: agent round trip ---------------------------------------------------------------

QUESTIONS = [
    "how do i open an account with you",
    "can i get a refund for my order",
    "how long does shipping take",
    "how do i reset my password",
    "can i change my delivery address",
]


async def agent_round_trip(
    stack: Stack, sessions: list[dict], rounds: int, think_s: float = 0.0
) -> dict:
    """Each conversation asks ``rounds`` questions, the next one when the reply arrived.

    ``think_s`` 0: the next question at once (a burst of len(sessions) questions queued at the
    same time); above 0: a customer reading and typing for that long first, the conversations
    spread over that period (len(sessions) / think_s questions per second offered).
    """
    first_ms, final_ms, missing = [], [], 0
    # first_ms_v2: counts only "thinking"/stream (earlier results also counted a late "idle").

    async def conversation(i: int, session: dict):
        nonlocal missing
        ws = await open_customer(stack.port, session)
        try:
            if think_s:
                await asyncio.sleep(think_s * i / len(sessions))
            for r in range(rounds):
                if think_s and r:
                    await asyncio.sleep(think_s)
                text = QUESTIONS[(i + r) % len(QUESTIONS)]
                start = time.perf_counter()
                await ws.send(json.dumps({"type": "message", "content": text}))
                first = None
                try:
                    async with asyncio.timeout(60):
                        while True:
                            frame = json.loads(await ws.recv())
                            kind = frame.get("type")
                            # "thinking" or a delta: the previous round's late "idle" is no answer.
                            started = kind == "stream" or (
                                kind == "agent_status" and frame.get("state") == "thinking"
                            )
                            if first is None and started:
                                first = time.perf_counter()
                            if kind == "message" and frame["message"]["role"] != "customer":
                                break
                except TimeoutError:
                    missing += 1
                    return
                done = time.perf_counter()
                final_ms.append((done - start) * 1000)
                if first is not None:
                    first_ms.append((first - start) * 1000)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(conversation(i, s) for i, s in enumerate(sessions)))
    wall = time.perf_counter() - t0
    return {
        "conversations": len(sessions),
        "rounds": rounds,
        "think_s": think_s,
        "replies": len(final_ms),
        "missing_replies": missing,
        "first_ms": {"p50": pct(first_ms, 50), "p99": pct(first_ms, 99)},
        "first_ms_v2": True,
        "final_ms": {"p50": pct(final_ms, 50), "p99": pct(final_ms, 99)},
        "replies_per_s": round(len(final_ms) / wall, 2),
        "worker_processes": stack.worker_processes,
        "replies_per_s_per_worker_process": round(len(final_ms) / wall / stack.worker_processes, 2),
    }


def scenario_agent(args, variants: dict[str, Path | None]) -> None:
    for variant, root in variants.items():
        if variant == "bare":
            continue  # the bare consumer has no agent
        stack = Stack(args, bare=False, root=root, ai=True)
        try:
            sessions = sessions_for(stack, 50 + 50 + 1, False)
            row = asyncio.run(agent_round_trip(stack, sessions[:50], args.agent_rounds))
            # The same 50 conversations as customers really type: a question every ~5 s each
            # (10/s offered), and one conversation alone: the reply's own time, no queue.
            paced = asyncio.run(
                agent_round_trip(stack, sessions[50:100], args.agent_rounds + 1, think_s=5.0)
            )
            solo = asyncio.run(agent_round_trip(stack, sessions[100:], 10))
        except Exception as error:  # noqa: BLE001 - recorded
            row = paced = solo = {"error": repr(error)}
        finally:
            stack.stop()
        record(args.json_out, "3-agent", variant, row)
        record(args.json_out, "3-agent-paced", variant, paced)
        record(args.json_out, "3-agent-solo", variant, solo)


# --- scenario 4: REST GET …/messages/ -----------------------------------------------------------


async def rest_load(port: int, path: str, token: str, rate: float, seconds: float) -> dict:
    """GET ``path`` at ``rate``/s over keep-alive HTTP/1.1 connections (a pool of 32)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Session {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while True:
                scheduled = await queue.get()
                if scheduled is None:
                    return
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                latencies.append((time.perf_counter() - scheduled) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(32)]
    t0 = time.perf_counter()
    total = int(rate * seconds)
    for k in range(total):
        delay = t0 + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(
            t0 + k / rate
        )  # latency counts from the schedule (no coordinated omission)
    for _ in workers:
        queue.put_nowait(None)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(60):
            await asyncio.gather(*workers, return_exceptions=True)
    wall = time.perf_counter() - t0
    return {
        "requests": total,
        "answered": len(latencies),
        "statuses": statuses,
        "achieved_rps": round(len(latencies) / wall, 1),
        "rest_ms": {
            "p50": pct(latencies, 50),
            "p99": pct(latencies, 99),
            "max": round(max(latencies), 1) if latencies else None,
        },
    }


def _post_messages(port: int, session: dict, count: int) -> None:
    for k in range(count):
        body = json.dumps({"content": f"history {k}", "client_msg_id": f"h{k}"}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"http://127.0.0.1:{port}/api/v1/sessions/{session['id']}/messages/",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Session {session['token']}",
            },
        )
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310
            pass


def scenario_rest(args, variants: dict[str, Path | None]) -> None:
    for variant, root in variants.items():
        bare = variant == "bare"
        stack = Stack(args, bare=bare, root=root)
        try:
            session = sessions_for(stack, 1, bare)[0]
            if not bare:
                sql = "UPDATE sessions_app_supportsession SET handled_by='human', "
                sql += f"status='escalated' WHERE id = '{session['id']}'::uuid"  # noqa: S608
                wf.psql(sql)
                _post_messages(stack.port, session, 20)
            path = f"/api/v1/sessions/{session['id']}/messages/"
            row = asyncio.run(rest_load(stack.port, path, session["token"], 200, args.rest_seconds))
        except Exception as error:  # noqa: BLE001 - recorded
            row = {"error": repr(error)}
        finally:
            stack.stop()
        record(args.json_out, "4-rest", variant, row)


# --- the plot ----------------------------------------------------------------------------------


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    sweep = [r for r in rows if r["scenario"] == "1-sweep" and "error" not in r]
    for variant, style in (("bare", "o-"), ("after", "s-")):
        points = sorted((r["rate"], r) for r in sweep if r["variant"] == variant)
        if not points:
            continue
        rates = [p[0] for p in points]
        axes[0].plot(rates, [p[1]["deliveries_per_s"] for p in points], style, label=variant)
        axes[1].plot(rates, [p[1]["latency_ms"]["p99"] or 0 for p in points], style, label=variant)
    axes[0].set(title="1. sweep: deliveries/s", xlabel="offered msg/s", ylabel="deliveries/s")
    axes[1].set(title="1. sweep: p99 send→receipt", xlabel="offered msg/s", ylabel="ms")
    axes[1].set_yscale("log")
    for ax in axes[:2]:
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    bars = []
    for scenario, key in (
        ("1-fanout-people", "latency_ms"),
        ("1-fanout-ai", "latency_ms"),
        ("3-agent", "final_ms"),
        ("4-rest", "rest_ms"),
        ("2-soak", "ping_ms"),
    ):
        for r in rows:
            if r["scenario"] == scenario and isinstance(r.get(key), dict) and r[key].get("p99"):
                bars.append((f"{scenario[:10]}\n{r['variant']}", r[key]["p99"]))
    if bars:
        axes[2].bar(range(len(bars)), [b[1] for b in bars])
        axes[2].set_xticks(range(len(bars)), [b[0] for b in bars], fontsize=7, rotation=60)
        axes[2].set_yscale("log")
        axes[2].set(title="p99 by scenario (ms, log)")
    load = statistics.mean(r["machine"]["load"][0] for r in rows) if rows else 0
    fig.suptitle(f"issue 11, 2 shared cores, mean 1-min load {load:.1f} during these runs")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)


def _ms(value: dict | None) -> str:
    if not isinstance(value, dict):
        return "—"
    return " / ".join("—" if value.get(k) is None else f"{value[k]:.0f}" for k in ("p50", "p99"))


def table(rows: list[dict]) -> str:
    """Return the results as one markdown table (what docs/performance.md shows)."""
    lines = [
        "| scenario | variant | load (1 min) | result | p50 / p99 ms |",
        "|---|---|---|---|---|",
    ]
    stored_before = 0  # runs before this fix counted every run's rows (one reused database)
    for r in rows:
        load = r["machine"]["load"][0]
        if "error" in r:
            lines.append(f"| {r['scenario']} | {r['variant']} | {load} | error | — |")
            continue
        kind = r["scenario"]
        if kind.startswith("1-"):
            rate = f" @ {r['rate']}/s" if "rate" in r else ""
            stored = r.get("messages_stored") or 0
            if r.get("stored_counts_this_run_only") is None and stored:
                stored, stored_before = stored - stored_before, stored
            result = (
                f"{r['delivery_ratio']:.1%} delivered{rate}, {r['deliveries_per_s']} deliveries/s"
                + (f", {stored} stored" if r.get("server") != "bare" else "")
            )
            if r.get("inbox_updates"):
                result += f"; console inbox p50/p99 {_ms(r['inbox_latency_ms'])} ms"
            lat = _ms(r["latency_ms"])
        elif kind == "2-soak":
            result = (
                f"{r['sockets_open']}/{r['sockets']} open, {r['rss_per_connection_kib']} KiB/conn"
                f" (RSS {r['rss_idle_kib']}→{r['rss_open_kib']} KiB)"
            )
            lat = _ms(r["ping_ms"]) + " (ping→pong)"
        elif kind.startswith("3-agent"):
            pace = f", a question every {r['think_s']:.0f} s each" if r.get("think_s") else ""
            result = (
                f"{r.get('conversations', 50)} conversations{pace}: "
                f"{r['replies']} replies ({r['missing_replies']} missing), first frame "
                f"{_ms(r['first_ms'])} ms, {r['replies_per_s_per_worker_process']} replies/s/proc"
            )
            lat = _ms(r["final_ms"]) + " (final reply)"
        else:
            result = f"{r['answered']}/{r['requests']} answered, {r['achieved_rps']} req/s"
            lat = _ms(r["rest_ms"])
        lines.append(f"| {kind} | {r['variant']} | {load} | {result} | {lat} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (≈10 min)")
    parser.add_argument("--before-src", type=Path, help="a tree of the code before, to compare")
    parser.add_argument("--only", default="1,2,3,4", help="scenarios to run, e.g. 1,4")
    parser.add_argument("--db-name", default="sd_perf_bench")
    parser.add_argument(
        "--worker-concurrency", type=int, default=2, help="Celery worker processes (prefork)"
    )
    parser.add_argument("--redis-db", type=int, default=1)
    parser.add_argument("--json-out", type=Path, default=ROOT / "docs" / "perf" / "results.jsonl")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "perf" / "issue11.png")
    parser.add_argument("--table", action="store_true", help="print --json-out as markdown")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp/run_all"))  # noqa: S108
    args = parser.parse_args()
    if args.table:
        rows = [json.loads(line) for line in args.json_out.read_text().splitlines()]
        print(table(rows))
        return 0
    quick = args.quick
    args.seconds = 3 if quick else 10
    args.sweep = [250, 500, 1000] if quick else [100, 250, 500, 1000, 2000]
    args.sweep_seconds = 3 if quick else 6
    args.deadline = 15 if quick else 20
    args.soak = 1000 if quick else 5000
    args.ping_every = 10 if quick else 25
    args.agent_rounds = 2 if quick else 5
    args.rest_seconds = 5 if quick else 15
    args.tmp.mkdir(parents=True, exist_ok=True)
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    wf.raise_nofile()

    variants: dict[str, Path | None] = {"bare": None, "after": None}
    if args.before_src is not None:
        variants = {"bare": None, "before": args.before_src, "after": None}
    # One database per tree, created and migrated once by that tree's own code (the quiet run
    # of 14:14 lost its "before" rows to the old code running on the new schema).
    database_create(args, None)
    if args.before_src is not None:
        database_create(args, args.before_src)
    log(f"machine {machine()}; variants {list(variants)}")
    started = len(args.json_out.read_text().splitlines()) if args.json_out.exists() else 0
    only = {s.strip() for s in args.only.split(",")}
    if "1" in only:
        scenario_fanout(args, variants)
    if "4" in only:
        scenario_rest(args, variants)
    if "3" in only:
        scenario_agent(args, variants)
    if "2" in only:
        scenario_soak(args, variants)
    rows = [json.loads(line) for line in args.json_out.read_text().splitlines()[started:]]
    plot(rows, args.plot)
    log(f"{len(rows)} results appended to {args.json_out}; plot {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
