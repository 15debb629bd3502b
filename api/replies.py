"""A command's answer as text, recorded with the command (opaque to the ledger) and rendered the
same way the first time and on every repeat: `<status> <JSON body without position>`.

Records of the first format (an HTTP status and a body, before the ledger stopped knowing HTTP)
are read as this text by the codec's upcaster (infra/eventstore/codec.py), so their keys still replay.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

from api.errors import PROBLEM

_encoder = msgspec.json.Encoder()


def reply_text(status: int, body: msgspec.Struct | dict[str, Any]) -> str:
    """A resource (api/resources.py) or a problem's dict, as text."""
    return f"{status} {_encoder.encode(body).decode()}"


def status_of(reply: str) -> int:
    return int(reply.partition(" ")[0])


def code_of(reply: str) -> str:
    """The problem code of a recorded refusal (for metrics), else the status."""
    status, _, body = reply.partition(" ")
    if int(status) < 400:
        return status
    found = msgspec.json.decode(body)
    return str(found.get("code", status)) if isinstance(found, dict) else status


def render(reply: str, position: int) -> Response[bytes]:
    """The answer of a command, first time or replayed (the same bytes both times): a success gets
    the command's `position` last; a refusal kept under its Idempotency-Key is a problem document."""
    status_text, _, body = reply.partition(" ")
    status = int(status_text)
    if status >= 400:
        return Response(content=body.encode(), status_code=status, media_type=PROBLEM)
    content = body.encode()
    tail = b'"position":' + str(position).encode() + b"}"
    content = (content[:-1] + b"," + tail) if content != b"{}" else b"{" + tail
    return Response(content=content, status_code=status, media_type="application/json")
