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


def weighted_pick(rng, pairs):
    """One value of `pairs` [(value, weight), ...] drawn with its weight (weights summing to
    about 1; the last value takes whatever is left)."""
    r = rng.random()
    for value, weight in pairs:
        r -= weight
        if r < 0:
            return value
    return pairs[-1][0]
