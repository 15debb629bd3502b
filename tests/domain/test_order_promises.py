"""Order: promised dates on backordered lines, recorded when they change, and shipments judged
against the promise a line had (promise accuracy)."""

from __future__ import annotations

from datetime import date

import msgspec

from domain.order import (
    BackorderPromised,
    Order,
    OrderShipmentRecorded,
    PromiseBackorders,
    RecordShipment,
    promise_events,
    promises_late,
)
from tests.domain.order_events import (
    BOLTS_AND_NUTS,
    HELD,
    allocated,
    cancelled,
    orders,
    placed,
    shipped,
    state_of,
)

MAR_10, MAR_11, MAR_12 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)
WAITING = placed(BOLTS_AND_NUTS)  # 9 bolts (line 1) and 10 nuts (line 2), nothing reserved: both wait


def promised(line_id: str, on: date | None, previous: date | None = None) -> BackorderPromised:
    sku = {"1": "BOLT-10", "2": "NUT-4"}[line_id]
    return BackorderPromised(order_id="SO-1", line_id=line_id, sku=sku, promised_date=on, previous=previous)


BOLTS_FILLED = allocated(("1", "BOLT-10", "W-A", 9), reason="backorder_fill")


def ship_bolts(on: date | None, shipment_id: str = "SH-1") -> RecordShipment:
    return RecordShipment("SO-1", shipment_id, "W-A", (("BOLT-10", 9),), shipped_on=on)


def shipped_bolts(on: date | None, late: list[str], shipment_id: str = "SH-1") -> OrderShipmentRecorded:
    plain = shipped(shipment_id, "W-A", ("1", "BOLT-10", 9))
    return msgspec.structs.replace(plain, shipped_on=on, late_line_ids=late)


# --- recording promised dates -----------------------------------------------------------------


def test_backordered_lines_are_promised_their_dates() -> None:
    state = (
        orders.given(WAITING)
        .when(PromiseBackorders("SO-1", {"1": MAR_10, "2": None}))
        .then(promised("1", MAR_10))  # line 2 had no date and still has none: nothing to record
    )
    assert state is not None
    assert [(ln.line_id, ln.promised_date) for ln in state.lines] == [("1", MAR_10), ("2", None)]


def test_a_date_is_recorded_only_when_it_changes_with_the_one_it_replaces() -> None:
    orders.given(WAITING, promised("1", MAR_10)).when(PromiseBackorders("SO-1", {"1": MAR_10})).then()
    orders.given(WAITING, promised("1", MAR_10)).when(PromiseBackorders("SO-1", {"1": MAR_12})).then(
        promised("1", MAR_12, previous=MAR_10)
    )
    orders.given(WAITING, promised("1", MAR_10)).when(PromiseBackorders("SO-1", {"1": None})).then(
        promised("1", None, previous=MAR_10)
    )


def test_lines_not_named_keep_their_dates() -> None:
    history = (WAITING, promised("1", MAR_10), promised("2", MAR_11))
    orders.given(*history).when(PromiseBackorders("SO-1", {"2": MAR_12})).then(promised("2", MAR_12, MAR_11))


def test_a_line_that_no_longer_waits_goes_to_none_whatever_it_is_told() -> None:
    history = (WAITING, promised("1", MAR_10), BOLTS_FILLED)
    orders.given(*history).when(PromiseBackorders("SO-1", {})).then(promised("1", None, MAR_10))
    orders.given(*history).when(PromiseBackorders("SO-1", {"1": MAR_12})).then(promised("1", None, MAR_10))


def test_a_cancelled_order_keeps_no_promises() -> None:
    cancel = cancelled("customer", "79.00", ("1", "BOLT-10", 9, []), ("2", "NUT-4", 10, []))
    orders.given(WAITING, promised("1", MAR_10), cancel).when(PromiseBackorders("SO-1", {"2": MAR_11})).then(
        promised("1", None, MAR_10)
    )


def test_a_held_order_is_not_queued_so_its_lines_are_promised_nothing() -> None:
    orders.given(WAITING, HELD).when(PromiseBackorders("SO-1", {"1": MAR_10})).then()


def test_promising_an_order_that_does_not_exist_records_nothing() -> None:
    orders.when(PromiseBackorders("SO-1", {"1": MAR_10})).then()


def test_the_helper_takes_the_state_and_the_new_dates() -> None:
    state = state_of(WAITING, promised("2", MAR_11))
    assert promise_events(state, {"1": MAR_10, "2": MAR_11}) == [promised("1", MAR_10)]


