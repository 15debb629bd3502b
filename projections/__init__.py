"""Read models: pure evolve functions over rows; infra/readside/ stores them in SQL tables."""

from projections.atp import ATP
from projections.balances import BALANCES
from projections.base import ProjectionSpec
from projections.invoices import INVOICES
from projections.journal import JOURNAL
from projections.kpis import KPIS
from projections.orders import ORDERS
from projections.receivables import RECEIVABLES

ALL: dict[str, ProjectionSpec] = {p.name: p for p in (ATP, ORDERS, BALANCES, INVOICES, JOURNAL, RECEIVABLES, KPIS)}
