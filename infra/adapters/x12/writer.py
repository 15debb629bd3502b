"""Writing X12: segments as tuples of elements, an envelope (ISA/GS ... GE/IEA) around transaction sets.

What o2c sends uses `*` between elements, `>` between components and `~` after each segment followed by a
newline (readable, and every reader treats layout after a terminator as nothing). An element holding a
separator would change the document's meaning, so those characters are replaced by a space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

ELEMENT, COMPONENT, TERMINATOR = "*", ">", "~"
_RESERVED = str.maketrans({ELEMENT: " ", COMPONENT: " ", TERMINATOR: " ", "\r": " ", "\n": " "})

Elements = Sequence[str]


@dataclass(frozen=True)
class Party:
    """One end of an interchange: its ISA qualifier and id, and its GS application code."""

    isa_qualifier: str
    isa_id: str
    gs_id: str


def clean(value: str) -> str:
    """A value as an element: no separators, printable ASCII only (anything else becomes `?`)."""
    text = value.translate(_RESERVED)
    return "".join(c if " " <= c <= "~" else "?" for c in text)


def segment(seg_id: str, *elements: str) -> tuple[str, ...]:
    """A segment, trailing empty elements dropped (X12 omits them)."""
    values = [clean(e) for e in elements]
    while values and values[-1] == "":
        values.pop()
    return (seg_id, *values)


def render(segments: Sequence[Elements]) -> str:
    return "".join(ELEMENT.join(s) + TERMINATOR + "\n" for s in segments)


def cents(amount: Decimal) -> str:
    """An amount as X12 N2 (implied two decimals): 12.34 -> 1234."""
    return str(int((amount * 100).to_integral_value()))


def decimal_text(amount: Decimal) -> str:
    """An amount as X12 R (explicit decimal point): 12.50 -> 12.5, 3.00 -> 3."""
    text = format(amount.normalize(), "f")
    return text


def ccyymmdd(at: datetime) -> str:
    return at.strftime("%Y%m%d")


def transaction_set(set_id: str, control: int, body: Sequence[Elements]) -> list[Elements]:
    """ST ... SE around `body`; SE01 counts ST and SE too."""
    number = f"{control:04d}"
    return [("ST", set_id, number), *body, ("SE", str(len(body) + 2), number)]


def interchange(
    sender: Party,
    receiver: Party,
    functional_id: str,
    control: int,
    at: datetime,
    sets: Sequence[Sequence[Elements]],
) -> str:
    """ISA/GS ... GE/IEA around `sets`, every control number `control` (ISA13 9 digits, GS06 and ST02)."""
    isa = (
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender.isa_qualifier.ljust(2)[:2],
        clean(sender.isa_id).ljust(15)[:15],
        receiver.isa_qualifier.ljust(2)[:2],
        clean(receiver.isa_id).ljust(15)[:15],
        at.strftime("%y%m%d"),
        at.strftime("%H%M"),
        "U",
        "00401",
        f"{control:09d}",
        "0",
        "P",
        COMPONENT,
    )
    gs = segment(
        "GS",
        functional_id,
        sender.gs_id,
        receiver.gs_id,
        ccyymmdd(at),
        at.strftime("%H%M"),
        str(control),
        "X",
        "004010",
    )
    body: list[Elements] = [isa, gs]
    for one in sets:
        body.extend(one)
    body.append(("GE", str(len(sets)), str(control)))
    body.append(("IEA", "1", f"{control:09d}"))
    return render(body)
