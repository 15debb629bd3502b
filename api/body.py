"""Strict request bodies: content type, size, JSON syntax (nesting depth, duplicate keys), then exact types."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.errors import ProblemError, validation_problem
from api.security import check_idempotency_key

T = TypeVar("T")
MAX_BODY = 1024 * 1024
MAX_DEPTH = 64  # API.md: JSON nested deeper than 64 levels is 400 invalid_json

# Pretty-printed with an indent of one space, a container at depth d opens on a line indented d - 1 spaces and
# its members sit at d spaces. So a container deeper than MAX_DEPTH exists exactly when a line indented
# MAX_DEPTH spaces opens one (`[`, `{`, or `"key": [` / `"key": {`), or a line is indented further.
_TOO_DEEP = re.compile(rb'\n {%d}(?: |[\[{]|"(?:[^"\\]|\\.)*": [\[{])' % MAX_DEPTH)
_INDENTED = b"\n" + b" " * MAX_DEPTH
_encode = msgspec.json.Encoder().encode


def _bad_json(reason: str) -> ProblemError:
    return ProblemError(400, "invalid_json", "Malformed JSON", f"The body is not valid JSON: {reason}")


def _too_deep(raw: bytes) -> bool:
    """Nesting depth of valid JSON, found by C-speed passes (pretty-printing, one regex) rather than a Python walk."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:  # not even that many brackets, in strings or not
        return False
    try:
        pretty = msgspec.json.format(raw, indent=1)
    except (msgspec.DecodeError, RecursionError):  # the decoder took it, so this does not happen; still no 5xx
        return True
    return _INDENTED in pretty and _TOO_DEEP.search(pretty) is not None  # the plain search first: far faster


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Duplicate(key)
            seen.add(key)
    return obj


def _duplicate_key(raw: bytes, data: Any) -> str | None:
    """A key that appears twice in one object of `raw` (whose decoding, last key wins, is `data`), else None.

    Fast path: outside strings, every `:` of JSON separates one member's key from its value, and a `:` inside a
    string decodes to itself unless it is written as the escape \\u003a. Re-encoded, `data` has one `:` per
    member it kept plus the ones in its strings. Without that escape, equal counts mean no member was lost;
    otherwise the stdlib parser, with a hook on every object, finds (and names) the duplicate.
    """
    colons = raw.count(b":")
    if colons == 0 or (b"\\u003" not in raw and colons == _encode(data).count(b":")):
        return None
    try:
        json.loads(raw, object_pairs_hook=_refuse_duplicates, parse_int=str, parse_float=str)
    except _Duplicate as dup:
        return dup.key
    except (ValueError, RecursionError):  # msgspec decoded it; the stdlib disagreeing is no duplicate
        return None
    return None


def decode(raw: bytes) -> Any:
    """Valid JSON, at most MAX_DEPTH deep, with no key twice in one object: else 400 invalid_json."""
    try:
        data = msgspec.json.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise _bad_json(str(exc)) from None
    except RecursionError:  # far deeper than MAX_DEPTH: the decoder ran out of stack
        raise _bad_json(f"nested deeper than {MAX_DEPTH} levels") from None
    if _too_deep(raw):
        raise _bad_json(f"nested deeper than {MAX_DEPTH} levels")
    key = _duplicate_key(raw, data)
    if key is not None:
        shown = key if len(key) <= 100 else key[:100] + "..."
        raise _bad_json(f"the key '{shown}' appears twice in one object (an ambiguous body is not guessed at)")
    return data


async def read_json(request: Request[Any, Any, Any], allow_empty: bool = False) -> tuple[Any, bytes]:
    if allow_empty and request.headers.get("content-length", "0") == "0" and "content-type" not in request.headers:
        return {}, b""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"Send the body as application/json (got {media or 'no content type'})",
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise ProblemError(413, "payload_too_large", "Request body too large", "The body must be at most 1 MiB")
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ProblemError(413, "payload_too_large", "Request body too large", "The body must be at most 1 MiB")
    return decode(raw), raw


def convert(data: Any, model: type[T]) -> T:
    try:
        return msgspec.convert(data, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise validation_problem(exc) from None


async def parse(request: Request[Any, Any, Any], model: type[T], allow_empty: bool = False) -> tuple[T, bytes]:
    """Decode the body into `model`; `allow_empty` accepts no body at all as `{}`. Every command comes through
    here before it runs, so the headers it stores (Idempotency-Key) are checked here too."""
    check_idempotency_key(request)
    data, raw = await read_json(request, allow_empty)
    return convert(data, model), raw
