"""The CRM marts against the sample world's truths, on the session warehouse (the main job over
the 7-day test world, every source, faults on):

- leads per channel are HubSpot's contacts per channel, exactly: every contact enters the
  lifecycle as a lead, including the "direct buyers" HubSpot creates at checkout, which the
  CRM cannot tell apart from sign-ups (both get a lead date). So the CRM's leads are the
  world's funnel leads plus its direct buyers: never fewer than the funnel's per channel, and
  exactly that many more in total;
- new customers per channel (a customer counted once, on the first purchase) and their
  first-purchase revenue (EUR, the reporting currency) are the planted totals, to the cent, in
  every mart that carries them; repeat revenue is the world's;
- attribution credit sums to the number of conversions (first purchases) under every model,
  and to 1 per conversion;
- no email, phone or person's name in any hubspot staging, CRM intermediate or CRM mart column.

Channels: the world's channel keys (sampleworld/entities.py CHANNELS) land in the shared
channel grouping as (channel_group, social_platform). Two pairs cannot be told apart by design,
as on the web: employee advocacy links (linkedin / advocacy) are Organic Social on LinkedIn
like the brand's own LinkedIn posts, and an untagged click on a creator's post arrives from the
network's host (l.instagram.com) like one on the brand's own, so it groups as Organic Social
(only tagged creator links are Influencer). The buckets below merge exactly those.
"""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

import pytest

from sampleworld.gen.hubspot import FIRST_NAMES, LAST_NAMES
from warehouse.loader import connect

LEADS = "marts.fct_leads_daily"
CLV = "marts.fct_clv_by_channel"
COHORTS = "marts.fct_customer_retention_cohorts"
CREDITS = "marts.fct_attribution_credits"
BY_CHANNEL = "marts.fct_attribution_by_channel"
ROI = "marts.fct_campaign_roi_daily"
FUNNEL = "marts.fct_funnel_daily"
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")

# A world channel's bucket (what the marts can tell apart), and the buckets of the marts'
# (channel_group, social_platform) pairs.
BUCKET_OF_CHANNEL = {
    "meta_paid": "paid social facebook",
    "linkedin_paid": "paid social linkedin",
    "google_cpc": "paid search",
    "organic_search": "organic search",
    "email": "email",
    "direct": "direct",
    "facebook_organic": "social facebook",
    "x_organic": "social x",
    "linkedin_organic": "social linkedin",
    "employee": "social linkedin",
    "instagram_organic": "social instagram",
    "youtube_organic": "social youtube",
}


def bucket(channel_group: str, platform: str | None) -> str:
    if channel_group in ("Paid Social", "Organic Social", "Influencer"):
        return f"{'paid social' if channel_group == 'Paid Social' else 'social'} {platform}"
    return channel_group.lower()


def leads_bucket(channel_group: str, platform: str | None) -> str:
    """Contacts are not split by creator platform in the truths: Instagram and YouTube social
    (brand and creators) are one bucket for leads."""
    b = bucket(channel_group, platform)
    return "social instagram+youtube" if b in ("social instagram", "social youtube") else b


def query(materialized, sql: str) -> list[tuple]:
    with connect(materialized["warehouse"], read_only=True) as con:
        return con.execute(sql).fetchall()


def _truth_by_bucket(
    truths: dict,
    per_channel: dict[str, object],
    influencer_by_platform: dict[str, object],
    merge_instagram_youtube: bool = False,
) -> dict[str, object]:
    out: dict[str, object] = defaultdict(int)
    for channel, value in per_channel.items():
        if channel == "influencer":
            continue
        b = BUCKET_OF_CHANNEL[channel]
        if merge_instagram_youtube and b in ("social instagram", "social youtube"):
            b = "social instagram+youtube"
        out[b] += value
    for platform, value in influencer_by_platform.items():
        out["social instagram+youtube" if merge_instagram_youtube else f"social {platform}"] += value
    return {k: v for k, v in out.items() if v}


