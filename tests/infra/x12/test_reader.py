"""The X12 reader: separators from the ISA, layout after terminators, repetition, and every envelope check
naming its segment and position."""

from __future__ import annotations

import pytest

from infra.adapters.x12.reader import X12Error, read_interchange
from tests.x12_build import interchange, isa, po850

LINES = [["1", "10", "EA", "8.50", "", "VN", "BOLT-10"]]


def two_sets(**kw: str) -> str:
    return interchange([po850("0001", "PO-1", LINES), po850("0002", "PO-2", LINES)], **kw)


def refused(text: str) -> X12Error:
    with pytest.raises(X12Error) as caught:
        read_interchange(text)
    return caught.value


def test_a_two_set_interchange_reads_with_its_envelopes() -> None:
    x = read_interchange(two_sets())
    assert (x.sender_qualifier, x.sender_id, x.receiver_id, x.control_number) == (
        "ZZ",
        "ACMEBUY",
        "O2CSELL",
        "000000101",
    )
    (group,) = x.groups
    assert (group.functional_id, group.sender, group.receiver, group.control_number) == (
        "PO",
        "ACMEBUY",
        "O2CSELL",
        "4001",
    )
    assert [(s.id, s.control_number, s.position) for s in group.sets] == [("850", "0001", 3), ("850", "0002", 12)]
    first = group.sets[0].segments
    assert [s.id for s in first] == ["BEG", "DTM", "N1", "N3", "N4", "PO1", "CTT"]
    assert first[5][2] == "10" and first[5][7] == "BOLT-10" and first[5][20] == ""
    assert x.segments == 22


@pytest.mark.parametrize(
    ("element", "component", "terminator", "layout"),
    [("|", "^", "\n", ""), ("*", ":", "~", "\r\n"), ("^", "\\", "'", ""), ("\x1d", "\x1f", "\x1c", "")],
)
def test_separators_come_from_the_isa_not_assumed(element: str, component: str, terminator: str, layout: str) -> None:
    text = two_sets(element=element, component=component, terminator=terminator, layout=layout)
    x = read_interchange(text)
    assert (x.separators.element, x.separators.component, x.separators.segment) == (element, component, terminator)
    assert [s.control_number for s in x.groups[0].sets] == ["0001", "0002"]
    assert x.groups[0].sets[1].segments[0][3] == "PO-2"


def test_a_repetition_separator_in_isa11_splits_repeats() -> None:
    x = read_interchange(two_sets().replace(isa()[11] + "*00401", "^*00401", 1))
    assert x.separators.repetition == "^"
    seg = x.groups[0].sets[0].segments[0]
    assert seg.repeats(3, x.separators) == ("PO-1",)
    x2 = read_interchange(two_sets().replace("PO-1", "PO-1^PO-1B").replace("U*00401", "^*00401", 1))
    assert x2.groups[0].sets[0].segments[0].repeats(3, x2.separators) == ("PO-1", "PO-1B")
    assert read_interchange(two_sets()).separators.repetition is None  # 004010: ISA11 is U


def test_components_split_on_isa16() -> None:
    x = read_interchange(two_sets().replace("*EA*", "*EA>X*", 1))
    assert x.groups[0].sets[0].segments[5].components(3, x.separators) == ("EA", "X")


def corrupt(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("change", "segment", "position"),
    [
        (lambda t: t[:60], "ISA", 1),  # truncated ISA
        (lambda t: "GS" + t[2:], "ISA", 1),
        (lambda t: corrupt(t, "ACMEBUY        ", "ACMEBUY       "), "ISA", 1),  # ISA06 not 15 wide
        (lambda t: corrupt(t, "000000101*0*P", "00000010X*0*P"), "ISA", 1),
        (lambda t: corrupt(t, "SE*9*0001", "SE*10*0001"), "SE", 11),  # segment count
        (lambda t: corrupt(t, "SE*9*0002", "SE*9*0009"), "SE", 20),  # ST02/SE02
        (lambda t: corrupt(t, "GE*2*4001", "GE*3*4001"), "GE", 21),  # set count
        (lambda t: corrupt(t, "GE*2*4001", "GE*2*4002"), "GE", 21),  # GS06/GE02
        (lambda t: corrupt(t, "IEA*1*000000101", "IEA*2*000000101"), "IEA", 22),  # group count
        (lambda t: corrupt(t, "IEA*1*000000101", "IEA*1*000000102"), "IEA", 22),  # ISA13/IEA02
        (lambda t: t[: t.index("IEA")], "IEA", 22),  # no trailer
        (lambda t: t[: t.index("GE*")], "GE", 21),  # no group trailer
        (lambda t: corrupt(t, "SE*9*0002~\n", ""), "GE", 20),  # a set without SE
        (lambda t: t + "ISA*junk~", "ISA", 23),  # a second interchange
        (lambda t: corrupt(t, "N3*1 Harbour", "N3*1 Harbour\u00e9"), "N3", 7),  # non-ASCII
        (lambda t: corrupt(t, "DTM*002", "dtm*002"), "dtm", 5),
    ],
)
def test_each_envelope_error_names_its_segment_and_position(change, segment: str, position: int) -> None:  # type: ignore[no-untyped-def]
    err = refused(change(two_sets()))
    assert (err.segment, err.position) == (segment, position), err


def test_separators_must_differ_and_be_punctuation() -> None:
    assert refused(two_sets(element="*", component="*")).segment == "ISA"
    assert refused(two_sets(terminator="A")).position == 1
