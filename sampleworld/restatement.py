"""Restatement: platforms revise recent days (late conversions, deduplication, spam filtering),
then freeze them. Meta revises 28 days, Google Ads about 14-30, GA4 about 3, LinkedIn Ads 30.

A fake serves a day's metric as `restated(final, ...)`: days older than the window are
frozen at their final value; recent days are provisional and move with the fake's
restatement epoch (`App.restate()` bumps it, and `restate_on_pull` bumps it on every report
request). The generator's files hold the final values; `restated` at the current epoch is
what "the simulator's current value" means for a test.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

WINDOWS = {"meta": 28, "google_ads": 14, "ga4": 3, "linkedin_ads": 30, "linkedin": 2, "x": 3, "youtube": 3}


def factor(day: date, as_of: date, window_days: int, epoch: int, salt: str = "") -> float:
    """1.0 for frozen days; below 1 (provisional, rising with each epoch) for recent ones."""
    age = (as_of - day).days
    if age >= window_days or age < 0:
        return 1.0
    h = int.from_bytes(hashlib.sha256(f"{day}:{epoch}:{salt}".encode()).digest()[:4], "big") / 2**32
    shortfall = 0.12 * (window_days - age) / window_days  # the newer the day, the more is missing
    return 1.0 - shortfall * (0.6 + 0.4 * h) / (1 + epoch)


def restated_int(value: int, day: date, as_of: date, window_days: int, epoch: int, salt: str = "") -> int:
    return int(round(value * factor(day, as_of, window_days, epoch, salt)))


def restated_money(
    value: Decimal | str, day: date, as_of: date, window_days: int, epoch: int, salt: str = "", places: str = "0.01"
) -> Decimal:
    f = Decimal(repr(factor(day, as_of, window_days, epoch, salt)))
    return (Decimal(value) * f).quantize(Decimal(places), rounding=ROUND_HALF_UP)
