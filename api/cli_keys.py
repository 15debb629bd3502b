"""`o2c keys create|list|rotate|revoke`: the key API of the server, from its terminal (api/keys.py KeyAdmin)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from api.cli_setup import _settings_or_exit


def _key_options(args: argparse.Namespace, now: Any) -> tuple[frozenset[str], frozenset[str] | None, Any]:
    """Scopes, customers and expiry as given on the command line; ValueError says what is wrong."""
    from api.errors import ProblemError
    from api.fulfilment import RFC3339, parse_rfc3339
    from domain.values import is_valid_id
    from infra.adapters.keys import parse_scopes

    scopes = parse_scopes(args.scopes)
    customers = None
    if args.customers is not None:
        customers = frozenset(c.strip() for c in args.customers.split(",") if c.strip())
        bad = sorted(c for c in customers if not is_valid_id(c))
        if not customers or bad:
            raise ValueError(f"--customers takes comma-separated customer ids (bad: {', '.join(bad) or 'none given'})")
    expires_at = None
    if args.expires_at is not None:
        try:
            expires_at = parse_rfc3339(args.expires_at, "--expires-at") if RFC3339.match(args.expires_at) else None
        except ProblemError:
            expires_at = None
        if expires_at is None:
            raise ValueError("--expires-at takes an RFC 3339 date-time with offset, such as 2027-01-31T00:00:00Z")
        if expires_at <= now:
            raise ValueError("--expires-at must be in the future")
    return scopes, customers, expires_at


def cmd_keys(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from api.keys import KeyAdmin
    from domain.errors import DomainError
    from infra.ledger.unitofwork import Context
    from infra.service import Service

    if args.action == "create":  # the options first: a bad one touches no database
        try:
            scopes, customers, expires_at = _key_options(args, datetime.now(UTC))
        except ValueError as exc:
            print(f"o2c keys: {exc}", file=sys.stderr)
            return 2
    if args.action == "rotate" and not 0 <= args.grace_seconds <= 365 * 86400:
        print("o2c keys: --grace-seconds takes 0 to 31536000", file=sys.stderr)
        return 2
    svc = Service.start(_settings_or_exit())
    admin = KeyAdmin(svc)
    ctx = Context("cli", f"cli-{int(time.time() * 1000)}", "cli:o2c-keys")
    try:
        if args.action == "create":
            try:
                key, _ = admin.create(ctx, args.name, scopes, customers, expires_at)
            except (ValueError, DomainError) as exc:
                print(f"o2c keys: {exc}", file=sys.stderr)
                return 2
            only = f" for customers {','.join(sorted(customers))}" if customers is not None else ""
            until = f", expiring {args.expires_at}" if expires_at is not None else ""
            print(
                f"created key '{args.name}' with scopes {','.join(sorted(scopes))}{only}{until}; it is shown only once:"
            )
            print(key)
        elif args.action == "rotate":
            try:
                key, _, until = admin.rotate(ctx, args.name, args.grace_seconds)
            except DomainError as exc:
                print(f"o2c keys: {exc}", file=sys.stderr)
                return 1
            print(f"rotated key '{args.name}'; the old key works until {until.isoformat()}; the new one is shown once:")
            print(key)
        elif args.action == "revoke":
            if not any(v.name == args.name and v.status != "revoked" for v in admin.view(args.name)):
                print(f"o2c keys: no active key named {args.name!r}", file=sys.stderr)
                return 1
            admin.revoke(ctx, args.name)
            print(f"revoked key '{args.name}'")
        else:
            for v in admin.view():
                customers_text = ",".join(v.customers) if v.customers is not None else "*"
                print(
                    f"{v.name}\t{','.join(v.scopes)}\tcustomers {customers_text}\t{v.status}"
                    f"\tcreated {v.created_at}\texpires {v.expires_at or 'never'}"
                )
    finally:
        svc.close()
    return 0
