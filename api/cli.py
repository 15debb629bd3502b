"""The `o2c` command: serve, worker, relay, keys, demo, history, rebuild, dunning, verify."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from api.cli_keys import cmd_keys
from api.cli_setup import _settings_or_exit
from infra.adapters import heap, logs
from infra.settings import ConfigError

log = logs.get_logger("o2c.cli")


class _Wake:
    """Sets the service's `stopping` event when the server is told to stop, so long-polls answer now."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self) -> None:
        svc = getattr(self.app.state, "service", None)
        if svc is not None:
            svc.stopping.set()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = _settings_or_exit()
    level = args.log_level or settings.log_level
    app = create_app(settings, workers=not args.no_workers)
    logs.configure(settings.log_format, level)  # again: building the Litestar app installed its own logging
    if args.demo:
        from api.demo import load_demo
        from infra.service import Service

        svc = Service.start(settings)
        try:
            log.info("demo data loaded", **load_demo(svc))
        finally:
            svc.close()
    wake = _Wake(app)
    app.on_startup.append(_settle)  # after the lifespan has started the service and its workers

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            wake()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=level,
        log_config=None,  # uvicorn's loggers go through infra.adapters.logs
        access_log=False,  # the edge layer (api/edge.py) writes the access line, with actor and position
        timeout_graceful_shutdown=10,
    )
    server = Server(config)
    # Once it has shut down, uvicorn raises the signal it stopped for again under the handler that was
    # there before it started. SIGTERM and Ctrl-C are normal stops here (exit 0), so that handler ignores them.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server.run()
    return 0 if server.started else 3


def _settle() -> None:
    """What start-up built stays out of every later collection (infra/adapters/heap.py)."""
    log.info("heap settled after start-up", frozen_objects=heap.settle())


def cmd_worker(args: argparse.Namespace) -> int:
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    svc.start_workers()
    _settle()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info("worker following the event log", position=svc.store.head())
    stop.wait()
    log.info("worker stopping at the next event boundary")
    svc.close()
    log.info("worker stopped")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo import load_demo
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    try:
        summary = load_demo(svc)
    finally:
        svc.close()
    print(json.dumps(summary, indent=2))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from api.queries import history
    from infra.ledger.kinds import ORDER
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    try:
        events = history(svc.store, ORDER, args.order_id).events
    finally:
        svc.close()
    if not events:
        print(f"o2c history: order {args.order_id} not found", file=sys.stderr)
        return 1
    for e in events:
        print(f"v{e.version:<3} #{e.position:<8} {e.recorded_at}  {e.type:<24} by {e.actor}  {json.dumps(e.data)}")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from infra.readside.rebuild import rebuild_together
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    names = list(svc.read.projections) if args.all else [args.name]
    unknown = [n for n in names if n not in svc.read.projections]
    if not names or unknown:
        print(f"o2c rebuild: name a read model ({', '.join(svc.read.projections)}) or --all", file=sys.stderr)
        svc.close()
        return 2
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed:>10,.0f}/{task.total:,.0f} events"),
        TextColumn("{task.fields[rate]:>9,.0f} events/s"),
        TimeRemainingColumn(),
    )
    try:
        with Progress(*columns) as progress:  # one pass over the log feeds every named read model
            task = progress.add_task(",".join(names), total=max(svc.store.head(), 1), rate=0.0)
            started = time.perf_counter()

            def report(position: int, head: int) -> None:
                rate = position / max(time.perf_counter() - started, 1e-6)
                progress.update(task, completed=position, total=head, rate=rate)

            results = rebuild_together([svc.read[name] for name in names], progress=report)
            position = max(r["position"] for r in results.values())
            progress.update(task, completed=position, total=max(position, 1))
    finally:
        svc.close()
    return 0


