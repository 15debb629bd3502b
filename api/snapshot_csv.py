"""The CSV form of a reconciliation (`Content-Type: text/csv`, README "Verification and stock
reconciliation"): what WMS and 3PL exports are. The body is a header `sku,qty` and one line per SKU;
`reconciliation_id`, `warehouse_id`, `complete` and `apply` come as query parameters. It is parsed
into the builtins of the same `ReconciliationRequest` the JSON form decodes to, so both forms get the
same answers and the same idempotency; every refusal names the file's line (the header is line 1)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from typing import Any

from api.body import TextForm
from api.errors import ProblemError
from api.models import MAX_SNAPSHOT_LINES
from domain.values import ID_PATTERN, MAX_QTY

MEDIA = "text/csv"
HEADER = ["sku", "qty"]
SHOWN = 20  # errors listed in one problem; the detail says how many there were
_ID = re.compile(ID_PATTERN)
_DIGITS = re.compile(r"[0-9]+")
_BOOLS = {"true": True, "false": False}
_ONLY = "Only with a text/csv body (refused beside a JSON body, which carries it itself)"
QUERY: tuple[tuple[str, bool, dict[str, Any]], ...] = (
    ("reconciliation_id", True, {"type": "string", "pattern": ID_PATTERN, "description": _ONLY}),
    ("warehouse_id", True, {"type": "string", "pattern": ID_PATTERN, "description": _ONLY}),
    ("complete", False, {"type": "boolean", "default": False, "description": _ONLY}),
    ("apply", False, {"type": "boolean", "default": False, "description": _ONLY}),
)
SCHEMA: dict[str, Any] = {
    "type": "string",
    "description": "A header `sku,qty`, then one line per SKU (RFC 4180 quoting, UTF-8); "
    "reconciliation_id, warehouse_id, complete and apply as query parameters",
    "example": "sku,qty\nBOLT-10,120\nNUT-4,0\n",
}


def _invalid(errors: list[dict[str, str]], total: int | None = None) -> ProblemError:
    total = len(errors) if total is None else total
    first = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
    more = f" (and {total - 3} more)" if total > 3 else ""
    return ProblemError(
        422, "invalid_request", "The request is not valid", f"{first}{more}", errors=errors[:SHOWN], error_count=total
    )


def too_many_lines() -> ProblemError:
    """Past the line limit (either form): 413, like a body past the byte limit."""
    return ProblemError(
        413, "payload_too_large", "Request body too large", f"A snapshot holds at most {MAX_SNAPSHOT_LINES:,} lines"
    )


def _query(params: Mapping[str, str]) -> dict[str, Any]:
    """The fields of the request the query carries: exactly the four names, each well formed."""
    known = {name for name, _, _ in QUERY}
    errors = [{"field": k, "message": "unknown query parameter"} for k in sorted(params) if k not in known]
    fields: dict[str, Any] = {}
    for name, required, schema in QUERY:
        value = params.get(name)
        if value is None:
            if required:
                errors.append({"field": name, "message": "required query parameter (text/csv form)"})
        elif schema["type"] == "boolean":
            if value not in _BOOLS:
                errors.append({"field": name, "message": f"must be true or false, not '{value[:40]}'"})
            else:
                fields[name] = _BOOLS[value]
        elif not _ID.fullmatch(value):
            errors.append({"field": name, "message": "must be 1-64 characters of A-Z a-z 0-9 . _ : -"})
        else:
            fields[name] = value
    if errors:
        raise _invalid(errors)
    return fields


def _line(row: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """One line as {sku, qty}, or what is wrong with it."""
    if len(row) != 2:
        return None, f"expected 2 fields (sku,qty), got {len(row)}"
    sku, qty = row
    if not sku:
        return None, "the SKU is empty"
    if not _ID.fullmatch(sku):
        shown = sku if len(sku) <= 64 else sku[:64] + "..."
        return None, f"SKU '{shown}' is not 1-64 characters of A-Z a-z 0-9 . _ : -"
    if not _DIGITS.fullmatch(qty):
        shown = qty if len(qty) <= 40 else qty[:40] + "..."
        why = "is negative" if qty.startswith("-") and _DIGITS.fullmatch(qty[1:]) else "is not a whole number"
        return None, f"qty '{shown}' {why} (a count of 0 or more)"
    n = int(qty)
    if n > MAX_QTY:
        return None, f"qty {qty} is over {MAX_QTY:,}"
    return {"sku": sku, "qty": n}, None


def parse(raw: bytes, params: Mapping[str, str]) -> dict[str, Any]:
    """The body and query of the CSV form as the builtins of a ReconciliationRequest; blank lines are
    skipped, a UTF-8 byte order mark is allowed. Too many lines: 413 (nothing past the limit is read)."""
    fields = _query(params)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _invalid([{"field": "body", "message": f"not UTF-8 (byte {exc.start})"}]) from None
    if "\x00" in text:
        raise _invalid([{"field": "body", "message": "holds a NUL character"}])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    total = count = 0
    try:
        header = next(reader, None)
        if header is None:
            raise _invalid([{"field": "line 1", "message": "the body is empty: the header sku,qty is missing"}])
        if header != HEADER:
            got = ",".join(header)[:80]
            raise _invalid([{"field": "line 1", "message": f"the header must be sku,qty (got '{got}')"}])
        for row in reader:
            if not row:
                continue
            number = reader.line_num
            count += 1
            if count > MAX_SNAPSHOT_LINES:
                raise too_many_lines()
            found, wrong = _line(row)
            if found is not None and found["sku"] in seen:
                found, wrong = None, f"SKU {found['sku']} appears again (first on line {seen[found['sku']]})"
            if wrong is not None:
                total += 1
                if len(errors) < SHOWN:
                    errors.append({"field": f"line {number}", "message": wrong})
                continue
            assert found is not None
            seen[found["sku"]] = number
            lines.append(found)
    except csv.Error as exc:
        total += 1
        errors.append({"field": f"line {reader.line_num}", "message": f"not valid CSV: {exc}"})
    if errors:
        raise _invalid(errors, total)
    return {**fields, "lines": lines}


def line_numbers(raw: bytes) -> dict[str, int]:
    """Each SKU's line in a CSV body that `parse` took (to name the line of an unknown SKU)."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
    next(reader, None)
    return {row[0]: reader.line_num for row in reader if row}


FORM = TextForm(MEDIA, parse, QUERY, SCHEMA)
