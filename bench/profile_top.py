#!/usr/bin/env python
"""Summarise py-spy's collapsed stacks (``--format raw``): top functions by own and total time.

    .venv/bin/python bench/profile_top.py /tmp/daphne.prof.txt --top 25 [--markdown]

Idle samples (the event loop waiting in select/epoll, pool threads waiting for work) are
dropped first, so percentages are of the time the process was busy.
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

# Samples under these frames are start-up and first-use imports, not the message path.
STARTUP = ("load_asgi_app", "_find_and_load", "setup (django/__init__.py")

# What a busy sample was doing, by the first matching frame from the leaf up.
COMPONENTS = [
    ("DRF serialisation", "rest_framework/"),
    ("psycopg: waiting for PostgreSQL / sending queries", "psycopg/"),
    ("Django ORM and SQL compilation", "django/db/"),
    ("JSON encode/decode", "json/"),
    ("orjson", "orjson"),
    ("channel layer (channels_redis, msgpack, redis)", "channels_redis/"),
    ("redis client", "redis/"),
    ("socket writes (asyncio transport)", "asyncio/selector_events.py"),
    ("thread hops (asgiref sync_to_async/async_to_sync)", "asgiref/"),
    ("Daphne/Twisted/autobahn (WebSocket protocol)", "autobahn/"),
    ("Daphne/Twisted/autobahn (WebSocket protocol)", "twisted/"),
    ("Daphne/Twisted/autobahn (WebSocket protocol)", "daphne/"),
    ("supportdesk code", "chat/"),
    ("supportdesk code", "sessions_app/"),
    ("supportdesk code", "supportdesk/"),
]


def leaf_is_idle(frames: list[str]) -> bool:
    leaf = frames[-1]
    return bool(re.match(r"(select|poll|epoll|wait|_wait_for_tstate_lock|doPoll)\b", leaf))


def short(frame: str) -> str:
    """`func (path/to/pkg/mod.py:12)` → `func (pkg/mod.py)`."""
    match = re.match(r"(.*) \((.*?):?(\d*)\)$", frame)
    if not match:
        return frame
    name, path, _ = match.groups()
    parts = Path(path).parts
    return f"{name} ({'/'.join(parts[-2:])})"


def component(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, marker in COMPONENTS:
            if marker in frame:
                return name
    return "other (asyncio loop, threading, stdlib)"


def summarise(
    path: Path,
) -> tuple[int, collections.Counter, collections.Counter, collections.Counter]:
    own: collections.Counter = collections.Counter()
    total: collections.Counter = collections.Counter()
    parts: collections.Counter = collections.Counter()
    busy = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames or leaf_is_idle(frames) or any(m in stack for m in STARTUP):
            continue
        n = int(count)
        busy += n
        parts[component(frames)] += n
        own[short(frames[-1])] += n
        for frame in {short(f) for f in frames}:
            total[frame] += n
    return busy, own, total, parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    busy, own, total, parts = summarise(args.profile)
    if not busy:
        print("no busy samples", file=sys.stderr)
        return 1
    print(f"busy samples: {busy}")
    sections = [("by component", parts), ("own time", own), ("total time (inclusive)", total)]
    for title, counter in sections:
        print(f"\n{title}")
        if args.markdown:
            print("\n| % of busy | function |\n|---|---|")
        for frame, n in counter.most_common(args.top):
            pct = 100 * n / busy
            print(f"| {pct:.1f} | `{frame}` |" if args.markdown else f"{pct:6.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
