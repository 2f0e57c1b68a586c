"""Small numeric helpers the generators share."""

from __future__ import annotations


def split_total(total: int, weights: list[float]) -> list[int]:
    """`total` split by `weights` with the largest-remainder method: the parts are whole and
    sum to `total` exactly (ties go to the earlier weight)."""
    if total <= 0:
        return [0] * len(weights)
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    for k in sorted(range(len(raw)), key=lambda k: (parts[k] - raw[k], k))[: total - sum(parts)]:
        parts[k] += 1
    return parts
