"""Price lists (API.md "Price lists and units of measure"): reference data, one stream per list,
replaced as a whole by each PUT. An item prices one SKU per base unit from a quantity (`min_qty`,
in base units) within optional validity dates; `domain.pricing` picks the item a line gets.

Items of one SKU with the same `min_qty` whose dates overlap are allowed: API.md gives them a
meaning (ties go to the lowest price), and it is how a promotion is laid over a standing price
without cutting the standing item's dates. What is refused is what can never price anything right:
`min_qty` below 1, `valid_to` before `valid_from`, SKUs not in the catalog (checked by the
application, which reads the catalog).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import msgspec

from domain.decider import Decider
from domain.errors import InvalidRequestError
from domain.events import Event, register
from domain.values import MAX_QTY

MAX_ITEMS = 5000


class PriceListItem(msgspec.Struct, frozen=True, kw_only=True):
    """`unit_price` per base unit for `min_qty` base units or more, from `valid_from` to `valid_to`
    (both days included; a bound left out is open)."""

    sku: str
    unit_price: Decimal
    min_qty: int = 1
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


class PriceListDefined(Event, frozen=True, kw_only=True):
    price_list_id: str
    name: str
    items: tuple[PriceListItem, ...]


class PriceListReplaced(Event, frozen=True, kw_only=True):
    """The list's name and items as a whole, replacing what it had."""

    price_list_id: str
    name: str
    items: tuple[PriceListItem, ...]


register(PriceListDefined, PriceListReplaced)


def _by_sku(items: Sequence[PriceListItem]) -> dict[str, tuple[PriceListItem, ...]]:
    grouped: dict[str, list[PriceListItem]] = {}
    for item in items:
        grouped.setdefault(item.sku, []).append(item)
    return {sku: tuple(found) for sku, found in grouped.items()}


@dataclass(frozen=True)
class PriceList:
    """A list as its last PUT left it; `by_sku` indexes its items so pricing a line reads only its SKU's."""

    price_list_id: str
    name: str
    items: tuple[PriceListItem, ...]
    by_sku: Mapping[str, tuple[PriceListItem, ...]] = field(default_factory=dict, compare=False)

    def items_for(self, sku: str) -> tuple[PriceListItem, ...]:
        return self.by_sku.get(sku, ())


@dataclass(frozen=True)
class PutPriceList:
    price_list_id: str
    name: str
    items: tuple[PriceListItem, ...]


def item_errors(items: Sequence[PriceListItem]) -> list[dict[str, str]]:
    """What makes items unusable: min_qty outside 1..MAX_QTY, valid_to before valid_from, too many."""
    errors: list[dict[str, str]] = []
    if len(items) > MAX_ITEMS:
        errors.append({"field": "items", "message": f"at most {MAX_ITEMS} items"})
    for i, item in enumerate(items):
        if not 1 <= item.min_qty <= MAX_QTY:
            errors.append({"field": f"items[{i}].min_qty", "message": f"must be 1-{MAX_QTY}"})
        if item.unit_price < 0:
            errors.append({"field": f"items[{i}].unit_price", "message": "must not be negative"})
        if item.valid_from is not None and item.valid_to is not None and item.valid_to < item.valid_from:
            errors.append({"field": f"items[{i}].valid_to", "message": "must not be before valid_from"})
    return errors


def evolve_price_list(state: PriceList | None, event: Event) -> PriceList | None:
    if isinstance(event, PriceListDefined | PriceListReplaced):
        items = tuple(event.items)
        return PriceList(event.price_list_id, event.name, items, _by_sku(items))
    return state


def decide_put_price_list(command: PutPriceList, state: PriceList | None) -> list[Event]:
    """Define or replace a list; an unchanged PUT records nothing."""
    errors = item_errors(command.items)
    if errors:
        raise InvalidRequestError(f"{errors[0]['field']} {errors[0]['message']}", errors=errors)
    if state is None:
        return [PriceListDefined(price_list_id=command.price_list_id, name=command.name, items=command.items)]
    if (state.name, state.items) == (command.name, command.items):
        return []
    return [PriceListReplaced(price_list_id=command.price_list_id, name=command.name, items=command.items)]


def initial_price_list(price_list_id: str) -> PriceList | None:
    return None


price_list_decider: Decider[PutPriceList, PriceList | None] = Decider(
    decide_put_price_list, evolve_price_list, initial_price_list
)
