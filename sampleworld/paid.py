"""The skeleton the paid-ads generators share (Google Ads and LinkedIn Ads run it; Meta Ads
takes its helpers): the accounts of a scaled world, and a campaign's daily metrics.

Each day a campaign had sessions on its channel, its clicks are the funnel's sessions /
CLICK_TO_SESSION, split over the campaign's cells (Google: ad group x device; LinkedIn:
sponsored campaign) by the cells' weights, each jittered by +-20 %; the day's budget (the
campaign's EUR budget, +-10 %) is spent in proportion to each cell's clicks x cost per click.
A platform turns a cell's clicks and cost into its row (impressions, conversions, ...).

The order of the draws from the generator's `rng` is part of the world (the same seed gives
the same bytes): for each campaign day, the budget, then the weights in cell order, then
whatever the platform draws for the day's rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sampleworld.entities import Campaign, Entities
from sampleworld.funnel import CLICK_TO_SESSION, funnel
from sampleworld.numbers import split_total

CENT = Decimal("0.01")


def money(x: Decimal) -> str:
    return str(x.quantize(CENT, rounding=ROUND_HALF_UP))


def fx_rates(ents: Entities) -> dict[tuple[str, str], Decimal]:
    """{(ISO day, currency): units of the currency a euro buys that day}."""
    return {(r["date"], r["currency"]): Decimal(r["rate"]) for r in ents.fx_rates}


def account_copies(bases: list[dict], scale: int, id_key: str, name_key: str) -> list[dict]:
    """The ad accounts of a world `scale` times as big: copy k (from 0) of every base account,
    copy by copy; copy k > 0 adds 1000 k to the id and " k+1" to the name."""
    out = []
    for copy in range(scale):
        for base in bases:
            a = dict(base)
            if copy:
                a[id_key] = str(int(base[id_key]) + 1000 * copy)
                a[name_key] = f"{base[name_key]} {copy + 1}"
            out.append(a)
    return out


def channel_campaigns(ents: Entities, channel: str) -> list[Campaign]:
    """The campaigns that run on `channel` (some day of the world), in the entities' order."""
    return [c for c in ents.campaigns if channel in c.channels]


def click_days(spec, channel: str) -> Iterator[tuple[date, str, int]]:
    """(day, utm_campaign, clicks) for each day a campaign had sessions on `channel`, in order:
    the clicks that brought those sessions (sessions / CLICK_TO_SESSION, rounded half up)."""
    sessions = {(r.day, r.utm_campaign): r.sessions for r in funnel(spec) if r.channel == channel}
    for (day, utm), n in sorted(sessions.items()):
        yield day, utm, int((Decimal(n) / CLICK_TO_SESSION).to_integral_value(ROUND_HALF_UP))


def day_budget_eur(rng, campaign: Campaign) -> Decimal:
    """What the campaign spends on a day: its daily budget, +-10 %."""
    return campaign.daily_budget_eur * Decimal(repr(rng.uniform(0.9, 1.1)))


@dataclass(frozen=True)
class CampaignDay:
    day: date
    utm_campaign: str
    budget_eur: Decimal  # the day's spend over all cells (EUR)
    cells: list  # the platform's cells, as it gave them
    clicks: list[int]  # per cell
    cost_shares: list[Decimal]  # per cell: its share of the day's spend (0 when nothing was clicked)


def campaign_days(
    spec,
    channel: str,
    rng,
    campaigns: dict[str, tuple[Campaign, list]],
    weight: Callable[[object], float],
    cost_weight: Callable[[int, object], float],
) -> Iterator[CampaignDay]:
    """Each day a campaign of `campaigns` ({utm_campaign: (campaign, cells)}) had sessions on
    `channel`: its clicks split over its cells by `weight(cell)` (jittered), and the share of the
    day's budget each cell spends, `cost_weight(clicks, cell)` over their sum."""
    for day, utm, clicks_total in click_days(spec, channel):
        campaign, cells = campaigns[utm]
        budget_eur = day_budget_eur(rng, campaign)
        clicks = split_total(clicks_total, [weight(cell) * rng.uniform(0.8, 1.2) for cell in cells])
        cost = [cost_weight(n, cell) for n, cell in zip(clicks, cells)]
        total = sum(cost) or 1.0
        yield CampaignDay(day, utm, budget_eur, cells, clicks, [Decimal(repr(c / total)) for c in cost])


def impressions(rng, clicks: int, ctr: float, idle_max: int) -> int:
    """A cell's impressions: its clicks over its click-through rate; a cell nobody clicked was
    still shown 0 to `idle_max` times (0: no row, as the APIs leave such rows out)."""
    return max(clicks, round(clicks / ctr)) if clicks else rng.randint(0, idle_max)


def successes(rng, n: int, p: float) -> int:
    """How many of `n` clicks convert, each with probability `p`."""
    return sum(1 for _ in range(n) if rng.random() < p)


def order_value(rng, aov: Decimal, orders: int) -> Decimal:
    """The value of `orders` orders around the average order value `aov` (70-130 % each), unrounded."""
    return sum((aov * Decimal(rng.randint(70, 130)) / 100 for _ in range(orders)), Decimal(0))