def test_leads_per_channel_are_hubspots_contacts_exactly(materialized):
    truths = materialized["truths"]
    hubspot, planted = truths["hubspot"], truths["planted"]["totals_per_channel"]
    got: dict[str, int] = defaultdict(int)
    for group, platform, leads in query(
        materialized,
        f"""
            select acquisition_channel, social_platform, sum(leads) from {LEADS} group by all""",
    ):
        got[leads_bucket(group, platform)] += int(leads)
    contacts = hubspot["contacts_by_channel"]
    expected = _truth_by_bucket(
        truths,
        {k: v for k, v in contacts.items() if k != "influencer"},
        {"all": contacts.get("influencer", 0)},
        merge_instagram_youtube=True,
    )
    assert dict(got) == expected
    # the CRM's leads are the funnel's sign-ups plus the contacts created at checkout
    funnel_leads = _truth_by_bucket(
        truths,
        {k: v["leads"] for k, v in planted.items() if k != "influencer"},
        {"all": planted.get("influencer", {}).get("leads", 0)},
        merge_instagram_youtube=True,
    )
    assert all(got[b] >= n for b, n in funnel_leads.items()), (dict(got), funnel_leads)
    assert sum(got.values()) == sum(v["leads"] for v in planted.values()) + hubspot["direct_buyers"]


def _planted_by_bucket(truths: dict, field: str, cast=int) -> dict[str, object]:
    planted = truths["planted"]
    return _truth_by_bucket(
        truths,
        {k: cast(v[field]) for k, v in planted["totals_per_channel"].items()},
        {p: cast(v[field]) for p, v in planted["influencer_totals_per_platform"].items()},
    )


def test_new_customers_and_revenue_per_channel_are_the_planted_totals(materialized):
    truths = materialized["truths"]
    customers: dict[str, int] = defaultdict(int)
    first_revenue: dict[str, Decimal] = defaultdict(Decimal)
    repeat_revenue = Decimal(0)
    for group, platform, n, first, repeat in query(
        materialized,
        f"""
            select acquisition_channel, social_platform, sum(customers), sum(first_purchase_revenue),
                   sum(repeat_revenue)
            from {CLV} group by all""",
    ):
        customers[bucket(group, platform)] += int(n)
        first_revenue[bucket(group, platform)] += first
        repeat_revenue += repeat
    assert {k: v for k, v in customers.items() if v} == _planted_by_bucket(truths, "new_customers")
    assert {k: v for k, v in first_revenue.items() if v} == _planted_by_bucket(truths, "revenue_eur", Decimal)
    assert repeat_revenue == Decimal(truths["hubspot"]["repeat_revenue_eur"])
    assert sum(customers.values()) == truths["hubspot"]["customers"]


def test_every_mart_counts_each_new_customer_once(materialized):
    """The cohorts' month 0, the funnel, the attribution and the ROI mart agree with the CLV mart
    and the truths: a customer counted once, on the first purchase."""
    truths = materialized["truths"]
    planted = truths["planted"]["totals_per_channel"]
    month0 = dict(
        ((g, p), int(n))
        for g, p, n in query(
            materialized,
            f"""
        select acquisition_channel, social_platform, sum(cohort_customers) from {COHORTS}
        where months_since_acquisition = 0 group by all""",
        )
    )
    clv = dict(
        ((g, p), int(n))
        for g, p, n in query(
            materialized,
            f"""
        select acquisition_channel, social_platform, sum(customers) from {CLV} group by all""",
        )
    )
    assert month0 == clv
    assert query(
        materialized,
        f"""select count(*) from {COHORTS}
                                   where months_since_acquisition = 0 and retention_rate <> 1""",
    ) == [(0,)]
    funnel = dict(
        (g, int(n))
        for g, n in query(
            materialized,
            f"""
        select channel_group, sum(new_customers) from {FUNNEL} group by all having sum(new_customers) > 0""",
        )
    )
    by_group: dict[str, int] = defaultdict(int)
    for (g, _), n in clv.items():
        by_group[g] += n
    assert funnel == dict(by_group)
    # paid acquisitions by ad platform: the world's paid channels
    roi = dict(query(materialized, f"select platform, sum(new_customers) from {ROI} group by all"))
    expected = {
        "meta_ads": planted["meta_paid"]["new_customers"],
        "google_ads": planted["google_cpc"]["new_customers"],
        "linkedin_ads": planted["linkedin_paid"]["new_customers"],
    }
    assert {k: int(roi.get(k, 0)) for k in expected} == expected
    revenue = dict(query(materialized, f"select platform, sum(new_customer_revenue) from {ROI} group by all"))
    assert revenue.get("meta_ads", Decimal(0)) == Decimal(planted["meta_paid"]["revenue_eur"])
    assert revenue.get("google_ads", Decimal(0)) == Decimal(planted["google_cpc"]["revenue_eur"])


