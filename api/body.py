"""Strict request bodies: content type, size, JSON syntax (nesting depth, duplicate keys), then exact types.

A command handler names its body as `data: <Body Struct>` and Litestar reads it through `CommandRequest`,
the app's request class: `body()` checks what the headers say before the body is read (Idempotency-Key,
content type, size), `json()` decodes it strictly into the Struct the handler names. So the handler gets an
exact value, and every refusal is the problem document API.md names (docs/decisions/0015-typed-handlers.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import Headers
from litestar.handlers.base import BaseRouteHandler
from litestar.typing import FieldDefinition
from litestar.utils.predicates import is_class_and_subclass

from api.errors import ProblemError, validation_problem
from api.models import Body
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


def convert(data: Any, model: type[T]) -> T:
    try:
        return msgspec.convert(data, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise validation_problem(exc) from None


def body_field(handler: BaseRouteHandler) -> FieldDefinition | None:
    """The handler's `data` parameter when it takes a request body Struct (api/models.py), else None."""
    field = handler.parsed_fn_signature.parameters.get("data")
    return field if field is not None and is_class_and_subclass(field.annotation, Body) else None


@dataclass(frozen=True)
class TextForm:
    """A second media type a command takes beside JSON, named in its route's `opt` as `text_form`
    (the CSV form of a reconciliation). `parse` turns the raw body and the query parameters into the
    builtins of the handler's Struct (then converted as strictly as JSON is), refusing bad input with a
    problem; `query` names the query parameters that carry the rest of the request, documented in the
    OpenAPI document with `schema`, and refused beside a JSON body (they would be silently ignored)."""

    media_type: str
    parse: Callable[[bytes, Mapping[str, str]], Any]
    query: tuple[tuple[str, bool, dict[str, Any]], ...]  # name, required, JSON schema (with a description)
    schema: dict[str, Any]


def text_form(handler: BaseRouteHandler) -> TextForm | None:
    form = handler.opt.get("text_form")
    return form if isinstance(form, TextForm) else None


def body_limit(handler: BaseRouteHandler) -> int:
    """The route's body limit: the app's 1 MiB unless the route sets `request_max_body_size`."""
    return getattr(handler, "resolve_request_max_body_size", lambda: MAX_BODY)() or MAX_BODY


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):g} MiB"


def _too_large(limit: int = MAX_BODY) -> ProblemError:
    return ProblemError(413, "payload_too_large", "Request body too large", f"The body must be at most {_mib(limit)}")


def media_of(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _check_headers(headers: Headers, limit: int = MAX_BODY, form: TextForm | None = None) -> None:
    """Before reading: a JSON media type or the route's text form (else 415), and an announced length
    within the route's limit (else 413). A text form is UTF-8 (a charset parameter saying otherwise: 415)."""
    media = media_of(headers)
    if form is not None and media == form.media_type:
        charset = re.search(r";\s*charset\s*=\s*\"?([^\s;\"]+)", headers.get("content-type", ""), re.IGNORECASE)
        if charset and charset.group(1).lower() not in ("utf-8", "utf8", "us-ascii"):
            raise ProblemError(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                f"Send {form.media_type} as UTF-8 (got charset {charset.group(1)})",
            )
    elif not _is_json(media):
        also = f" or {form.media_type}" if form is not None else ""
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"Send the body as application/json{also} (got {media or 'no content type'})",
        )
    length = headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _too_large(limit)


EDI_X12 = "application/edi-x12"


async def read_edi(request: Request[Any, Any, Any]) -> bytes:
    """The raw body of an EDI route: Content-Type application/edi-x12 (else 415), at most 1 MiB (else 413,
    from the announced length before reading, or from what was read), and the Idempotency-Key checked."""
    check_idempotency_key(request)
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != EDI_X12:
        raise ProblemError(
            415,
            "unsupported_media_type",
            "Unsupported media type",
            f"Send the interchange as {EDI_X12} (got {media or 'no content type'})",
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise _too_large()
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise _too_large()
    return raw


class CommandRequest(Request[Any, Any, Any]):
    """The request class of the app. For a handler that takes a body Struct as `data`, Litestar's `data`
    comes from here: checked, read, decoded and converted strictly. Other routes read as Litestar does."""

    async def body(self) -> bytes:
        """The raw body of a command. Every command comes through here before it runs, so the headers it
        stores (Idempotency-Key) are checked here too. A handler whose `data` has a default (its Struct has
        no required field) takes no body at all (no content type, length 0) as that default: Litestar
        passes the default on when the body is empty."""
        field = body_field(self.route_handler)
        if field is None:
            return await super().body()
        check_idempotency_key(self)
        if field.has_default and self.headers.get("content-length", "0") == "0" and "content-type" not in self.headers:
            return b""
        limit, form = body_limit(self.route_handler), text_form(self.route_handler)
        _check_headers(self.headers, limit, form)
        raw = await super().body()
        if len(raw) > limit:
            raise _too_large(limit)
        if not raw:  # Litestar reads an empty body as "nothing sent"; for a JSON body it is malformed JSON
            if form is not None and media_of(self.headers) == form.media_type:
                form.parse(raw, self.query_params)  # says what an empty text body lacks
            decode(raw)
        return raw

    async def json(self) -> Any:
        """The body as the handler's Struct: valid JSON (decode), or the route's text form (parsed with
        the query parameters), then exactly its types (convert)."""
        field = body_field(self.route_handler)
        if field is None:
            return await super().json()
        raw = await self.body()
        form = text_form(self.route_handler)
        if form is not None:
            if media_of(self.headers) == form.media_type:
                return convert(form.parse(raw, self.query_params), field.annotation)
            given = [name for name, _, _ in form.query if name in self.query_params]
            if given:
                raise ProblemError(
                    422,
                    "invalid_request",
                    "The request is not valid",
                    f"The query parameters {', '.join(given)} belong to the {form.media_type} form; "
                    "a JSON body carries them itself",
                    errors=[{"field": name, "message": f"only with {form.media_type}"} for name in given],
                )
        return convert(decode(raw), field.annotation)
