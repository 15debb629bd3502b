"""Strict request bodies: content type, size, JSON syntax, then exact types (no coercion)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request

from api.errors import ProblemError, validation_problem

T = TypeVar("T")
MAX_BODY = 1024 * 1024


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
    try:
        return msgspec.json.decode(raw), raw
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise ProblemError(400, "invalid_json", "Malformed JSON", f"The body is not valid JSON: {exc}") from None


def convert(data: Any, model: type[T]) -> T:
    try:
        return msgspec.convert(data, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise validation_problem(exc) from None


async def parse(request: Request[Any, Any, Any], model: type[T], allow_empty: bool = False) -> tuple[T, bytes]:
    """Decode the body into `model`; `allow_empty` accepts no body at all as `{}`."""
    data, raw = await read_json(request, allow_empty)
    return convert(data, model), raw
