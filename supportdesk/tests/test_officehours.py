"""Office hours: parsing SUPPORT_OFFICE_HOURS, open or closed at a moment, the next opening."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.officehours import OfficeHoursError, office_hours_parse

# 2026-03-02 is a Monday.
MONDAY_NOON_UTC = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_empty_means_always_open():
    hours = office_hours_parse("", "UTC")
    assert hours.always_open and hours.is_open(MONDAY_NOON_UTC)
    assert hours.next_opening(MONDAY_NOON_UTC) is None


def test_weekday_range_in_its_time_zone():
    hours = office_hours_parse("mon-fri 09:00-17:00", "Europe/Paris")
    assert hours.is_open(MONDAY_NOON_UTC)  # 13:00 in Paris
    assert not hours.is_open(datetime(2026, 3, 2, 16, 30, tzinfo=UTC))  # 17:30 in Paris
    assert not hours.is_open(datetime(2026, 3, 7, 12, 0, tzinfo=UTC))  # Saturday
    friday_evening = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    opening = hours.next_opening(friday_evening)
    assert opening.strftime("%A %H:%M") == "Monday 09:00"
    assert hours.describe() == "mon-fri 09:00-17:00 (Europe/Paris)"


def test_several_rules_and_a_range_over_the_weekend():
    hours = office_hours_parse("fri-mon 10:00-12:00; wed 14:00-15:00", "UTC")
    assert hours.is_open(datetime(2026, 3, 8, 11, 0, tzinfo=UTC))  # Sunday
    assert hours.is_open(datetime(2026, 3, 4, 14, 30, tzinfo=UTC))  # Wednesday
    assert not hours.is_open(datetime(2026, 3, 3, 11, 0, tzinfo=UTC))  # Tuesday


@pytest.mark.parametrize(
    "spec, zone",
    [
        ("weekdays 9-5", "UTC"),
        ("mon-fri 17:00-09:00", "UTC"),
        ("mon-fri 09:00-25:00", "UTC"),
        ("xyz 09:00-10:00", "UTC"),
        ("mon-fri 09:00-17:00", "Mars/Olympus"),
        ("mon 09:00-10:00;" * 100, "UTC"),
    ],
)
def test_anything_else_is_refused(spec, zone):
    with pytest.raises(OfficeHoursError):
        office_hours_parse(spec, zone)
