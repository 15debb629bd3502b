"""What the EDI tests share: a partner for customer C1, posting an interchange, reading X12 answers."""

from __future__ import annotations

from typing import Any

import httpx

from infra.adapters.x12.reader import Interchange, Segment, read_interchange
from tests.conftest import Api
from tests.http import ok
from tests.x12_build import interchange, po850

PARTNER = {
    "customer_id": "C1",
    "isa_qualifier": "ZZ",
    "isa_id": "ACMEBUY",
    "gs_id": "ACMEBUY",
    "our_isa_qualifier": "ZZ",
    "our_isa_id": "O2CSELL",
    "our_gs_id": "O2CSELL",
}
X12 = "application/edi-x12"
# the schema fuzzing's walk (tests/api/test_fuzz.py): partner P-WALK of C-WALK sends PO-9 for 2 WALK-EDI
WALK_PARTNER = {
    "customer_id": "C-WALK",
    "isa_qualifier": "ZZ",
    "isa_id": "WALKBUY",
    "gs_id": "WALKBUY",
    "our_isa_qualifier": "ZZ",
    "our_isa_id": "O2CSELL",
    "our_gs_id": "O2CSELL",
}
WALK_850 = interchange(
    [po850("0001", "PO-9", [["1", "2", "EA", "", "", "VN", "WALK-EDI"]])], sender="WALKBUY", gs_sender="WALKBUY"
)


def with_partner(api: Api, partner_id: str = "ACME") -> Api:
    ok(api.put(f"/v1/trading-partners/{partner_id}", PARTNER))
    return api


def post_x12(api: Api, text: str | bytes, content_type: str = X12, **headers: str) -> httpx.Response:
    body = text.encode("latin-1") if isinstance(text, str) else text
    return api.client.post("/v1/edi/x12", content=body, headers=api.headers({"Content-Type": content_type, **headers}))


def x12_of(r: httpx.Response) -> Interchange:
    """An outbound document: 200, X12 text, read back by o2c's own reader."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == X12
    return read_interchange(r.text)


def elements(segments: tuple[Segment, ...], *ids: str) -> list[tuple[str, ...]]:
    """The segments with these ids, each as (id, element 1, element 2, ...)."""
    return [(s.id, *s.elements) for s in segments if not ids or s.id in ids]


def only_set(x: Interchange) -> Any:
    (group,) = x.groups
    (one,) = group.sets
    return group, one
