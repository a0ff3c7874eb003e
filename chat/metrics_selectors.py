"""The desk's honest numbers: first response and resolution per session, and reports of them.

Definitions (docs/console.md, "Reports"):

- **hand-over**: the first moment a person became responsible for the session: its first
  ``escalated``, ``taken_over`` or ``assigned`` timeline note (the system message the lifecycle
  services store). The AI's own hand-over text is an assistant message and is not a response.
- **first response time**: from the hand-over (or, when no hand-over happened, from the
  customer's first message) to the first reply a person sent to the customer (role ``agent``,
  not an internal note). Neither the AI's messages nor system notes count.
- **resolution time**: from the hand-over (sessions a person handled) or from creation
  (sessions the AI handled alone) to ``closed_at``; open sessions have none.
- **AI-resolved**: a session that was never handed to a person.

Everything is computed from one query per report (correlated subqueries per session, grouped
and ranked in Python), so the number of queries does not grow with the number of sessions.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from sessions_app.models import SupportSession

from .models import Message, MessageRole

# The timeline notes that mark a person taking responsibility (sessions_app.services events).
HANDOVER_EVENTS = ("escalated", "taken_over", "assigned")
# A report spans at most this many days: its one query reads one row per session.
REPORT_MAX_DAYS = 366


def _first_message_at(**filters) -> Subquery:
    rows = Message.objects.filter(session=OuterRef("pk"), **filters).order_by("seq")
    return Subquery(rows.values("created_at")[:1])


def sessions_with_timings(queryset: QuerySet | None = None) -> QuerySet:
    """Annotate sessions with ``handover_at``, ``response_clock_at`` and ``first_human_reply_at``.

    Each is a correlated subquery on the session's messages (indexed by ``(session, seq)``), so
    the whole list is one query however many sessions it holds.
    """
    sessions = queryset if queryset is not None else SupportSession.objects.all()
    human_replies = Message.objects.filter(
        session=OuterRef("pk"),
        role=MessageRole.AGENT,
        internal=False,
        created_at__gte=OuterRef("response_clock_at"),
    ).order_by("seq")
    return (
        sessions.annotate(
            handover_at=_first_message_at(
                role=MessageRole.SYSTEM, metadata__event__in=HANDOVER_EVENTS
            ),
            first_customer_at=_first_message_at(role=MessageRole.CUSTOMER),
        )
        .annotate(response_clock_at=Coalesce("handover_at", "first_customer_at"))
        .annotate(first_human_reply_at=Subquery(human_replies.values("created_at")[:1]))
    )


def first_response_seconds(session) -> float | None:
    """Return the annotated session's first response time in seconds, or None (no reply yet)."""
    start = getattr(session, "response_clock_at", None)
    reply = getattr(session, "first_human_reply_at", None)
    if start is None or reply is None:
        return None
    return (reply - start).total_seconds()


def resolution_seconds(session) -> float | None:
    """Return the annotated session's resolution time in seconds, or None while unresolved."""
    if session.closed_at is None:
        return None
    start = getattr(session, "handover_at", None) or session.created_at
    return max((session.closed_at - start).total_seconds(), 0.0)