def cmd_dunning(args: argparse.Namespace) -> int:
    """`o2c dunning run [--as-of DATE]` (for cron): the same decision as POST /v1/admin/dunning/run."""
    from infra import commands
    from infra.ledger.unitofwork import Context
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    try:
        as_of = args.as_of or svc.clock.today()
        candidates = svc.read.dunning_candidates()
        cmd = commands.RunDunning(as_of, tuple(candidates), svc.settings.dunning_days)
        ctx = Context(actor="cli:dunning", correlation_id=f"dunning-{as_of.isoformat()}", causation_id="cli")
        notices = svc.app.execute(ctx, cmd).result or []
    finally:
        svc.close()
    for n in notices:
        print(f"{n.customer_id}: level {n.level}, {len(n.invoices)} invoice(s), {n.total_overdue} overdue")
    print(f"o2c dunning: {len(notices)} notice(s) as of {as_of.isoformat()}")
    return 0


def _as_of(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of must be a date YYYY-MM-DD, got {text!r}") from None


def cmd_verify(args: argparse.Namespace) -> int:
    """Rebuild every read model in scratch tables and compare it with the live one (decision 0024);
    exit 1 when any row differs. On PostgreSQL, when one worker process holds the lock of every read
    model, that worker runs it (a pending verification, as `POST /v1/admin/verify` records) and this
    command shows its progress; otherwise it runs here."""
    from rich.progress import BarColumn, Progress, TextColumn

    from infra.readside.verify import ModelReport, verify
    from infra.service import Service

    svc = Service.start(_settings_or_exit())
    try:
        columns = (TextColumn("verify"), BarColumn(), TextColumn("{task.completed:>10,.0f}/{task.total:,.0f} events"))
        with Progress(*columns) as progress:
            task = progress.add_task("verify", total=max(svc.store.head(), 1))

            def report(position: int, target: int) -> None:
                progress.update(task, completed=position, total=max(target, 1))

            projections = list(svc.read.projections.values())
            remote = _verify_in_feeding_worker(svc, report)
            if remote is not None:
                position = remote["position"] or 0
                reports = {
                    name: ModelReport(r["position"], r["rows"], r["mismatches"], r["examples"])
                    for name, r in remote["read_models"].items()
                }
            else:
                position, reports = verify(projections, svc.store, progress=report)
    finally:
        svc.close()
    if remote is not None and remote.get("error"):
        print(f"o2c verify: the verification failed in {remote['runs_in']}: {remote['error']}", file=sys.stderr)
        return 2
    where = f" (run by the worker {remote['runs_in']})" if remote is not None else ""
    print(f"o2c verify: read models compared with a rebuild at position {position}{where}")
    for name, found in reports.items():
        print(f"  {name:<10} {found.rows:>9,} rows  {found.mismatches:>6,} mismatches")
        for example in found.examples[: args.examples]:
            print(f"    {json.dumps(example, sort_keys=True)}")
    drifted = [name for name, found in reports.items() if found.mismatches]
    if drifted:
        print(f"o2c verify: mismatches in {', '.join(drifted)}", file=sys.stderr)
        return 1
    return 0


def _verify_in_feeding_worker(svc: Any, progress: Callable[[int, int], None]) -> dict[str, Any] | None:
    """On PostgreSQL with one process holding every read model's lock: have it run a verification and
    follow its row to the end (None when there is no such process, or it did not claim it in time)."""
    from infra.readside.verifications import GRACE, Verifications
    from infra.workers.leader import lock_holders

    if not svc.settings.is_postgres:
        return None  # SQLite: a running server and this command cannot tell each other apart; run here
    with svc.engine.connect() as conn:
        holders = lock_holders(conn, list(svc.read.projections))
    if set(holders) != set(svc.read.projections) or len(set(holders.values())) != 1:
        return None
    found = Verifications(svc.engine)
    verification_id = found.open()
    deadline = time.monotonic() + GRACE
    while True:
        row = found.get(verification_id)
        if row is None:
            return None
        if row["status"] == "done":
            return row
        if row["progress"]:
            progress(*row["progress"])
        if row["runs_in"] is None and time.monotonic() > deadline and found.claim(verification_id, "o2c verify"):
            found.run(verification_id, list(svc.read.projections.values()), svc.store, "o2c verify", progress)
            return found.get(verification_id)
        time.sleep(0.2)


def _stream_name(text: str) -> str:
    if not text or not all(c.isalnum() or c in "-_" for c in text):
        raise argparse.ArgumentTypeError("a stream name is letters, digits, '-' and '_'")
    return text


def _subject_prefix(text: str) -> str:
    tokens = text.split(".")
    if not all(t and all(c.isalnum() or c in "-_" for c in t) for t in tokens):
        raise argparse.ArgumentTypeError("a subject prefix is dot-separated tokens of letters, digits, '-' and '_'")
    return text


def cmd_relay(args: argparse.Namespace) -> int:
    import logging

    from infra.settings import check_nats_url
    from infra.workers.relay import RelayConfig, run_relay

    settings = _settings_or_exit()
    try:
        url = check_nats_url(args.nats, source="--nats") if args.nats else settings.nats_url
    except ConfigError as exc:
        print(f"o2c relay: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=sys.stderr)
    config = RelayConfig(nats_url=url, stream=args.stream, subject_prefix=args.subject_prefix)
    print(f"o2c relay: publishing the event feed to {url}, stream {args.stream} (Ctrl-C to stop)", file=sys.stderr)
    return run_relay(settings, config)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="o2c", description="Event-sourced order-to-cash ledger")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP API (and, unless --no-workers, projections and workflows)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-workers", action="store_true", help="API only; run `o2c worker` elsewhere")
    serve.add_argument("--log-level", choices=logs.LEVELS, help="default: O2C_LOG_LEVEL, else info")
    serve.add_argument("--demo", action="store_true", help="load the demo data set first (idempotent)")
    serve.set_defaults(func=cmd_serve)
    worker = sub.add_parser("worker", help="run projections and workflows only")
    worker.set_defaults(func=cmd_worker)
    keys = sub.add_parser("keys", help="manage API keys")
    keys_sub = keys.add_subparsers(dest="action", required=True)
    create = keys_sub.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated scopes, or * for admin")
    create.add_argument("--customers", help="comma-separated customer ids: the key acts for these alone")
    create.add_argument("--expires-at", help="RFC 3339 date-time after which the key is refused")
    rotate = keys_sub.add_parser("rotate", help="issue a new key; the old one works until the grace ends")
    rotate.add_argument("name")
    rotate.add_argument("--grace-seconds", type=int, default=86400, help="default 86400 (one day)")
    revoke = keys_sub.add_parser("revoke")
    revoke.add_argument("name")
    keys_sub.add_parser("list")
    keys.set_defaults(func=cmd_keys)
    demo = sub.add_parser("demo", help="load a small realistic data set")
    demo.set_defaults(func=cmd_demo)
    hist = sub.add_parser("history", help="print an order's audit trail")
    hist.add_argument("order_id")
    hist.set_defaults(func=cmd_history)
    rebuild = sub.add_parser("rebuild", help="rebuild read models from the event log (queries keep answering)")
    rebuild.add_argument("name", nargs="?")
    rebuild.add_argument("--all", action="store_true")
    rebuild.set_defaults(func=cmd_rebuild)
    check = sub.add_parser("verify", help="compare every read model with a rebuild from the log (exit 1 on drift)")
    check.add_argument("--examples", type=int, default=5, help="mismatches shown per read model (default 5)")
    check.set_defaults(func=cmd_verify)
    relay = sub.add_parser("relay", help="publish the event feed to NATS JetStream (one active, others stand by)")
    relay.add_argument("--nats", metavar="URL", help="NATS server (default: O2C_NATS_URL or nats://127.0.0.1:4222)")
    relay.add_argument("--stream", default="O2C", type=_stream_name, help="JetStream stream (default O2C)")
    relay.add_argument(
        "--subject-prefix", default="o2c.events", type=_subject_prefix, help="subjects are PREFIX.<EventName>"
    )
    relay.set_defaults(func=cmd_relay)
    dun = sub.add_parser("dunning", help="dunning notices for overdue customers (run daily, e.g. from cron)")
    dun_sub = dun.add_subparsers(dest="action", required=True)
    dun_run = dun_sub.add_parser("run", help="record the notices due as of a date (default today)")
    dun_run.add_argument("--as-of", type=_as_of, default=None, metavar="DATE")
    dun_run.set_defaults(func=cmd_dunning)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
