"""Allocation planning: which warehouse gives how much to each order line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def plan_line(qty: int, available: Mapping[str, int], pin: str | None = None) -> list[tuple[str, int]]:
    """Most available first, ties by warehouse id ascending; only `pin` when given.

    Returns [(warehouse_id, qty)], possibly summing to less than `qty` (the rest is backordered).
    """
    candidates = sorted(
        ((wh, avail) for wh, avail in available.items() if avail > 0 and (pin is None or wh == pin)),
        key=lambda item: (-item[1], item[0]),
    )
    plan: list[tuple[str, int]] = []
    wanted = qty
    for wh, avail in candidates:
        if wanted == 0:
            break
        take = min(wanted, avail)
        plan.append((wh, take))
        wanted -= take
    return plan


def plan_lines(
    lines: Sequence[tuple[str, str, int]],
    available: Mapping[str, Mapping[str, int]],
    pin: str | None = None,
) -> dict[str, list[tuple[str, int]]]:
    """Plan every (line_id, sku, qty); availability is per SKU then warehouse."""
    return {line_id: plan_line(qty, available.get(sku, {}), pin) for line_id, sku, qty in lines}