def test_roi_mart_keeps_every_cent_of_ad_spend_and_its_formulas(materialized):
    ((spend_mart, spend_ads),) = query(
        materialized,
        f"""
        select (select sum(spend_reporting) from {ROI}),
               (select sum(spend_reporting) from intermediate.int_ad_performance_daily)""",
    )
    assert spend_mart == spend_ads and spend_mart > 0
    rows = query(
        materialized,
        f"""
        select spend_reporting, leads, new_customers, attributed_revenue, cost_per_lead, cpa, roas, roi
        from {ROI}""",
    )
    assert rows
    for spend, leads, customers, revenue, cpl, cpa, roas, roi in rows:
        assert cpa == (None if customers == 0 else pytest.approx(float(spend) / customers))
        assert cpl == (None if leads == 0 else pytest.approx(float(spend) / leads))
        assert roas == (None if spend == 0 else pytest.approx(float(revenue) / float(spend)))
        assert roi == (None if spend == 0 else pytest.approx(float(revenue - spend) / float(spend)))


def test_attribution_credit_sums_to_the_conversions_under_every_model(materialized):
    truths = materialized["truths"]
    conversions = truths["hubspot"]["customers"]
    assert conversions > 0
    totals = dict(query(materialized, f"select attribution_model, sum(credit) from {CREDITS} group by all"))
    assert set(totals) == set(MODELS)
    for model in MODELS:
        assert totals[model] == pytest.approx(conversions, abs=1e-6), model
    per_conversion = query(
        materialized,
        f"""
        select count(*) from (select conversion_id, attribution_model, sum(credit) as c from {CREDITS}
                              group by all having abs(c - 1) > 1e-9) as off""",
    )
    assert per_conversion == [(0,)]
    ((n,),) = query(materialized, f"select count(distinct conversion_id) from {CREDITS}")
    assert n == conversions
    rolled = dict(
        query(materialized, f"select attribution_model, sum(attributed_conversions) from {BY_CHANNEL} group by all")
    )
    for model in MODELS:
        assert rolled[model] == pytest.approx(conversions, abs=1e-6), model
    # with every path a single touch here, each model gives each channel its planted revenue
    revenue = Decimal(truths["hubspot"]["revenue_eur"])
    for model, total in query(
        materialized, f"select attribution_model, sum(attributed_revenue) from {BY_CHANNEL} group by all"
    ):
        assert total == revenue, model


def _crm_relations(materialized) -> list[tuple[str, str, list[str]]]:
    rows = query(
        materialized,
        """
        select table_schema, table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where (table_schema = 'staging' and table_name like 'stg_hubspot__%')
           or (table_schema = 'intermediate' and table_name in ('int_crm_contacts', 'int_crm_deals', 'int_touchpoints'))
           or (table_schema = 'marts' and table_name in ('fct_leads_daily', 'fct_clv_by_channel',
               'fct_customer_retention_cohorts', 'fct_attribution_credits', 'fct_attribution_by_channel',
               'fct_campaign_roi_daily', 'fct_funnel_daily'))
        group by all""",
    )
    return rows


def test_no_email_phone_or_name_in_the_crm_models(materialized):
    relations = _crm_relations(materialized)
    assert len(relations) == 13, sorted(r[:2] for r in relations)
    email = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    # a phone: an international number, or digit groups split by spaces, dashes or slashes
    # (ids are bare digits, dates are checked apart)
    phone = re.compile(r"\+\d[\d ()/-]{6,}\d|\(?\d{2,5}\)?[ /-]\d{3,}[ -]?\d{2,}")
    names = re.compile(r"\b(" + "|".join(FIRST_NAMES + LAST_NAMES) + r")\b", re.IGNORECASE)
    leaks = []
    with connect(materialized["warehouse"], read_only=True) as con:
        for schema, table, columns in relations:
            for column in columns:
                values = [
                    v
                    for (v,) in con.execute(
                        f'select distinct cast("{column}" as varchar) from {schema}.{table} '
                        f'where "{column}" is not null'
                    ).fetchall()
                ]
                for v in values:
                    if email.search(v) or names.search(v) or (phone.search(v) and not _is_date_like(v)):
                        leaks.append((schema, table, column, v))
                        break
    assert not leaks, leaks[:10]
    # the emails are there, hashed: one hash per contact, and not the address
    ((contacts, hashed),) = query(
        materialized, "select count(*), count(distinct email_hash) from staging.stg_hubspot__contacts"
    )
    assert contacts == materialized["truths"]["hubspot"]["contacts"] and hashed == contacts


def _is_date_like(v: str) -> bool:
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T][\d:.+]+)?", v.strip()))
