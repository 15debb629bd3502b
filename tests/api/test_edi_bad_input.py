"""Bad EDI input over HTTP: every refusal a 4xx problem document (422 invalid_edi naming the segment and
its position for the envelope), nothing recorded, never a 5xx."""

from __future__ import annotations

import pytest

from tests.api.edi_world import PARTNER, post_x12, with_partner
from tests.api.test_edi import GOOD, service
from tests.conftest import Api
from tests.http import ok, problem
from tests.x12_build import interchange

TEXT = interchange([GOOD])  # ISA 1, GS 2, ST 3 .. SE 12, GE 13, IEA 14


@pytest.fixture
def edi(seeded: Api) -> Api:
    return with_partner(seeded)


BAD_ENVELOPES = [
    (TEXT[:80], "ISA", 1),  # a truncated ISA
    (TEXT.replace("SE*10*0001", "SE*11*0001"), "SE", 12),
    (TEXT.replace("GE*1*4001", "GE*2*4001"), "GE", 13),
    (TEXT.replace("IEA*1*000000101", "IEA*1*000000999"), "IEA", 14),
    (TEXT.replace("ACMEBUY        *ZZ", "STRANGER       *ZZ"), "ISA", 1),  # an unknown partner
    (TEXT.replace("GS*PO*ACMEBUY", "GS*PO*STRANGER"), "ISA", 1),  # ISA known, GS02 not: no such partner
    (TEXT.replace("O2CSELL        ", "SOMEONE        "), "ISA", 1),  # not addressed to us
    (TEXT.replace("GS*PO*", "GS*IN*"), "GS", 2),  # not purchase orders
    (TEXT.replace("Gate B", "Gate \u00df"), "N3", 7),  # non-ASCII
    ("", "ISA", 1),
]


def test_a_bad_envelope_is_422_invalid_edi_at_its_segment_and_records_nothing(edi: Api) -> None:
    svc = service(edi)
    head = svc.store.head()
    for text, segment, position in BAD_ENVELOPES:  # one app for all: each case is one request
        assert text != TEXT
        body = problem(post_x12(edi, text), 422, "invalid_edi")
        assert (body["segment"], body["position"]) == (segment, position), body
    assert svc.store.head() == head
    ok(post_x12(edi, TEXT), 200)  # and the interchange itself is fine


def test_sizes_and_media_types_are_refused_as_for_json(edi: Api) -> None:
    svc = service(edi)
    head = svc.store.head()
    problem(post_x12(edi, TEXT, content_type="application/json"), 415, "unsupported_media_type")
    problem(post_x12(edi, TEXT, content_type="text/plain"), 415, "unsupported_media_type")
    huge = TEXT + "X" * (5 * 1024 * 1024)
    problem(post_x12(edi, huge), 413, "payload_too_large")
    problem(post_x12(edi, b"\xff\xfe" + TEXT.encode()), 422, "invalid_edi")
    assert svc.store.head() == head


def test_a_partner_body_is_checked_like_any_reference_put(seeded: Api) -> None:
    api = seeded
    problem(api.put("/v1/trading-partners/P", {**PARTNER, "isa_qualifier": "Z"}), 422, "invalid_request")
    problem(api.put("/v1/trading-partners/P", {**PARTNER, "isa_id": "X" * 16}), 422, "invalid_request")
    problem(api.put("/v1/trading-partners/P", {**PARTNER, "gs_id": "A*B"}), 422, "invalid_request")
    problem(
        api.put("/v1/trading-partners/P", {k: v for k, v in PARTNER.items() if k != "our_gs_id"}),
        422,
        "invalid_request",
    )
    ok(api.put("/v1/trading-partners/P", PARTNER))
