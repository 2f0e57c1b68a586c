"""The care and feedback models as a daily run builds them, on a copy of the session warehouse
(its own dbt target folder): a reply the brand writes days after a contact, loaded with its own
day's raw partition, closes that contact in a one-day run, whatever the contact's day
(int_care_inbound_items reads its own unanswered rows; fct_care_responses and
int_feedback_texts write the contact's day again); the run leaves the other days before its
window as they were; and afterwards every care model holds the rows of a full refresh. A bad
`care_window_margin_days` fails the compile naming the var.

dbt's unit tests in models/intermediate/care and models/marts/care work the same cases out on
hand-made rows (`*_a_one_day_run_*`); this runs them end to end on the test world's data.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from test_marts_build import dbt

from orchestration.assets.dbt import DBT_DIR
from warehouse.loader import connect

pytestmark = pytest.mark.slow

# The care models (all of models/intermediate/care and models/marts/care), in build order.
CARE = [
    "int_care_inbound_items",
    "int_feedback_texts",
    "int_feedback_themes",
    "fct_care_responses",
    "fct_care_unanswered_queue",
    "fct_care_weekly",
    "fct_negative_feedback_queue",
    "fct_feedback_daily",
    "fct_feedback_themes",
    "fct_csat",
]
RELATIONS = {m: ("intermediate." if m.startswith("int_") else "marts.") + m for m in CARE}
# The tables rebuilt whole on every run (every row's age or "as of" moves).
SNAPSHOTS = ["fct_care_unanswered_queue", "fct_care_weekly", "fct_negative_feedback_queue"]
# The incremental ones: their day column, and a column to mark rows with (the X posts of the
# inbound items are worked out whole every run and compared with the stored ones: not marked).
MARKS = {
    "int_care_inbound_items": ("received_date", "author_type = 'marked'", "item_kind <> 'mention'"),
    "int_feedback_texts": ("occurred_date", "author_type = 'marked'", "true"),
    "int_feedback_themes": ("occurred_date", "theme_rank = -1", "true"),
    "fct_care_responses": ("received_date", "author_type = 'marked'", "true"),
}
REPLY_DELAY = timedelta(days=5, hours=1)


@pytest.fixture(scope="module")
def copy(materialized, tmp_path_factory):
    base = tmp_path_factory.mktemp("care_incremental")
    wh = base / "w.duckdb"
    shutil.copy(materialized["warehouse"], wh)
    target = base / "target"
    shutil.copytree(DBT_DIR / "target", target, ignore=shutil.ignore_patterns("dbt_models-*"))
    return wh, target


def _rows(wh) -> dict[str, list[tuple]]:
    with connect(wh, read_only=True) as con:
        return {m: sorted(con.execute(f"select * from {r}").fetchall(), key=repr) for m, r in RELATIONS.items()}


def _contact(con, item_id):
    """(is_answered, first_reply_at) of a comment in the inbound items, the responses mart and
    the feedback texts, and whether it is in the open queue."""
    inbound = con.execute(
        """select is_answered, first_reply_at from intermediate.int_care_inbound_items
                             where item_kind = 'comment' and item_id = ?""",
        [item_id],
    ).fetchone()
    response = con.execute(
        """select is_answered, first_reply_at, minutes_to_first_reply from marts.fct_care_responses
                              where item_kind = 'comment' and item_id = ?""",
        [item_id],
    ).fetchone()
    text = con.execute(
        """select is_answered, first_reply_at from intermediate.int_feedback_texts
                          where text_source = 'facebook__comments' and text_id = ?""",
        [item_id],
    ).fetchone()
    queued = con.execute(
        """select count(*) from marts.fct_care_unanswered_queue
                            where item_kind = 'comment' and item_id = ?""",
        [item_id],
    ).fetchone()[0]
    return inbound, response, text, queued


def test_a_reply_loaded_days_later_closes_its_contact_in_a_one_day_run(copy):
    wh, target = copy
    with connect(wh) as con:
        first_day = con.execute("select min(received_date) from intermediate.int_care_inbound_items").fetchone()[0]
        # a customer's comment of the first day, alone in its thread with the brand's one answer
        item, reply, received = con.execute(
            """
            select item_id, first_reply_id, received_at from intermediate.int_care_inbound_items as items
            where item_kind = 'comment' and is_first_contact and is_answered and received_date = ?
              and (select count(*) from staging.stg_facebook__comments as thread
                   where coalesce(thread.parent_comment_id, thread.comment_id) = items.conversation_id) = 2
            order by item_id limit 1""",
            [first_day],
        ).fetchone()
        # not loaded yet: the brand has not answered
        con.execute("create table main.held_reply as select * from raw.facebook__comments where id = ?", [reply])
        con.execute("delete from raw.facebook__comments where id = ?", [reply])
    dbt(["run", "--select", *CARE, "--full-refresh"], wh, target)
    with connect(wh, read_only=True) as con:
        inbound, response, text, queued = _contact(con, item)
        assert inbound == (False, None) and response[:2] == (False, None) and text == (False, None) and queued == 1

    # the brand answers five days later; that day's partition loads the reply
    late = received + REPLY_DELAY
    with connect(wh) as con:
        con.execute(
            """insert into raw.facebook__comments
                       select * replace (cast(? as timestamptz) as created_time, cast(? as date) as created_date)
                       from main.held_reply""",
            [late.isoformat() + "+00:00", late.date()],
        )
        con.execute("drop table main.held_reply")
        # a day before the run's window whose texts it does not read again (written before
        # `since`, two days before the window) and that no reply it reads answers: a one-day run
        # must leave it as it is (its rows marked here to see it)
        since = late.date() - timedelta(days=2)
        untouched = [
            d
            for (d,) in con.execute(
                """
            select distinct received_date from intermediate.int_care_inbound_items
            where received_date > ? and received_date <= ?
              and received_date not in (select received_date from intermediate.int_care_inbound_items
                                        where first_reply_at >= ?)
            order by 1""",
                [first_day, since - timedelta(days=1), since],
            ).fetchall()
        ]
        assert untouched, "no day before the window untouched by its replies: nothing to show"
        marked = untouched[0]
        for model, (day, mark, which) in MARKS.items():
            con.execute(
                f"create table main.saved_{model} as select * from {RELATIONS[model]} where {day} = ?", [marked]
            )
            con.execute(f"update {RELATIONS[model]} set {mark} where {day} = ? and {which}", [marked])
            assert con.execute(f"select count(*) from {RELATIONS[model]} where {mark}").fetchone()[0] > 0, model

    dbt(
        ["run", "--select", *CARE],
        wh,
        target,
        SKW_DBT_START_DATE=late.date().isoformat(),
        SKW_DBT_END_DATE=late.date().isoformat(),
    )

    with connect(wh) as con:
        inbound, response, text, queued = _contact(con, item)
        assert inbound == (True, late.replace(tzinfo=None))
        assert response[:2] == (True, late.replace(tzinfo=None))
        assert response[2] == pytest.approx(REPLY_DELAY.total_seconds() / 60)
        assert text == (True, late.replace(tzinfo=None))
        assert queued == 0
        # the marked day was not written again; put it back as it was
        for model, (day, mark, which) in MARKS.items():
            (left,) = con.execute(f"select count(*) from {RELATIONS[model]} where {mark}").fetchone()
            (expected,) = con.execute(f"select count(*) from main.saved_{model} where {which}").fetchone()
            assert left == expected, f"{model}: a one-day run wrote {marked} again"
            con.execute(f"delete from {RELATIONS[model]} where {day} = ?", [marked])
            con.execute(f"insert into {RELATIONS[model]} select * from main.saved_{model}")
            con.execute(f"drop table main.saved_{model}")

    # the snapshot tables the run built from the marked rows, built again from the restored ones
    dbt(
        ["run", "--select", *SNAPSHOTS],
        wh,
        target,
        SKW_DBT_START_DATE=late.date().isoformat(),
        SKW_DBT_END_DATE=late.date().isoformat(),
    )
    incremental = _rows(wh)
    dbt(["run", "--select", *CARE, "--full-refresh"], wh, target)
    full = _rows(wh)
    for model in CARE:
        assert incremental[model] == full[model], f"{model}: the one-day run differs from a full refresh"
        assert full[model], f"{model} is empty: nothing to compare"


def test_a_bad_window_margin_is_refused_naming_the_var(copy):
    wh, target = copy
    proc = dbt(
        ["compile", "--select", "int_care_inbound_items", "--vars", "{care_window_margin_days: -1}"],
        wh,
        target,
        check=False,
        SKW_DBT_START_DATE="2026-06-03",
        SKW_DBT_END_DATE="2026-06-03",
    )
    assert proc.returncode != 0
    assert "var care_window_margin_days is '-1'" in proc.stdout, proc.stdout[-2000:]