def test_lines_promised_before_today_are_the_late_promises() -> None:
    state = state_of(WAITING, promised("1", MAR_10), promised("2", MAR_12))
    assert [ln.line_id for ln in promises_late(state, MAR_11)] == ["1"]
    assert promises_late(state, MAR_10) == []
    filled = state_of(WAITING, promised("1", MAR_10), BOLTS_FILLED)  # filled, its None not yet recorded
    assert promises_late(filled, MAR_12) == []


# --- promise accuracy: each shipped line judged against the promise it had ---------------------


def test_a_line_shipped_on_its_promised_date_is_on_time() -> None:
    history = (WAITING, promised("1", MAR_10), BOLTS_FILLED, promised("1", None, MAR_10))
    state = orders.given(*history).when(ship_bolts(MAR_10)).then(shipped_bolts(MAR_10, []))
    assert state is not None and (state.lines_shipped, state.lines_shipped_late) == (1, 0)
    assert state.line("1").last_promised_date == MAR_10  # the promise it was filled under


def test_a_line_shipped_after_the_promise_it_had_is_late() -> None:
    history = (WAITING, promised("1", MAR_10), BOLTS_FILLED, promised("1", None, MAR_10))
    state = orders.given(*history).when(ship_bolts(MAR_11)).then(shipped_bolts(MAR_11, ["1"]))
    assert state is not None and state.line("1").shipped_late
    assert (state.lines_shipped, state.lines_shipped_late) == (1, 1)


def test_a_line_is_judged_against_its_latest_promise() -> None:
    history = (WAITING, promised("1", MAR_10), promised("1", MAR_12, MAR_10), BOLTS_FILLED)
    orders.given(*history).when(ship_bolts(MAR_11)).then(shipped_bolts(MAR_11, []))


def test_a_promise_withdrawn_while_the_line_still_waits_is_no_promise() -> None:
    history = (WAITING, promised("1", MAR_10), promised("1", None, MAR_10), BOLTS_FILLED)
    state = orders.given(*history).when(ship_bolts(MAR_12)).then(shipped_bolts(MAR_12, []))
    assert state is not None and state.line("1").last_promised_date is None


def test_lines_never_backordered_or_never_promised_are_on_time() -> None:
    reserved = allocated(("1", "BOLT-10", "W-A", 9))
    state = orders.given(WAITING, reserved).when(ship_bolts(MAR_12)).then(shipped_bolts(MAR_12, []))
    assert state is not None and (state.lines_shipped, state.lines_shipped_late) == (1, 0)


def test_a_shipment_without_its_day_judges_nothing() -> None:
    history = (WAITING, promised("1", MAR_10), BOLTS_FILLED)
    orders.given(*history).when(ship_bolts(None)).then(shipped_bolts(None, []))


def test_a_line_late_once_stays_late_and_only_shipped_lines_count() -> None:
    part = allocated(("1", "BOLT-10", "W-A", 4))
    history = (WAITING, part, promised("1", MAR_10), allocated(("1", "BOLT-10", "W-A", 5), reason="backorder_fill"))
    state = state_of(
        *history,
        msgspec.structs.replace(shipped("SH-1", "W-A", ("1", "BOLT-10", 4)), shipped_on=MAR_11, late_line_ids=["1"]),
        msgspec.structs.replace(shipped("SH-2", "W-A", ("1", "BOLT-10", 5)), shipped_on=MAR_10),
    )
    assert state.line("1").shipped_late and (state.lines_shipped, state.lines_shipped_late) == (1, 1)


# --- what was stored before promises existed still reads ----------------------------------------


def test_a_shipment_recorded_before_promises_decodes_with_no_day_and_no_late_lines() -> None:
    old = b'{"order_id":"SO-1","shipment_id":"SH-1","warehouse_id":"W-A","lines":[{"line_id":"1","sku":"BOLT-10","qty":9}]}'
    event = msgspec.json.decode(old, type=OrderShipmentRecorded)
    assert (event.shipped_on, event.late_line_ids) == (None, [])


def test_an_order_document_written_before_promises_decodes_with_none_promised() -> None:
    state = state_of(WAITING)
    doc = msgspec.json.decode(msgspec.json.encode(state))
    for line in doc["lines"]:
        for name in ("promised_date", "last_promised_date", "shipped_late"):
            del line[name]
    old = msgspec.json.decode(msgspec.json.encode(doc), type=Order)
    assert old == state and old.line("1").promised_date is None and not old.line("1").shipped_late
