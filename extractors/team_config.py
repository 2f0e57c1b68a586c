"""The marketing team's configuration files: goals and targets, the KPI registry, the
competitor set (versioned by valid_from), the influencer roster with fees, the employee
roster, the campaign-to-UTM mapping, FX rates and the A/B experiments.

They are CSV files (one header line, UTF-8, ISO dates, an empty cell is null) in a folder the
team owns, read whole on every run: each file is an undated stream merged on its natural key,
so a changed row updates its table and an unchanged file writes nothing. Values stay the
strings the file holds; the loader types them, and a row whose key is missing or whose number
or date does not convert goes to raw._rejects. Every record carries `source_file` and
`source_line` (the line in the CSV, header = 1) so a reject points at the cell to fix.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

from extractors.client import SourceClient
from extractors.http import FatalError
from extractors.streams import Stream

log = logging.getLogger(__name__)

SOURCE = "team_config"
CONFIG_DIR_VAR = "SKW_CONFIG_DIR"
PAGE_ROWS = 5000
# Merge on the natural key. A row deleted from a file stays in its table until the loader has a
# whole-table `replace` disposition (see the report of issue 4); switch here when it does.
DISPOSITION = "replace"


def _stream(name: str, key: tuple[str, ...], columns: dict[str, str], description: str) -> Stream:
    """A file of the folder: `path` is its name there (`files` of the client renames it)."""
    return Stream(
        SOURCE,
        name,
        primary_key=key,
        columns=columns,
        disposition=DISPOSITION,
        path=f"{name}.csv",
        records_at="",
        reader="file",
        description=f"{description} From the team's {name}.csv.",
    )


GOALS = _stream(
    "goals",
    ("goal_id",),
    {
        "goal_id": "VARCHAR",
        "period": "VARCHAR",
        "kpi": "VARCHAR",
        "target": "DECIMAL(18,6)",
        "direction": "VARCHAR",
        "owner": "VARCHAR",
    },
    "Goals: a target per KPI and period, and who owns it.",
)
KPI_REGISTRY = _stream(
    "kpi_registry",
    ("kpi",),
    {
        "kpi": "VARCHAR",
        "name": "VARCHAR",
        "definition": "VARCHAR",
        "unit": "VARCHAR",
        "direction": "VARCHAR",
        "owner": "VARCHAR",
        "catalogue_row": "INTEGER",
    },
    "The KPI registry: name, definition, unit and direction of each KPI.",
)
COMPETITORS = _stream(
    "competitors",
    ("set_version", "entity"),
    {
        "set_version": "INTEGER",
        "valid_from": "DATE",
        "valid_to": "DATE",
        "entity": "VARCHAR",
        "name": "VARCHAR",
        "handle": "VARCHAR",
        "is_brand": "BOOLEAN",
    },
    "The competitor set, versioned (valid_from/valid_to), the brand included as the share-of-voice denominator.",
)
INFLUENCERS = _stream(
    "influencers",
    ("influencer_id",),
    {
        "influencer_id": "VARCHAR",
        "handle": "VARCHAR",
        "platform": "VARCHAR",
        "followers": "BIGINT",
        "fee_eur": "DECIMAL(18,2)",
        "contract_copy": "VARCHAR",
    },
    "The influencer roster with fees in EUR.",
)
EMPLOYEES = _stream(
    "employees",
    ("employee_id",),
    {"employee_id": "VARCHAR", "handle": "VARCHAR", "team": "VARCHAR", "platform": "VARCHAR", "advocate": "BOOLEAN"},
    "The employee roster and who takes part in advocacy.",
)
CAMPAIGNS = _stream(
    "campaigns",
    ("campaign_key",),
    {
        "campaign_key": "VARCHAR",
        "name": "VARCHAR",
        "utm_campaign": "VARCHAR",
        "start_date": "DATE",
        "end_date": "DATE",
        "channels": "VARCHAR",
        "objective": "VARCHAR",
        "daily_budget_eur": "DECIMAL(18,2)",
        "budget_eur": "DECIMAL(18,2)",
    },
    "Campaigns and their utm_campaign value, flight dates, channels (|-separated) and budgets.",
)
FX_RATES = _stream(
    "fx_rates",
    ("date", "base", "currency"),
    {"date": "DATE", "base": "VARCHAR", "currency": "VARCHAR", "rate": "DECIMAL(18,6)"},
    "FX rates: units of currency per 1 unit of base, per day.",
)
EXPERIMENTS = _stream(
    "experiments",
    ("experiment_id", "variant"),
    {
        "experiment_id": "VARCHAR",
        "variant": "VARCHAR",
        "is_control": "BOOLEAN",
        "platform": "VARCHAR",
        "ad_ids": "VARCHAR",
        "utm_content": "VARCHAR",
        "start_date": "DATE",
        "end_date": "DATE",
        "primary_metric": "VARCHAR",
        "alpha": "DOUBLE",
        "power": "DOUBLE",
        "min_detectable_lift": "DOUBLE",
    },
    "A/B experiments, one row per variant: the control flag, what the variant maps to (a platform's ad ids, "
    "`|`-separated, or a utm_content), the dates, the primary metric, alpha, power and the minimum "
    "detectable relative lift.",
)
STREAMS = (GOALS, KPI_REGISTRY, COMPETITORS, INFLUENCERS, EMPLOYEES, CAMPAIGNS, FX_RATES, EXPERIMENTS)

# Which file feeds each stream. Configuration: a renamed file is a change here, not in code.
DEFAULT_FILES: dict[str, str] = {s.name: s.path for s in STREAMS}


def read_rows(path: Path, required: tuple[str, ...], *, label: str | None = None) -> Iterator[dict]:
    """The rows of one CSV file as records: cells by header name ("" becomes null), plus
    `source_file` and `source_line`. A row with more or fewer cells than the header cannot be
    read by name: it keeps its cells under `_cells` and no named field, so the loader rejects
    it for its missing key. A header without a required column fails the whole file."""
    label = label or path.name
    with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a spreadsheet's BOM is not a column
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise FatalError(SOURCE, f"{label} is empty: it needs a header line with {', '.join(required)}") from None
        missing = [c for c in required if c not in header]
        if missing:
            raise FatalError(
                SOURCE,
                f"{label} has no column(s) {', '.join(missing)} (its header: "
                f"{', '.join(header)}): restore them in the file, or change the stream's "
                f"columns in extractors/team_config.py (folder from {CONFIG_DIR_VAR})",
            )
        for cells in reader:
            line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines are layout, not rows
            record: dict = {}
            if len(cells) == len(header):
                record = {h: (c if c != "" else None) for h, c in zip(header, cells)}
            else:
                record["_cells"] = cells
                record["_error"] = f"{len(cells)} cells where the header has {len(header)}"
            record["source_file"] = label
            record["source_line"] = line
            yield record


class TeamConfigClient(SourceClient):
    """Reads the configuration folder. Not an HTTP source: `stats.pages` counts files read."""

    SOURCE = SOURCE

    def __init__(self, config_dir: str | Path, *, files: Mapping[str, str] | None = None, page_rows: int = PAGE_ROWS):
        unknown = sorted(set(files or {}) - set(DEFAULT_FILES))
        if unknown:
            raise ValueError(f"{SOURCE}: `files` names no stream {unknown} (streams: {', '.join(DEFAULT_FILES)})")
        super().__init__(s.configured(path=(files or {}).get(s.name, s.path)) for s in STREAMS)
        self.dir = Path(config_dir)
        self.files = {s.name: s.path for s in self.streams}
        self.page_rows = page_rows

    def file_of(self, stream: Stream) -> Path:
        """Where the stream's file is: its declared name in the configuration folder."""
        return self.dir / self.stream(stream.name).path

    def read_file(self, stream: Stream, day: date | None = None) -> Iterator[list[dict]]:
        if not self.dir.is_dir():
            raise FatalError(SOURCE, f"configuration folder {self.dir} does not exist: set {CONFIG_DIR_VAR}")
        path = self.file_of(stream)
        if not path.is_file():
            raise FatalError(
                SOURCE,
                f"{path.name} is missing from {self.dir}: add it, or point "
                f"{CONFIG_DIR_VAR} at the team's configuration folder",
            )
        self.stats.requests += 1
        self.stats.pages += 1
        page: list[dict] = []
        for record in read_rows(path, tuple(stream.columns), label=path.name):
            page.append(record)
            if len(page) >= self.page_rows:
                yield page
                page = []
        yield page
