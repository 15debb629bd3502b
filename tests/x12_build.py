"""Hand-made X12 interchanges for the tests: any separators, any layout after a terminator."""

from __future__ import annotations

from collections.abc import Sequence


def isa(
    sender: str = "ACMEBUY",
    receiver: str = "O2CSELL",
    icn: str = "000000101",
    element: str = "*",
    component: str = ">",
    isa11: str = "U",
    sender_qualifier: str = "ZZ",
    receiver_qualifier: str = "ZZ",
) -> list[str]:
    return [
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        sender_qualifier,
        sender.ljust(15),
        receiver_qualifier,
        receiver.ljust(15),
        "261201",
        "0930",
        isa11,
        "00401",
        icn,
        "0",
        "P",
        component,
    ]


def po850(
    control: str,
    po: str,
    lines: Sequence[Sequence[str]],
    requested: str | None = "20261215",
    ship_to: bool = True,
) -> list[list[str]]:
    """ST..SE of an 850: BEG, DTM*002, N1*ST loop, PO1 lines, CTT; SE01 counted."""
    body: list[list[str]] = [["BEG", "00", "SA", po, "", "20261201"]]
    if requested:
        body.append(["DTM", "002", requested])
    if ship_to:
        body += [
            ["N1", "ST", "ACME Dock 4", "UL", "4012345000009"],
            ["N3", "1 Harbour Road", "Gate B"],
            ["N4", "Oakland", "CA", "94607", "US"],
        ]
    body += [["PO1", *ln] for ln in lines]
    body.append(["CTT", str(len(lines))])
    return [["ST", "850", control], *body, ["SE", str(len(body) + 2), control]]


def interchange(
    sets: Sequence[Sequence[Sequence[str]]],
    *,
    icn: str = "000000101",
    gs_sender: str = "ACMEBUY",
    gs_receiver: str = "O2CSELL",
    group: str = "4001",
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    layout: str = "\n",
    sender: str = "ACMEBUY",
) -> str:
    segments: list[Sequence[str]] = [isa(sender=sender, icn=icn, element=element, component=component)]
    segments.append(["GS", "PO", gs_sender, gs_receiver, "20261201", "0930", group, "X", "004010"])
    for one in sets:
        segments += one
    segments.append(["GE", str(len(sets)), group])
    segments.append(["IEA", "1", icn])
    return "".join(element.join(s) + terminator + layout for s in segments)


def segments_of(text: str, terminator: str = "~") -> list[str]:
    return [s.strip("\r\n") for s in text.split(terminator) if s.strip("\r\n")]
