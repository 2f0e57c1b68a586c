"""The peer benchmark's own side and the bare loop (the limit) run at a tiny scale so it cannot rot (the dlt side needs its
own venv from the package index: `make bench` runs it, not the tests)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from benchmarks.peer_dlt import Fakes, median_run, run_bare, run_ours
from sampleworld.world import WorldSpec, generate

pytestmark = pytest.mark.slow


def test_ours_side_loads_every_mention_served_and_counts_its_cpu(tmp_path, monkeypatch):
    days = [date(2026, 6, 1) + timedelta(days=i) for i in range(2)]
    spec = WorldSpec(start=days[0], end=days[-1], scale=1)
    monkeypatch.setenv("SKW_SAMPLE_DOMAINS", "listening")
    generate(spec, tmp_path / "sample")
    fakes = Fakes(
        {
            "SKW_SAMPLE_START": spec.start.isoformat(),
            "SKW_SAMPLE_END": spec.end.isoformat(),
            "SKW_SAMPLE_SCALE": "1",
            "SKW_SAMPLE_SEED": str(spec.seed),
            "SKW_SAMPLE_DOMAINS": "listening",
            "SKW_SAMPLE_DIR": str(tmp_path / "sample"),
        }
    )
    try:
        served_before = fakes.cpu_seconds()
        runs = []
        for n in range(3):
            (tmp_path / f"run{n}").mkdir()
            runs.append(run_ours(fakes.env, days, 2, tmp_path / f"run{n}", page_size=200))
        served = fakes.cpu_seconds() - served_before
        bare = run_bare(fakes.env, days, 2, tmp_path / "bare", page_size=200)
    finally:
        fakes.stop()
    first = runs[0]
    assert first["records"] == first["received"] > 500 and first["rejected"] == first["duplicates"] == 0
    assert first["pages"] == first["requests"] > first["records"] // 200
    assert all(r["records"] == first["records"] for r in runs)
    assert first["cpu_seconds"] > 0 and served > 0
    assert first["extract_land_seconds"] + first["load_seconds"] == pytest.approx(first["seconds"])
    median = median_run(runs)
    assert median["seconds"] == sorted(r["seconds"] for r in runs)[1]
    assert median["samples_seconds"] == [round(r["seconds"], 3) for r in runs]
    # the bare loop (the limit) makes the same requests and ends with the same rows, each once
    assert bare["records"] == bare["distinct_keys"] == first["records"]
    assert bare["requests"] == first["requests"]
    assert bare["extract_land_seconds"] + bare["load_seconds"] == pytest.approx(bare["seconds"])


def test_sides_picks_what_runs_and_refuses_an_unknown_side(capsys):
    """`--sides ours,bare` runs the extraction-limit comparison without dlt's venv; a misspelt
    side is an error naming it, before any world is generated or any venv made."""
    from benchmarks.peer_dlt import main

    with pytest.raises(SystemExit) as exc:
        main(["--sides", "ours,bare,dtl"])
    assert exc.value.code == 2
    assert "unknown side(s) dtl; choose from ours, bare, dlt" in capsys.readouterr().err
