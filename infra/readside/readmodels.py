"""Queries over the read models' active tables (never the event store)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from domain.values import format_timestamp
from infra.eventstore.store import EventStore
from infra.readside.atp_mirror import AtpMirror
from infra.readside.atp_rows import AtpMemory, AtpRows, rows_from_tables
from infra.readside.journal import JournalReads
from infra.readside.kpis import KpiReads
from infra.readside.projection import Projection
from infra.readside.promises import PromiseReads
from infra.readside.receivables import ReceivableReads
from infra.readside.rowio import rows
from infra.readside.tables import parked
from projections import ALL
from projections.atp import promise_view
from projections.invoices import decode_state as decode_invoice
from projections.orders import decode_state


class ReadModels(PromiseReads, JournalReads, ReceivableReads, KpiReads):  # promises, journal, receivables, kpis
    def __init__(self, engine: sa.Engine, store: EventStore) -> None:
        self.engine = engine
        self.store = store
        self.projections: dict[str, Projection] = {name: Projection(spec, engine, store) for name, spec in ALL.items()}
        self.running: set[str] = set()  # the projections this process runs (holds the lock of)
        self.atp_memory: AtpMemory | None = None
        self.atp_mirror: AtpMirror | None = None

    def __getitem__(self, name: str) -> Projection:
        return self.projections[name]

    @property
    def local(self) -> bool:
        """True when this process runs every read model itself: their positions are in memory."""
        return self.running >= set(self.projections)

    def follow(self, name: str, here: bool) -> None:
        """This process starts (`here`) or stops running the projection `name` (other names are
        ignored). Either way, what it remembered of the tables may be stale: another process wrote
        them meanwhile or will from now on. ATP is answered from memory only while it runs here."""
        projection = self.projections.get(name)
        if projection is None:
            return
        with projection.lock:  # not in the middle of a batch (its listeners are being told)
            projection.fed_here = here
            if not here:
                self.running.discard(name)
                if name == "atp":
                    self._drop_atp_memory()
            projection._position = None  # re-read the committed tracking position
            projection.cache = {}
            if here:
                if name == "atp":
                    self.keep_atp_in_memory()
                self.running.add(name)

    def positions_in_memory(self, names: tuple[str, ...]) -> bool:
        """Whether `position` answers for all of `names` without touching the database."""
        return all(
            self.projections[n].position_known() if n in self.running else n == "atp" and self._mirrored()
            for n in names
        )

    def position(self, name: str) -> int:
        """How far a read model has processed the log (ATP's mirror: how far what it answers has)."""
        projection = self.projections[name]
        if name in self.running:
            return projection.position()
        if name == "atp" and self._mirrored():
            assert self.atp_mirror is not None
            return self.atp_mirror.position
        projection.refresh()
        return projection.stored_position()

    def mirror_atp(self) -> AtpMirror:
        """Answer ATP from memory even while another process runs its projection (a web process
        beside `o2c worker`): a mirror that follows the log behind the tables, once its `run` runs
        (infra/readside/atp_mirror.py)."""
        if self.atp_mirror is None:
            self.atp_mirror = AtpMirror(self.projections["atp"], self.store, lambda: "atp" in self.running)
        return self.atp_mirror

    def _mirrored(self) -> bool:
        mirror = self.atp_mirror
        return mirror is not None and mirror.ready and "atp" not in self.running

    def lag(self) -> dict[str, int]:
        head = self.store.head()
        return {name: max(head - self.position(name), 0) for name in self.projections}

    # --- ATP ---------------------------------------------------------------------------------

    @property
    def atp_ready_in_memory(self) -> bool:
        """ATP can be answered from memory right now, without touching the database."""
        memory = self.atp_memory
        if memory is not None:
            return memory.generation == self.projections["atp"].generation
        return self._mirrored()

    def keep_atp_in_memory(self) -> None:
        self._drop_atp_memory()
        memory = AtpMemory(self.projections["atp"])
        memory.load()
        self.atp_memory = memory

    def _drop_atp_memory(self) -> None:
        memory, self.atp_memory = self.atp_memory, None
        if memory is not None:
            memory.projection.listeners.remove(memory.apply)

    def atp_rows(self, skus: list[str]) -> AtpRows:
        """The ATP rows of these SKUs, from memory when this process runs ATP, else from its tables."""
        memory = self.atp_memory
        if memory is not None:
            return memory.rows(skus)
        if self._mirrored():
            assert self.atp_mirror is not None
            return self.atp_mirror.rows(skus)
        p = self.projections["atp"]
        p.refresh()
        with self.engine.connect() as conn:
            return rows_from_tables(conn, p.tables, skus)

    def skus_on_hand(self, warehouse_id: str) -> list[str]:
        """The SKUs with stock on hand at a warehouse, from the ATP tables (a reconciliation's `complete`)."""
        p = self.projections["atp"]
        p.refresh()
        t = p.tables["positions"]
        query = sa.select(t.c.sku).where(t.c.warehouse_id == warehouse_id, t.c.on_hand > 0).order_by(t.c.sku)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def atp(self, skus: list[str], warehouse_id: str | None, today: date) -> dict[str, dict[str, Any] | None]:
        """ATP per SKU with its incoming supply (None for a SKU that is not in the catalog)."""
        found = self.atp_rows(skus)
        return {sku: found.view(sku, warehouse_id, today) for sku in skus}

    def promise(self, sku: str, qty: int, warehouse_id: str | None, today: date) -> dict[str, Any] | None:
        """When a new order for `qty` would be complete (GET /v1/atp/{sku}/promise); None: unknown SKU."""
        found = self.atp_rows([sku])
        if sku not in found.known:
            return None
        rows_of = found.of(sku)
        return promise_view(sku, qty, warehouse_id, rows_of.positions, rows_of.waiting, rows_of.incoming, today)

    def promised_lines(self, skus: list[str]) -> dict[str, dict[tuple[str, str], date | None]]:
        """The order lines of these SKUs that wait or hold a promise, with the promise they have now
        (one query for all of them)."""
        t = self._table("orders", "backordered_lines")
        with self.engine.connect() as conn:
            found = rows(conn, t, [t.c.sku.in_(skus)])
        out: dict[str, dict[tuple[str, str], date | None]] = {sku: {} for sku in skus}
        for r in found:
            on = date.fromisoformat(r["promised_date"]) if r["promised_date"] else None
            out[r["sku"]][(r["order_id"], r["line_id"])] = on
        return out

    def _table(self, projection: str, table: str) -> sa.Table:
        p = self.projections[projection]
        p.refresh()
        return p.tables[table]

    def _page(
        self,
        t: sa.Table,
        decode: Any,
        limit: int,
        after: int | None,
        customers: frozenset[str] | None = None,
        **filters: str | None,
    ) -> tuple[list[Any], int | None]:
        """A page of documents in placement order; the cursor is the last row's `seq`. `customers`
        (None: all) keeps the rows of those customers alone; an empty set keeps none."""
        where = [t.c[name] == value for name, value in filters.items() if value]
        if customers is not None:
            where.append(t.c.customer_id.in_(sorted(customers)) if customers else sa.false())
        if after is not None:
            where.append(t.c.seq > after)
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(t.c.seq, t.c.doc).where(*where).order_by(t.c.seq).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        return [decode(r.doc) for r in found], (found[-1].seq if more and found else None)

    # --- orders ------------------------------------------------------------------------------

    def list_orders(
        self,
        customers: frozenset[str] | None,
        status: str | None,
        limit: int,
        after: int | None,
        customer_po: str | None = None,
    ) -> tuple[list[Any], int | None]:
        """Orders of `customers` (None: of every customer)."""
        table = self._table("orders", "orders")
        return self._page(table, decode_state, limit, after, customers, status=status, customer_po=customer_po)

    def order_status_counts(self) -> dict[str, int]:
        t = self._table("orders", "orders")
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(t.c.status, sa.func.count()).group_by(t.c.status)).all()
        return {status: int(n) for status, n in found}

    # --- balances ----------------------------------------------------------------------------

    def balance(self, customer_id: str) -> dict[str, Any] | None:
        p = self.projections["balances"]
        p.refresh()
        t = p.tables["balances"]
        with self.engine.connect() as conn:
            found = rows(conn, t, [t.c.customer_id == customer_id])
        return found[0] if found else None

    # --- invoices ----------------------------------------------------------------------------

    def _invoices(self) -> sa.Table:
        return self._table("invoices", "invoices")

    def due_for_tax(self, now: datetime, limit: int) -> list[str]:
        t = self._invoices()
        query = (
            sa.select(t.c.invoice_id)
            .where(t.c.status == "awaiting_tax", sa.or_(t.c.next_attempt_at.is_(None), t.c.next_attempt_at <= now))
            .order_by(t.c.seq)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def list_invoices(
        self,
        order_id: str | None,
        customers: frozenset[str] | None,
        status: str | None,
        limit: int,
        after: int | None,
    ) -> tuple[list[Any], int | None]:
        """Invoices and credit notes of `customers` (None: of every customer)."""
        return self._page(self._invoices(), decode_invoice, limit, after, customers, order_id=order_id, status=status)

    def dead_letters(self) -> list[dict[str, Any]]:
        t = self._invoices()
        with self.engine.connect() as conn:
            found = rows(conn, t, [t.c.dead_letter.is_(True)], [t.c.parked_at, t.c.invoice_id])
        out = []
        for r in found:
            state = decode_invoice(r["doc"])
            out.append(
                {
                    "id": r["invoice_id"],
                    "kind": "tax",
                    "subject": f"invoice/{r['invoice_id']}",
                    "attempts": state.attempts,
                    "last_error": state.last_error,
                    "parked_at": _ts(r["parked_at"]) if r["parked_at"] else None,
                    "status": state.status,
                }
            )
        return out

    def invoice_counts(self) -> tuple[int, int]:
        """(invoices awaiting tax, dead letters)."""
        t = self._invoices()
        with self.engine.connect() as conn:
            awaiting = conn.execute(sa.select(sa.func.count()).where(t.c.status == "awaiting_tax")).scalar()
            dead = conn.execute(sa.select(sa.func.count()).where(t.c.dead_letter.is_(True))).scalar()
        return int(awaiting or 0), int(dead or 0)

    # --- signals -----------------------------------------------------------------------------

    def signals(self) -> dict[str, Any]:
        atp = self.projections["atp"]
        atp.refresh()
        t = atp.tables
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            oldest = sa.select(t["backorders"]).order_by(t["backorders"].c.accepted_at, t["backorders"].c.order_id)
            aged = [dict(r) for r in conn.execute(oldest.limit(100)).mappings()]
            over = rows(
                conn,
                t["positions"],
                [t["positions"].c.reserved > t["positions"].c.on_hand],
                [t["positions"].c.sku, t["positions"].c.warehouse_id],
            )
        parked_events = self.parked_counts()
        awaiting_tax, dead_letters = self.invoice_counts()
        return {
            "backorders_aged": [
                {
                    "sku": b["sku"],
                    "order_id": b["order_id"],
                    "line_id": b["line_id"],
                    "warehouse_id": b["warehouse_id"],
                    "qty": b["qty"],
                    "accepted_at": _ts(b["accepted_at"]),
                    "age_seconds": int((now - _utc(b["accepted_at"])).total_seconds()),
                }
                for b in aged
            ],
            "awaiting_tax": awaiting_tax,
            "dead_letters": dead_letters,
            "over_allocated": [
                {
                    "sku": o["sku"],
                    "warehouse_id": o["warehouse_id"],
                    "on_hand": o["on_hand"],
                    "reserved": o["reserved"],
                    "over_by": o["reserved"] - o["on_hand"],
                }
                for o in over
            ],
            "projection_lag": self.lag(),
            "parked_events": parked_events,
        }

    def parked_counts(self) -> dict[str, int]:
        """Parked events per follower, counted in SQL: every read model (its current generation) and
        every workflow that has parked any (workflows have one generation)."""
        counted = sa.select(parked.c.projection, parked.c.generation, sa.func.count()).group_by(
            parked.c.projection, parked.c.generation
        )
        with self.engine.connect() as conn:
            found = conn.execute(counted).all()
        out = dict.fromkeys(self.projections, 0)
        for name, generation, count in found:
            projection = self.projections.get(name)
            if projection is None:
                out[name] = out.get(name, 0) + int(count)
            elif generation == projection.generation:
                out[name] = int(count)
        return out

    def gauge_counts(self) -> dict[str, Any]:
        """Totals for the metrics gauges, counted in SQL (never the length of a limited list): open
        backorder lines, when the oldest was accepted (None: none open), over-allocated positions."""
        atp = self.projections["atp"]
        atp.refresh()
        waiting, positions = atp.tables["backorders"], atp.tables["positions"]
        lines = sa.select(sa.func.count(), sa.func.min(waiting.c.accepted_at)).select_from(waiting)
        over = sa.select(sa.func.count()).select_from(positions).where(positions.c.reserved > positions.c.on_hand)
        with self.engine.connect() as conn:
            count, oldest = conn.execute(lines).one()
            over_allocated = conn.execute(over).scalar()
        return {
            "backorder_lines": int(count or 0),
            "backorder_oldest_at": _utc(oldest) if oldest is not None else None,
            "over_allocated": int(over_allocated or 0),
        }


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _ts(value: datetime) -> str:
    return format_timestamp(_utc(value))
