"""Reading one X12 interchange: separators from the ISA header, then the envelopes, checked.

The ISA segment is fixed width (106 characters with its terminator): the element separator is its 4th
character, the component separator its 105th (ISA16) and the segment terminator the 106th. Nothing is
assumed beyond that: `|` and a newline terminator read as well as `*` and `~`. A CR or LF after a
terminator (segments one a line) is layout, not data. In an ISA whose ISA11 is a punctuation character
(versions 00402 and later) that character separates repeats of an element; in 004010 ISA11 is `U`.

Every refusal is an `X12Error` naming the segment id and its 1-based position among the interchange's
segments (ISA is 1), so the caller can answer which segment is wrong without recording anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ISA_LENGTH = 106
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)  # ISA01..ISA16
_LAYOUT = "\r\n"
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class X12Error(Exception):
    """The interchange cannot be read: `segment` (its id) at `position` (1-based) is wrong."""

    def __init__(self, segment: str, position: int, message: str) -> None:
        super().__init__(f"{segment} (segment {position}): {message}")
        self.segment = segment
        self.position = position
        self.message = message


@dataclass(frozen=True)
class Separators:
    element: str
    component: str
    segment: str
    repetition: str | None = None


@dataclass(frozen=True)
class Segment:
    """One segment: its id, its elements (index 1 is the first element, as X12 numbers them), its position."""

    id: str
    elements: tuple[str, ...]
    position: int

    def __getitem__(self, index: int) -> str:
        """Element `index` (1-based); "" when the segment stops before it."""
        return self.elements[index - 1] if 1 <= index <= len(self.elements) else ""

    def components(self, index: int, separators: Separators) -> tuple[str, ...]:
        return tuple(self[index].split(separators.component))

    def repeats(self, index: int, separators: Separators) -> tuple[str, ...]:
        """The repeats of element `index` (one unless the interchange has a repetition separator)."""
        value = self[index]
        return tuple(value.split(separators.repetition)) if separators.repetition else (value,)


@dataclass(frozen=True)
class TransactionSet:
    id: str  # ST01, e.g. 850
    control_number: str  # ST02
    segments: tuple[Segment, ...]  # between ST and SE, both excluded
    position: int  # ST's


@dataclass(frozen=True)
class Group:
    functional_id: str  # GS01
    sender: str  # GS02
    receiver: str  # GS03
    control_number: str  # GS06
    version: str  # GS08
    sets: tuple[TransactionSet, ...]
    position: int


@dataclass(frozen=True)
class Interchange:
    separators: Separators
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06, trimmed
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08, trimmed
    control_number: str  # ISA13
    groups: tuple[Group, ...]
    segments: int


def separators_of(text: str) -> Separators:
    if not text.startswith("ISA"):
        raise X12Error("ISA", 1, "an interchange starts with ISA")
    if len(text) < ISA_LENGTH:
        raise X12Error("ISA", 1, f"the ISA segment is {ISA_LENGTH} characters; the interchange has {len(text)}")
    element, component, segment = text[3], text[104], text[105]
    found = (element, component, segment)
    if len(set(found)) != 3 or any(c.isalnum() or c == " " for c in found):
        raise X12Error(
            "ISA", 1, "the element, component and segment separators must be 3 different punctuation characters"
        )
    repetition = text[82] if not text[82].isalnum() and text[82] not in found and text[82] != " " else None
    return Separators(element, component, segment, repetition)


def _isa(text: str, sep: Separators) -> Segment:
    parts = text[: ISA_LENGTH - 1].split(sep.element)
    if len(parts) != 17:
        raise X12Error("ISA", 1, f"ISA has 16 fixed-width elements; found {len(parts) - 1}")
    for i, (value, width) in enumerate(zip(parts[1:], _ISA_WIDTHS, strict=True), start=1):
        if len(value) != width:
            raise X12Error("ISA", 1, f"ISA{i:02d} must be {width} characters wide (got {len(value)})")
    if not parts[13].isdigit():
        raise X12Error("ISA", 1, "ISA13 (the interchange control number) must be 9 digits")
    return Segment("ISA", tuple(parts[1:]), 1)


def segments_of(text: str) -> tuple[Separators, list[Segment]]:
    """Every segment of the interchange, ISA first, with its position."""
    sep = separators_of(text)
    if not text[:ISA_LENGTH].isascii():
        raise X12Error("ISA", 1, "holds a character outside ASCII")
    found = [_isa(text, sep)]
    allowed = {sep.element, sep.component, sep.repetition}  # control characters may be separators, nothing else
    rest = text[ISA_LENGTH:].split(sep.segment)
    if rest and rest[-1].strip(_LAYOUT + " ") == "":
        rest.pop()  # after the last terminator: nothing, or layout
    for raw in rest:
        position = len(found) + 1
        body = raw.lstrip(_LAYOUT) if sep.segment not in _LAYOUT else raw.strip(_LAYOUT)
        parts = body.split(sep.element)
        seg_id = parts[0]
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise X12Error(seg_id[:3] or "?", position, "not a segment id (2-3 capital letters or digits)")
        if not body.isascii() or any(ord(c) < 32 and c not in allowed for c in body):
            raise X12Error(seg_id, position, "holds a character outside printable ASCII")
        found.append(Segment(seg_id, tuple(parts[1:]), position))
    return sep, found


def _expect(segments: list[Segment], i: int, seg_id: str, last: Segment) -> Segment:
    if i >= len(segments):
        raise X12Error(seg_id, last.position + 1, f"{seg_id} is missing: the interchange ends early")
    seg = segments[i]
    if seg.id != seg_id:
        raise X12Error(seg.id, seg.position, f"expected {seg_id}")
    return seg


def _count(seg: Segment, index: int, wanted: int, what: str) -> None:
    value = seg[index]
    if not value.isdigit() or int(value) != wanted:
        raise X12Error(seg.id, seg.position, f"{seg.id}{index:02d} is {value or 'empty'}; {what} is {wanted}")


def _same(seg: Segment, index: int, wanted: str, what: str) -> None:
    if seg[index] != wanted:
        raise X12Error(seg.id, seg.position, f"{seg.id}{index:02d} is {seg[index] or 'empty'}; {what} is {wanted}")


def _transaction_set(segments: list[Segment], i: int) -> tuple[TransactionSet, int]:
    st = segments[i]
    if not st[1] or not 4 <= len(st[2]) <= 9:
        raise X12Error("ST", st.position, "ST01 names the set and ST02 is its 4-9 character control number")
    j = i + 1
    while j < len(segments) and segments[j].id not in ("SE", "ST", "GE", "IEA"):
        j += 1
    se = _expect(segments, j, "SE", segments[j - 1])
    _count(se, 1, j - i + 1, "the number of segments from ST to SE")
    _same(se, 2, st[2], "ST02")
    return TransactionSet(st[1], st[2], tuple(segments[i + 1 : j]), st.position), j + 1


def _group(segments: list[Segment], i: int) -> tuple[Group, int]:
    gs = segments[i]
    if not gs[6].isdigit() or len(gs[6]) > 9:
        raise X12Error("GS", gs.position, "GS06 (the group control number) must be 1-9 digits")
    sets: list[TransactionSet] = []
    j = i + 1
    while j < len(segments) and segments[j].id == "ST":
        found, j = _transaction_set(segments, j)
        sets.append(found)
    ge = _expect(segments, j, "GE", segments[j - 1])
    _count(ge, 1, len(sets), "the number of transaction sets in the group")
    _same(ge, 2, gs[6], "GS06")
    return Group(gs[1], gs[2], gs[3], gs[6], gs[8], tuple(sets), gs.position), j + 1


def read_interchange(text: str) -> Interchange:
    """One interchange, its envelopes checked: ISA13/IEA02, GS06/GE02, ST02/SE02, SE01, GE01, IEA01."""
    sep, segments = segments_of(text)
    isa = segments[0]
    groups: list[Group] = []
    i = 1
    while i < len(segments) and segments[i].id == "GS":
        group, i = _group(segments, i)
        groups.append(group)
    if not groups:
        seg = segments[1] if len(segments) > 1 else None
        raise X12Error(seg.id if seg else "GS", seg.position if seg else 2, "expected GS: an interchange holds groups")
    iea = _expect(segments, i, "IEA", segments[i - 1])
    _count(iea, 1, len(groups), "the number of functional groups")
    _same(iea, 2, isa[13], "ISA13")
    if i + 1 < len(segments):
        extra = segments[i + 1]
        raise X12Error(extra.id, extra.position, "after IEA: one interchange per request")
    return Interchange(sep, isa[5], isa[6].rstrip(), isa[7], isa[8].rstrip(), isa[13], tuple(groups), len(segments))
