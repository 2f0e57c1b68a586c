"""The marketing team's configuration files: every row of every file lands once, an unchanged
file writes nothing, a changed row updates its table, a malformed row goes to the rejects
with its file and line, and a file that lost a column or went missing fails saying what to fix."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import TEST_SPEC
from stream_harness import by_key, run_stream

from extractors.http import FatalError
from extractors.team_config import CONFIG_DIR_VAR, FX_RATES, GOALS, INFLUENCERS, STREAMS, TeamConfigClient
from orchestration.resources import SourceEnvironment
from orchestration.sources.team_config import TeamConfigResource
from warehouse.loader import RawTable, connect, load


@pytest.fixture
def config_dir(world, tmp_path) -> Path:
    """A copy of the sample world's configuration the test may edit."""
    return Path(shutil.copytree(world / "config", tmp_path / "config"))


def file_rows(path: Path) -> list[dict]:
    """The file's rows as records, read independently of the extractor."""
    with open(path, newline="", encoding="utf-8") as f:
        return [
            {**{k: (v if v != "" else None) for k, v in row.items()}, "source_file": path.name, "source_line": n}
            for n, row in enumerate(csv.DictReader(f), start=2)
        ]


@pytest.mark.parametrize("stream", STREAMS, ids=[s.name for s in STREAMS])
def test_every_row_of_every_file_exactly_once(stream, config_dir, tmp_path):
    c = TeamConfigClient(config_dir)
    run = run_stream(c, stream, tmp_path)
    want = file_rows(config_dir / f"{stream.name}.csv")
    assert want and by_key(run.records, stream.primary_key) == by_key(want, stream.primary_key)
    assert run.rejects == [] and c.stats.pages == 1
    again = run_stream(TeamConfigClient(config_dir), stream, tmp_path)
    r = again.results[0]
    assert (r.inserted, r.updated, r.deleted, r.unchanged) == (0, 0, 0, len(want))  # unchanged file: nothing written


def test_values_are_typed_in_raw(config_dir, tmp_path):
    run_stream(TeamConfigClient(config_dir), FX_RATES, tmp_path)
    with connect(tmp_path / "w.duckdb") as con:
        eur = con.execute(
            "select typeof(date), typeof(rate), rate from raw.team_config__fx_rates where currency = 'EUR' limit 1"
        ).fetchall()[0]
    assert eur[0] == "DATE" and eur[1].startswith("DECIMAL") and float(eur[2]) == 1.0


def test_a_changed_row_updates_only_that_row(config_dir, tmp_path):
    run_stream(TeamConfigClient(config_dir), INFLUENCERS, tmp_path)
    path = config_dir / "influencers.csv"
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4] = str(int(cells[4]) + 500)  # fee_eur of the first influencer
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    run = run_stream(TeamConfigClient(config_dir), INFLUENCERS, tmp_path)
    r = run.results[0]
    assert (r.inserted, r.updated, r.deleted, r.unchanged) == (0, 1, 0, len(lines) - 2)
    assert by_key(run.records, ("influencer_id",))[(cells[0],)]["fee_eur"] == cells[4]


def test_malformed_rows_go_to_rejects_with_file_and_line(config_dir, tmp_path):
    path = config_dir / "goals.csv"
    n = len(path.read_text().splitlines())
    with open(path, "a", encoding="utf-8") as f:
        f.write(",2026-Q3,leads,100,higher,growth\n")  # no goal_id
        f.write("2026-Q3-leads,2026-Q3,leads,lots,higher,growth\n")  # target is not a number
        f.write("\n")  # a blank line is layout
        f.write("2026-Q3-extra,2026-Q3,leads,5\n")  # too few cells
    cdir = config_dir / "competitors.csv"
    with open(cdir, "a", encoding="utf-8") as f:
        f.write("2,2026-06-31,,newco,NewCo,newco,false\n")  # no such date
    run = run_stream(TeamConfigClient(config_dir), GOALS, tmp_path)
    rejects = [(json.loads(rec), reason) for rec, reason in run.rejects]
    assert [(r["source_file"], r["source_line"]) for r, _ in rejects] == [
        ("goals.csv", n + 1),
        ("goals.csv", n + 2),
        ("goals.csv", n + 4),
    ]
    assert "missing required field goal_id" in rejects[0][1]
    assert "field target: lots is not a valid DECIMAL" in rejects[1][1]
    assert "missing required field goal_id" in rejects[2][1] and rejects[2][0]["_cells"][0] == "2026-Q3-extra"
    assert len(run.records) == n - 1  # every good row still loads
    comp = run_stream(TeamConfigClient(config_dir), raw_stream("competitors"), tmp_path)
    ((rec, reason),) = [(json.loads(r), why) for r, why in comp.rejects]
    assert rec["source_line"] == len(cdir.read_text().splitlines()) and "2026-06-31" in reason and "DATE" in reason


