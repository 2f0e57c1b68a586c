"""Structural comparison of a fake's response with a real published response.

`shape(body)` flattens a JSON value to {path: kinds}, where a path names keys at every level
(`$.data[].paging.cursors.after`; list items share `[]`) and a kind says how the value is
written: object, array, null, bool, int, float, and for strings how they read (a string
holding an integer, a decimal, an ISO date, a timestamp with +0000 or Z, YYYYMMDD, plain).

`compare(real, fake, optional=..., ignore=...)` lists the differences that matter:
- a path of the real response missing from the fake's (unless marked optional);
- a path present in both whose kinds do not overlap (a number sent as a number where the
  platform sends a string, a date written another way).
Paths only in the fake's response are allowed: the fake may be asked for more fields than
the published sample was.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

_PATTERNS = [
    ("str:int", re.compile(r"^-?\d+$")),
    ("str:decimal", re.compile(r"^-?\d+\.\d+$")),
    ("str:date", re.compile(r"^\d{4}-\d{2}-\d{2}$")),
    ("str:yyyymmdd", re.compile(r"^\d{8}$")),
    ("str:datetime+0000", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")),
    ("str:datetimeZ", re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")),
    ("str:url", re.compile(r"^https?://")),
]


def kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        for name, pattern in _PATTERNS:
            if pattern.match(value):
                # an 8-digit string is both an int and a yyyymmdd; keep both readings
                return name if name != "str:int" or len(value) != 8 else "str:int|str:yyyymmdd"
        return "str"
    return type(value).__name__


def shape(value: Any, path: str = "$", out: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    out = {} if out is None else out
    out.setdefault(path, set()).update(kind(value).split("|"))
    if isinstance(value, dict):
        for k, v in value.items():
            shape(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for item in value:
            shape(item, f"{path}[]", out)
    return out


# Kinds that are the same way of writing a value for this purpose.
_COMPATIBLE = [{"int", "float"}, {"str:int", "str:decimal"}, {"str", "str:url"}]


def _overlap(a: set[str], b: set[str]) -> bool:
    if a & b:
        return True
    return any(x in group and y in group for group in _COMPATIBLE for x in a for y in b)


def compare(real: Any, fake: Any, *, optional: tuple[str, ...] = (), ignore: tuple[str, ...] = ()) -> list[str]:
    """Differences between the real and the fake response (empty when they agree).

    `optional` and `ignore` are glob patterns over paths (`$.data[].message`, `$.paging.*`):
    optional paths may be missing from the fake; ignored ones are not compared at all.
    """
    r, f = shape(real), shape(fake)
    problems = []
    for path, kinds in sorted(r.items()):
        if any(fnmatch.fnmatchcase(path, p) for p in ignore):
            continue
        if path not in f:
            if not any(fnmatch.fnmatchcase(path, p) for p in optional):
                problems.append(f"missing in fake: {path} ({'/'.join(sorted(kinds))})")
            continue
        # null in the sample says nothing about how a present value is written
        real_kinds, fake_kinds = kinds - {"null"} or kinds, f[path] - {"null"} or f[path]
        if not _overlap(real_kinds, fake_kinds):
            problems.append(f"kind differs at {path}: real {sorted(kinds)} vs fake {sorted(f[path])}")
    return problems
