"""What a run prints in the terminal (`make run`, orchestration/run.py): one line format for
everything, and the run's progress.

Every line is `time  asset  message`: Dagster's own messages, the project's (loads, checks,
dbt's model and test lines) and the lines of the project's modules that Dagster captures
(`managed_python_loggers`, orchestration/instance.py: the HTTP core's retries and throttling
pauses, the engine's per-stream lines). The asset is the stream a line is about when the engine
is running one (warehouse/engine.py `current_stream`, carried into the threads that read its
days), else the asset of the event, else the step, else `run`. A message of several lines keeps
its other lines indented under the first.

What is written straight to the terminal during the run (dbt's own model and test lines, which
dagster-dbt copies to stdout) is put in the same format by `formatted_stdout`, labelled `dbt`.

Progress: as assets are materialized, a `progress` line says how many of the run's assets are
done and the rows loaded so far (the sum over the raw assets done of their `loaded` count),
at each tenth of the assets and at the end of each step. The UI shows the same counts per asset
(each raw asset's metadata) and the steps' states.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from contextlib import contextmanager

from dagster import Field, logger

from warehouse.engine import current_stream

_LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR}
ASSET_WIDTH = 28


def format_line(at: float, asset: str, message: str, level: int = logging.INFO) -> str:
    """`HH:MM:SS  asset  message` (UTC), warnings and errors marked; later lines of the message
    indented under the first."""
    mark = {logging.WARNING: "WARNING ", logging.ERROR: "ERROR ", logging.CRITICAL: "ERROR "}.get(level, "")
    head = f"{time.strftime('%H:%M:%S', time.gmtime(at))}  {asset:<{ASSET_WIDTH}} "
    first, *rest = (message.rstrip() or "").splitlines() or [""]
    return "\n".join([head + mark + first, *(" " * len(head) + line for line in rest)])


class Progress:
    """Assets of the run done, and rows loaded by the raw assets done."""

    def __init__(self, total: int):
        self.total = total
        self.done: set[str] = set()
        self.loaded: dict[str, int] = {}

    def materialized(self, asset: str, metadata) -> bool:
        """Count one materialization (a partitioned asset has one a day: each counted once);
        True when the count reached another tenth of the total."""
        value = (metadata or {}).get("loaded")
        value = getattr(value, "value", value)
        if isinstance(value, int | float):
            self.loaded[asset] = int(value)
        if asset in self.done:
            return False
        self.done.add(asset)
        step = max(1, self.total // 10)
        return len(self.done) % step == 0 or len(self.done) == self.total

    def line(self) -> str:
        of = f"/{self.total}" if self.total else ""
        return f"{len(self.done)}{of} assets done, {sum(self.loaded.values()):,} rows loaded"


class LineHandler(logging.Handler):
    """Dagster's log records (with their `dagster_meta`) as `format_line` lines, plus progress."""

    def __init__(self, stream, level: int, total_assets: int):
        super().__init__(logging.DEBUG)  # materializations come at DEBUG: counted, not printed
        self.stream = stream
        self.shown = level
        self.progress = Progress(total_assets)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            lines = []
            if record.levelno >= self.shown:
                lines.append(format_line(record.created, label(meta, event), _message(record, meta), record.levelno))
            if event is not None and event.event_type_value == "ASSET_MATERIALIZATION":
                mat = event.event_specific_data.materialization
                if self.progress.materialized(mat.asset_key.to_user_string(), mat.metadata):
                    lines.append(format_line(record.created, "progress", self.progress.line()))
            elif event is not None and event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                lines.append(format_line(record.created, "progress", self.progress.line()))
            if lines:
                self.stream.write("\n".join(lines) + "\n")
                self.stream.flush()
        except Exception:  # noqa: BLE001 - a line that cannot be printed must not fail the run
            self.handleError(record)


def label(meta: dict, event=None) -> str:
    """The asset a line is about: the stream being run in this thread, the event's asset, the
    step, or `run`."""
    stream = current_stream.get()
    if stream:
        return f"raw/{stream}"
    key = getattr(event, "asset_key", None) if event is not None else None
    if key is not None:
        return key.to_user_string()
    return meta.get("step_key") or "run"


def _message(record: logging.LogRecord, meta: dict) -> str:
    message = meta.get("orig_message")
    return message if message is not None else record.getMessage()


def total_assets(job_def) -> int:
    try:
        return len(job_def.asset_layer.selected_asset_keys)
    except Exception:  # noqa: BLE001 - an op job has no assets: progress counts none
        return 0


@logger(
    config_schema={"log_level": Field(str, default_value="INFO", is_required=False)},
    description="One line per message, `time  asset  message`, and the run's progress (orchestration/progress.py).",
)
def progress_console(init_context):
    level = _LEVELS.get(str(init_context.logger_config["log_level"]).upper(), logging.INFO)
    out = logging.getLogger(f"skw.progress.{id(init_context)}")
    out.setLevel(logging.DEBUG)
    out.propagate = False
    stdout = sys.stdout.out if isinstance(sys.stdout, _LineWriter) else sys.stdout  # already formatted
    out.addHandler(LineHandler(stdout, level, total_assets(init_context.job_def)))
    return out


_FORMATTED = re.compile(r"^\d\d:\d\d:\d\d  ")


class _LineWriter:
    """A text stream that writes each complete line in the `format_line` format (a line already
    in it is passed on as it is)."""

    def __init__(self, out, label: str):
        self.out, self.label, self.pending = out, label, ""
        self.continuing = False  # the last line was formatted: indented lines after it are its own

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if not line.strip():
                continue
            if _FORMATTED.match(line) or (self.continuing and line.startswith(" ")):
                self.continuing = True
            else:
                line, self.continuing = format_line(time.time(), self.label, line), True
            self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def __getattr__(self, name):  # isatty, encoding, fileno ...: the real stream's
        return getattr(self.out, name)


@contextmanager
def formatted_stdout(label: str = "dbt"):
    """Within the block, lines written to stdout by anything else than the project's logger
    (dbt's lines, copied by dagster-dbt) come out as `time  <label>  line`."""
    real = sys.stdout
    writer = _LineWriter(real, label)
    sys.stdout = writer
    try:
        yield
    finally:
        if writer.pending.strip():
            writer.write("\n")
        sys.stdout = real
