"""The same interchange posted by several connections at once (a gateway retrying on a timeout), over real
HTTP on both stores: one set of orders, one 997 number, and every answer the same bytes."""

from __future__ import annotations

import httpx

from tests.api.edi_world import PARTNER, X12
from tests.api.test_concurrency import concurrently
from tests.api.test_edi import BAD, GOOD
from tests.conftest import Api, seed
from tests.http import receive
from tests.x12_build import interchange


def post(api: Api) -> httpx.Response:
    text = interchange([GOOD, BAD], icn="000000555")
    return api.client.post("/v1/edi/x12", content=text.encode(), headers=api.headers({"Content-Type": X12}))


def test_the_same_icn_at_once_is_placed_once_and_answered_alike(served: str) -> None:
    with httpx.Client(base_url=served, timeout=30) as client:
        api = Api(client)
        seed(api)
        receive(api, "R-1", "W-A", "BOLT-10", 100)
        assert api.put("/v1/trading-partners/ACME", PARTNER).status_code == 201
        answers = concurrently(served, [post] * 6)
        assert {r.status_code for r in answers} == {200}, [r.text for r in answers]
        assert len({r.content for r in answers}) == 1
        history = api.get("/v1/orders/ACME-PO-1/history").json()
        placed = [e for e in history["events"] if e["type"].endswith("OrderPlaced")]
        assert len(placed) == 1, history
        # the 997 took number 1 once: the next document is 2
        doc = api.get("/v1/orders/ACME-PO-1/edi/855")
        assert "*000000002*" in doc.text, doc.text