def raw_stream(name: str):
    return next(s for s in STREAMS if s.name == name)


def test_a_file_that_lost_a_column_fails_naming_file_column_and_setting(config_dir):
    path = config_dir / "fx_rates.csv"
    path.write_text(path.read_text().replace("date,base,currency,rate", "date,base,currency,fx", 1))
    with pytest.raises(FatalError) as exc:
        list(TeamConfigClient(config_dir).pages(FX_RATES))
    text = str(exc.value)
    assert "[team_config]" in text and "fx_rates.csv" in text and "rate" in text and CONFIG_DIR_VAR in text


def test_a_missing_file_or_folder_fails_naming_the_setting(config_dir, tmp_path):
    (config_dir / "goals.csv").unlink()
    with pytest.raises(FatalError, match=f"goals.csv is missing.*{CONFIG_DIR_VAR}"):
        list(TeamConfigClient(config_dir).pages(GOALS))
    with pytest.raises(FatalError, match=CONFIG_DIR_VAR):
        list(TeamConfigClient(tmp_path / "nowhere").pages(GOALS))


def test_a_spreadsheet_bom_is_not_part_of_the_first_column(config_dir, tmp_path):
    path = config_dir / "goals.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    run = run_stream(TeamConfigClient(config_dir), GOALS, tmp_path)
    assert run.rejects == [] and all("goal_id" in r for r in run.records)


def test_resource_reads_skw_config_dir_else_the_sample_world_in_sample_mode(world, config_dir, monkeypatch):
    from orchestration.resources import MissingSettings
    from orchestration.sample_mode import EmbeddedFakesResource, fakes_started

    monkeypatch.setenv(CONFIG_DIR_VAR, str(config_dir))
    assert TeamConfigResource(environment=SourceEnvironment()).client().dir == config_dir
    monkeypatch.delenv(CONFIG_DIR_VAR)
    with pytest.raises(MissingSettings, match=CONFIG_DIR_VAR):  # outside sample mode: no fallback
        TeamConfigResource(environment=SourceEnvironment()).client()
    monkeypatch.setenv("SKW_SAMPLE_DIR", str(world.parent))
    monkeypatch.setenv("SKW_SAMPLE_START", TEST_SPEC.start.isoformat())
    monkeypatch.setenv("SKW_SAMPLE_END", TEST_SPEC.end.isoformat())
    monkeypatch.setenv("SKW_SAMPLE_SEED", str(TEST_SPEC.seed))
    assert TeamConfigResource(environment=EmbeddedFakesResource()).client().dir == world / "config"
    assert not fakes_started()  # no fake API was started for files


def _loader_has_replace() -> bool:
    with connect(":memory:") as con:
        try:
            import tempfile

            from warehouse.landing import land_pages

            with tempfile.TemporaryDirectory() as d:
                landed = land_pages(Path(d), "t", "t", "current", [[{"k": "1"}]])
                load(con, RawTable("t", "t", {"k": "VARCHAR"}, ("k",), disposition="replace"), landed)
            return True
        except ValueError:
            return False


@pytest.mark.skipif(not _loader_has_replace(), reason="warehouse/loader.py has no `replace` disposition yet")
def test_with_replace_a_row_deleted_from_the_file_leaves_the_table(config_dir, tmp_path):
    from dataclasses import replace

    stream = replace(INFLUENCERS, disposition="replace")
    run_stream(TeamConfigClient(config_dir), stream, tmp_path)
    path = config_dir / "influencers.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    r = run_stream(TeamConfigClient(config_dir), stream, tmp_path).results[0]
    assert (r.inserted, r.updated, r.deleted, r.rows_in_table) == (0, 0, 1, len(lines) - 2)
