"""The promise queries of the read side (infra/readside/promises.py) on real stores: orders driven
through the application service, promises recorded by the domain command, shipments on days a
FixedClock sets, and every figure counted in SQL equal to the rule applied to the orders' states."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from domain import order
from infra.clock import FixedClock
from infra.readside.readmodels import ReadModels
from infra.readside.rebuild import rebuild
from tests.infra.promises import cancel, place, promise, receive, ship
from tests.infra.readside import make_runner, seed_reference, service, settle

MAR_5, MAR_8, MAR_9, MAR_10 = date(2026, 3, 5), date(2026, 3, 8), date(2026, 3, 9), date(2026, 3, 10)
NOTHING_SHIPPED = {"share": None, "shipped_lines": 0, "on_time": 0, "late": 0}


def by_the_rule(read: ReadModels, today: date) -> tuple[int, dict[str, Any]]:
    """promises_late and the accuracy counts worked out from every order's state (domain.order.promises)."""
    states, _ = read.list_orders(None, None, 1000, None)
    late = sum(len(order.promises_late(s, today)) for s in states)
    shipped = sum(s.lines_shipped for s in states)
    shipped_late = sum(s.lines_shipped_late for s in states)
    return late, {"shipped_lines": shipped, "late": shipped_late}


def test_late_promises_and_promise_accuracy_are_counted_from_the_orders_read_model(database_url: str) -> None:
    with service(database_url) as svc:
        clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
        svc.clock = clock
        seed_reference(svc, {"BOLT-10": "8.50", "NUT-4": "0.25"}, {"C1": "100000.00"})
        runner = make_runner(svc, promising=False)  # the test records promises itself
        read = svc.read
        receive(svc, "R-1", "W-A", NUT_4=10)
        place(svc, "SO-1", clock.now(), BOLT_10=3, NUT_4=2)  # line 1 backordered, line 2 allocated
        place(svc, "SO-2", clock.now(), BOLT_10=2)
        promise(svc, "SO-1", {"1": MAR_5})
        promise(svc, "SO-2", {"1": MAR_10})
        settle(runner)
        assert read.promises_late(clock.today()) == 0
        assert read.promise_accuracy() == NOTHING_SHIPPED

        clock.advance(days=6)  # 7 March: SO-1's promise of the 5th has passed, SO-2's of the 10th not yet
        settle(runner)
        assert read.promises_late(clock.today()) == 1
        receive(svc, "R-2", "W-A", BOLT_10=5)  # fills both in the receipt's own write: nothing waits
        settle(runner)
        assert read.promises_late(clock.today()) == 0

        ship(svc, "SH-1", "SO-1", clock.now(), BOLT_10=3, NUT_4=2)  # line 1 after its promise; line 2 never waited
        clock.advance(days=3)  # 10 March
        ship(svc, "SH-2", "SO-2", clock.now(), BOLT_10=2)  # on the promised day: on time
        place(svc, "SO-3", clock.now(), BOLT_10=4)  # waits, promised for the 8th: late today
        promise(svc, "SO-3", {"1": MAR_8})
        place(svc, "SO-4", clock.now(), BOLT_10=1)  # promised for the 9th, then cancelled: nothing waits
        promise(svc, "SO-4", {"1": MAR_9})
        cancel(svc, "SO-4")
        place(svc, "SO-5", clock.now(), BOLT_10=1)  # waits with no promise: cannot be late
        settle(runner)

        assert read.promises_late(clock.today()) == 1
        assert read.promises_late(MAR_8) == 0  # a promise for today is not late yet
        assert read.promises_late(MAR_9) == 1
        accuracy = read.promise_accuracy()
        assert accuracy == {"share": 2 / 3, "shipped_lines": 3, "on_time": 2, "late": 1}
        for today in (MAR_8, MAR_9, MAR_10):
            late, counts = by_the_rule(read, today)
            assert read.promises_late(today) == late
        assert {k: accuracy[k] for k in counts} == counts

        rebuild(read["orders"])  # the rebuilt tables answer the same
        assert read.promises_late(clock.today()) == 1
        assert read.promise_accuracy() == accuracy


def test_accuracy_counts_every_shipped_line_once_and_lines_never_backordered_as_on_time(database_url: str) -> None:
    with service(database_url) as svc:
        clock = FixedClock(datetime(2026, 3, 1, 9, tzinfo=UTC))
        svc.clock = clock
        seed_reference(svc, {"BOLT-10": "8.50", "NUT-4": "0.25"}, {"C1": "100000.00"})
        runner = make_runner(svc, promising=False)  # the test records promises itself
        receive(svc, "R-1", "W-A", BOLT_10=10, NUT_4=10)
        place(svc, "SO-1", clock.now(), BOLT_10=4, NUT_4=1)
        ship(svc, "SH-1", "SO-1", clock.now(), BOLT_10=2)
        clock.advance(days=30)
        ship(svc, "SH-2", "SO-1", clock.now(), BOLT_10=2, NUT_4=1)  # a line shipped twice is one line
        settle(runner)
        assert svc.read.promise_accuracy() == {"share": 1.0, "shipped_lines": 2, "on_time": 2, "late": 0}
        assert svc.read.promises_late(clock.today()) == 0
