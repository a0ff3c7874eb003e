"""Office hours: parse SUPPORT_OFFICE_HOURS ("mon-fri 09:00-17:00"); is the team in now?"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<first>[a-z]{3})(?:\s*-\s*(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$",
    re.IGNORECASE,
)
# Longest accepted setting: a week of rules fits easily; anything longer is a mistake.
MAX_SPEC_CHARS = 500


class OfficeHoursError(ValueError):
    """SUPPORT_OFFICE_HOURS or SUPPORT_TIMEZONE cannot be understood."""


@dataclass(frozen=True)
class OfficeHours:
    """Opening intervals per weekday (0 = Monday) in one time zone; empty means always open."""

    spec: str
    zone: ZoneInfo
    intervals: dict[int, tuple[tuple[time, time], ...]]

    @property
    def always_open(self) -> bool:
        return not self.intervals

    def is_open(self, when: datetime) -> bool:
        """Return whether ``when`` (aware) falls inside the office hours."""
        if self.always_open:
            return True
        local = when.astimezone(self.zone)
        return any(
            start <= local.time() < end for start, end in self.intervals.get(local.weekday(), ())
        )

    def next_opening(self, when: datetime) -> datetime | None:
        """Return the next moment (aware, local zone) the office opens after ``when``."""
        if self.always_open:
            return None
        local = when.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            for start, _ in sorted(self.intervals.get(day.weekday(), ())):
                candidate = datetime.combine(day, start, tzinfo=self.zone)
                if candidate > local:
                    return candidate
        return None

    def describe(self) -> str:
        """Return the hours as people write them: "mon-fri 09:00-17:00 (Europe/Paris)"."""
        return f"{self.spec.strip()} ({self.zone.key})"


def _clock(text: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return time.max
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise OfficeHoursError(f"{text!r} is not a time of day")
    return time(hours, minutes)


def office_hours_parse(spec: str, timezone_name: str = "UTC") -> OfficeHours:
    """Parse "mon-fri 09:00-17:00; sat 10:00-14:00" (``;`` or ``,`` between rules).

    An empty spec means always open. Raises OfficeHoursError on anything else.
    """
    try:
        zone = ZoneInfo(timezone_name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise OfficeHoursError(f"SUPPORT_TIMEZONE {timezone_name!r} is not a time zone") from None
    spec = spec or ""
    if len(spec) > MAX_SPEC_CHARS:
        raise OfficeHoursError("SUPPORT_OFFICE_HOURS is too long")
    intervals: dict[int, list[tuple[time, time]]] = {}
    for part in re.split(r"[;,]", spec):
        if not part.strip():
            continue
        match = _PART.match(part)
        if not match:
            raise OfficeHoursError(
                f"SUPPORT_OFFICE_HOURS: {part.strip()!r} is not like 'mon-fri 09:00-17:00'"
            )
        first, last = match["first"].lower(), (match["last"] or match["first"]).lower()
        if first not in DAYS or last not in DAYS:
            raise OfficeHoursError(f"SUPPORT_OFFICE_HOURS: unknown day in {part.strip()!r}")
        start, end = _clock(match["start"]), _clock(match["end"])
        if start >= end:
            raise OfficeHoursError(f"SUPPORT_OFFICE_HOURS: {part.strip()!r} ends before it starts")
        first_index, last_index = DAYS.index(first), DAYS.index(last)
        days = (
            range(first_index, last_index + 1)
            if first_index <= last_index
            else [
                *range(first_index, 7),
                *range(0, last_index + 1),
            ]
        )
        for day in days:
            intervals.setdefault(day, []).append((start, end))
    return OfficeHours(spec=spec, zone=zone, intervals={d: tuple(v) for d, v in intervals.items()})