def percentile(values: list[float], fraction: float) -> float | None:
    """Return the ``fraction`` percentile with linear interpolation (PostgreSQL's
    ``percentile_cont``), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# ---------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class Dimension:
    """One way to group a report: the row fields it needs and how a row maps to a group."""

    name: str
    title: str
    fields: tuple[str, ...]
    key: Callable[[dict], tuple[str, str]]  # row → (sort/group key, label)


def _day_key(row: dict) -> tuple[str, str]:
    day = timezone.localtime(row["created_at"]).date().isoformat()
    return day, day


def _agent_key(row: dict) -> tuple[str, str]:
    if row["assignee_id"] is None:
        return "~", "No agent (AI or unassigned)"  # "~" sorts after every username
    name = " ".join(
        part for part in (row["assignee__first_name"], row["assignee__last_name"]) if part
    )
    return row["assignee__username"], name or row["assignee__username"]


def _team_key(row: dict) -> tuple[str, str]:
    name = row["team__name"]
    return (name, name) if name else ("~", "No team (general queue)")


DIMENSIONS: dict[str, Dimension] = {
    "day": Dimension("day", "Day", (), _day_key),
    # The team the conversation was routed to at hand-over (teams/, docs/console.md).
    "team": Dimension("team", "Team", ("team__name",), _team_key),
    "agent": Dimension(
        "agent",
        "Agent",
        ("assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name"),
        _agent_key,
    ),
}


def report_dimension_register(dimension: Dimension) -> None:
    """Add a grouping to the reports (an app above chat registers it in ``AppConfig.ready``)."""
    DIMENSIONS[dimension.name] = dimension


@dataclass
class ReportRow:
    """The figures of one group (or of the whole period)."""

    key: str
    label: str
    conversations: int = 0
    ai_resolved: int = 0
    handovers: Counter = field(default_factory=Counter)
    first_responses: list[float] = field(default_factory=list)
    resolutions: list[float] = field(default_factory=list)
    csat_values: list[int] = field(default_factory=list)

    def add(self, row: dict) -> None:
        self.conversations += 1
        if row["handover_at"] is None:
            self.ai_resolved += 1
        else:
            self.handovers[handover_reason(row)] += 1
        if row["first_response"] is not None:
            self.first_responses.append(row["first_response"])
        if row["resolution"] is not None:
            self.resolutions.append(row["resolution"])
        if row["csat"] is not None:
            self.csat_values.append(row["csat"])

    @property
    def ai_resolved_share(self) -> float | None:
        return self.ai_resolved / self.conversations if self.conversations else None

    @property
    def first_response_p50(self) -> float | None:
        return percentile(self.first_responses, 0.5)

    @property
    def first_response_p90(self) -> float | None:
        return percentile(self.first_responses, 0.9)

    @property
    def resolution_p50(self) -> float | None:
        return percentile(self.resolutions, 0.5)

    @property
    def resolution_p90(self) -> float | None:
        return percentile(self.resolutions, 0.9)

    @property
    def csat_count(self) -> int:
        return len(self.csat_values)

    @property
    def csat_average(self) -> float | None:
        return sum(self.csat_values) / len(self.csat_values) if self.csat_values else None


@dataclass
class Report:
    dimension: Dimension
    start: dt.date
    end: dt.date
    rows: list[ReportRow]
    total: ReportRow

    @property
    def handover_reasons(self) -> list[tuple[str, int]]:
        return self.total.handovers.most_common()


def handover_reason(row: dict) -> str:
    """Return the kind of hand-over: the first escalation reason, else how a person joined."""
    reason = (row.get("escalation_reason") or "").split(",")[0].strip()
    return reason or "taken_over"


def report_rows(*, start: dt.date, end: dt.date, fields: Iterable[str] = ()) -> list[dict]:
    """Return one dict per session created from ``start`` to ``end`` (local dates, inclusive),
    with its timings; one query."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    sessions = SupportSession.objects.filter(created_at__gte=since, created_at__lt=until)
    rows = (
        sessions_with_timings(sessions)
        .annotate(escalation_reason=KeyTextTransform("escalation_reason", "metadata"))
        .order_by("created_at")
        .values(
            "pk",
            "created_at",
            "closed_at",
            "csat",
            "escalation_reason",
            "handover_at",
            "response_clock_at",
            "first_human_reply_at",
            *fields,
        )
    )
    out = []
    for row in rows:
        reply, clock = row["first_human_reply_at"], row["response_clock_at"]
        row["first_response"] = (reply - clock).total_seconds() if reply and clock else None
        closed = row["closed_at"]
        begun = row["handover_at"] or row["created_at"]
        row["resolution"] = max((closed - begun).total_seconds(), 0.0) if closed else None
        out.append(row)
    return out


def desk_report(*, start: dt.date, end: dt.date, group: str = "day") -> Report:
    """Return the desk's figures from ``start`` to ``end``, grouped by ``group``."""
    dimension = DIMENSIONS[group]
    groups: dict[str, ReportRow] = {}
    total = ReportRow(key="", label="All")
    for row in report_rows(start=start, end=end, fields=dimension.fields):
        key, label = dimension.key(row)
        groups.setdefault(key, ReportRow(key=key, label=label)).add(row)
        total.add(row)
    return Report(
        dimension=dimension,
        start=start,
        end=end,
        rows=[groups[key] for key in sorted(groups)],
        total=total,
    )
