"""UTC days: the partition day of most streams, and the bounds a day's records are asked with.

A day D is [D 00:00, D+1 00:00) in UTC: an API asked with an inclusive end (`<= 23:59:59`) or
a start after midnight loses or doubles the records written on an edge. Platforms want the
bounds in different units (Graph API `since`/`until` in epoch seconds, HubSpot filters and
LinkedIn time ranges in epoch milliseconds, X and Typeform as ISO text), so one pair of bounds
is computed here and only converted by each client.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def utc_midnight(day: date) -> datetime:
    """The start of `day` in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def utc_day_bounds(first: date, last: date | None = None) -> tuple[datetime, datetime]:
    """[`first` 00:00, the midnight after `last`) in UTC; `last` defaults to `first`."""
    return utc_midnight(first), utc_midnight(last or first) + timedelta(days=1)


def epoch_s(moment: datetime) -> int:
    return int(moment.timestamp())


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def utc_day_of_ms(value) -> str:
    """The UTC day (ISO) of an epoch-milliseconds value."""
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC).date().isoformat()
