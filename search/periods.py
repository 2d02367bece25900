"""Dates of a result set: the histogram of articles per month or year, and date
presets ("last week") counted back from the newest article in the index, because an
archive's newest article may be years old."""

from __future__ import annotations

import datetime as dt

#: (key, days back from the newest article, counting it)
PRESETS = (("day", 1), ("week", 7), ("month", 30), ("year", 365))
#: Above this many months between the first and last article, bars are years.
MAX_MONTH_BARS = 36


def period_range(value: str) -> tuple[dt.date, dt.date]:
    """First and last day of a period: ``2022`` or ``2022-08``."""
    year, _, month = value.partition("-")
    if not month:
        return dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
    first = dt.date(int(year), int(month), 1)
    next_month = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, next_month - dt.timedelta(days=1)


def day_number(date: dt.date) -> int:
    """A date as the ``day`` column stores it: ``YYYYMMDD`` (sorts like the date)."""
    return date.year * 10000 + date.month * 100 + date.day


def day_of(number: int) -> dt.date | None:
    """A ``YYYYMMDD`` column value as a date (0: unknown)."""
    return dt.date(number // 10000, number // 100 % 100, number % 100) if number else None


def presets(newest: dt.date | None) -> list[dict]:
    if newest is None:
        return []
    return [{"key": key, "from": (newest - dt.timedelta(days=days - 1)).isoformat(), "to": newest.isoformat()}
            for key, days in PRESETS]


def histogram(month_counts: dict[str, int]) -> dict:
    """Bars for every month (or year, when the span is long) from the first to the last
    one with articles, empty ones included so that gaps show."""
    months = sorted(m for m in month_counts if m)
    if not months:
        return {"interval": "month", "buckets": []}
    first, last = (int(m[:4]) * 12 + int(m[5:7]) - 1 for m in (months[0], months[-1]))
    if last - first + 1 > MAX_MONTH_BARS:
        years: dict[str, int] = {}
        for month, count in month_counts.items():
            if month:
                years[month[:4]] = years.get(month[:4], 0) + count
        keys = [str(y) for y in range(int(months[0][:4]), int(months[-1][:4]) + 1)]
        counts, interval = years, "year"
    else:
        keys = [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(first, last + 1)]
        counts, interval = month_counts, "month"
    buckets = []
    for key in keys:
        start, end = period_range(key)
        buckets.append({"key": key, "count": counts.get(key, 0), "from": start.isoformat(), "to": end.isoformat()})
    return {"interval": interval, "buckets": buckets}
