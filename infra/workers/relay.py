"""Publishes the event feed to a NATS JetStream stream, in log order, without losing or repeating events.

Each public event becomes one message on `<prefix>.<EventName>` (default `o2c.events.OrderPlaced`)
in the stream `O2C`, whose body is the CloudEvent of `GET /v1/events` and whose `Nats-Msg-Id` is
the CloudEvent id. The relay's position is a tracking row (`relay:<stream>`) that moves only after
JetStream acknowledged every message up to it; a relay that dies between an ack and the tracking
update publishes those events again on restart and JetStream drops them as duplicates (within the
stream's duplicate window). On PostgreSQL a session advisory lock keeps one relay publishing; the
others stand by. See docs/decisions/0008-nats-relay.md.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nats
import sqlalchemy as sa
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck, StorageType, StreamConfig
from nats.js.errors import APIError, NotFoundError

from infra.eventstore.engine import make_engine
from infra.eventstore.feed import read_feed
from infra.eventstore.store import EventStore
from infra.readside.tracking import TrackingConflictError, ensure_tables, read_position, save_position
from infra.settings import Settings
from infra.workers.leader import AdvisoryLocks, Leadership, SoleProcess, conninfo_for

log = logging.getLogger("o2c.relay")

STREAM = "O2C"
SUBJECT_PREFIX = "o2c.events"
DUPLICATE_WINDOW = 300.0  # seconds JetStream remembers message ids (a restart within it repeats nothing)

Published = Callable[[dict[str, Any], PubAck], None]
TOO_LARGE = 10054  # JetStream's error code: the message exceeds the stream's max_msg_size


def too_large(exc: BaseException) -> bool:
    """NATS refuses this message for its size, now and on every retry (unlike an outage)."""
    return isinstance(exc, nats.errors.MaxPayloadError) or (isinstance(exc, APIError) and exc.err_code == TOO_LARGE)


def stand_in(event: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The message published in place of an event too large for NATS: the same id, type, subject
    and position, no data, and where to read it whole (`GET /v1/events?after=<position - 1>&limit=1`)."""
    kept = {k: v for k, v in event.items() if k != "data"}
    return {
        **kept,
        "data": None,
        "o2ctruncated": True,
        "o2cdataref": f"/v1/events?after={int(event['position']) - 1}&limit=1",
        "o2cerror": f"{type(exc).__name__}: too large for NATS",
    }


@dataclass(frozen=True)
class RelayConfig:
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = STREAM
    subject_prefix: str = SUBJECT_PREFIX
    duplicate_window: float = DUPLICATE_WINDOW
    batch_size: int = 200  # events read (and published) before the tracking row moves
    poll: float = 0.2  # seconds between looks at the log once caught up
    standby_poll: float = 1.0  # seconds between attempts to take the lock while another relay holds it
    retry: float = 1.0  # seconds before trying again after NATS or the database failed

    @property
    def name(self) -> str:
        """The relay's tracking row and advisory lock name."""
        return f"relay:{self.stream}"

    def subject(self, cloud_event: dict[str, Any]) -> str:
        return f"{self.subject_prefix}.{str(cloud_event['type']).removeprefix('o2c.')}"


class Relay:
    """Follows the log by polling and publishes each public event once; stop() ends it between events."""

    def __init__(self, settings: Settings, config: RelayConfig, on_published: Published | None = None) -> None:
        self.settings = settings
        self.config = config
        self.on_published = on_published
        self._stop = threading.Event()
        self.leading = threading.Event()  # set while this relay is the one publishing
        self.published = 0  # messages JetStream stored for the first time
        self.duplicates = 0  # messages JetStream recognised by id and dropped
        self.stand_ins = 0  # events too large for NATS, published as a stand-in (see `stand_in`)
        self.position = 0  # the tracking position as last saved
        self.leadership: Leadership | None = None

    def stop(self) -> None:
        """Ask the relay to finish the event in hand, save its position and return (thread-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake within 50 ms of stop()."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self._stop.is_set() and loop.time() < deadline:
            await asyncio.sleep(min(0.05, max(deadline - loop.time(), 0)))

    async def run(self) -> None:
        """Publish until stop(); survives NATS and database outages by retrying."""
        engine = make_engine(self.settings)
        store = EventStore(self.settings, engine)
        names = [self.config.name]
        leadership: Leadership = (
            AdvisoryLocks(conninfo_for(engine.url), names, retry=self.config.standby_poll)
            if self.settings.is_postgres
            else SoleProcess(names)  # SQLite: one machine, one relay by convention
        )
        self.leadership = leadership
        nc: NatsClient | None = None
        try:
            await asyncio.to_thread(ensure_tables, engine)
            nc = await self._connect()
            if nc is None:
                return
            js = nc.jetstream()
            while not self._stop.is_set():
                try:
                    await self._ensure_stream(js)  # again after a failure: the stream may have been deleted
                    if not await self._lead(leadership):
                        return
                    await self._follow(js, engine, store, leadership)
                except (nats.errors.Error, TimeoutError, sa.exc.DBAPIError) as exc:
                    log.warning("relay: %s: %s; retrying in %.1fs", type(exc).__name__, exc, self.config.retry)
                    await self._sleep(self.config.retry)
        finally:
            self.leading.clear()
            if nc is not None and not nc.is_closed:
                await nc.close()
            await asyncio.to_thread(leadership.close)
            store.recorder.datastore.close()  # type: ignore[attr-defined]
            engine.dispose()

    async def _connect(self) -> NatsClient | None:
        """Connect to NATS, retrying until it answers or stop(); None when stopped first."""
        while not self._stop.is_set():
            try:
                return await nats.connect(
                    self.config.nats_url,
                    connect_timeout=2,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                )
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                log.warning("relay: NATS at %s does not answer (%s); retrying", self.config.nats_url, exc)
                await self._sleep(self.config.retry)
        return None

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        """Create the stream, or bring its subjects and duplicate window to what this relay needs."""
        cfg = self.config
        wanted = [f"{cfg.subject_prefix}.>"]
        try:
            info = await js.stream_info(cfg.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(
                    name=cfg.stream,
                    subjects=wanted,
                    storage=StorageType.FILE,
                    duplicate_window=cfg.duplicate_window,
                    description="o2c event feed (CloudEvents JSON), published by `o2c relay`",
                )
            )
            log.info("relay: created stream %s on %s", cfg.stream, wanted[0])
            return
        current = info.config
        if current.subjects != wanted or current.duplicate_window != cfg.duplicate_window:
            current.subjects = wanted
            current.duplicate_window = cfg.duplicate_window
            await js.update_stream(current)
            log.info(
                "relay: updated stream %s to %s, duplicate window %ss", cfg.stream, wanted[0], cfg.duplicate_window
            )

    async def _lead(self, leadership: Leadership) -> bool:
        """Wait as a stand-by until this relay holds the lock; False when stopped first."""
        announced = False
        while not self._stop.is_set():
            if self.config.name in await asyncio.to_thread(leadership.refresh):
                self.leading.set()
                if announced:
                    log.info("relay: took over publishing to %s", self.config.stream)
                return True
            if not announced:
                log.info("relay: another relay publishes to %s; standing by", self.config.stream)
                announced = True
            await self._sleep(self.config.standby_poll)
        return False

    async def _follow(self, js: JetStreamContext, engine: sa.Engine, store: EventStore, lead: Leadership) -> None:
        """Publish from the tracking position on, while this relay holds the lock."""
        cfg = self.config
        self.position = await asyncio.to_thread(self._read_position, engine)
        log.info("relay: publishing to %s from position %s", cfg.stream, self.position)
        checked = asyncio.get_running_loop().time()
        while not self._stop.is_set():
            before = self.position
            events, next_after = await asyncio.to_thread(read_feed, store, before, cfg.batch_size)
            acked = before  # the last position JetStream has acknowledged everything up to
            try:
                for event in events:
                    if self._stop.is_set():
                        break
                    ack = await self._publish(js, event)
                    if ack.duplicate:
                        self.duplicates += 1
                    else:
                        self.published += 1
                    acked = int(event["position"])
                    if self.on_published is not None:
                        self.on_published(event, ack)
                else:
                    acked = next_after  # the whole batch went out: move past internal records too
            finally:
                if acked > self.position:
                    await asyncio.to_thread(self._save_position, engine, acked)
            now = asyncio.get_running_loop().time()
            if now - checked >= 1.0:
                checked = now
                if self.config.name not in await asyncio.to_thread(lead.refresh):
                    self.leading.clear()
                    log.warning("relay: lost the lock (database connection gone); standing by")
                    return
            if next_after == before:  # nothing new in the log: look again shortly
                await self._sleep(cfg.poll)

    async def _publish(self, js: JetStreamContext, event: dict[str, Any]) -> PubAck:
        """One event; one NATS refuses for its size goes out as a stand-in, so the stream has no
        gap and the relay never retries a message that can never be taken."""
        cfg = self.config
        headers = {"Nats-Msg-Id": event["id"]}
        try:
            body = json.dumps(event, separators=(",", ":")).encode()
            return await js.publish(cfg.subject(event), body, headers=headers, stream=cfg.stream)
        except (nats.errors.Error, APIError) as exc:
            if not too_large(exc):
                raise
            log.error(
                "relay: event at position %s is too large for NATS (%s bytes); published a stand-in",
                event["position"],
                len(body),
            )
            self.stand_ins += 1
            small = json.dumps(stand_in(event, exc), separators=(",", ":")).encode()
            return await js.publish(cfg.subject(event), small, headers=headers, stream=cfg.stream)

    def _read_position(self, engine: sa.Engine) -> int:
        with engine.connect() as conn:
            return read_position(conn, self.config.name)

    def _save_position(self, engine: sa.Engine, position: int) -> None:
        try:
            with engine.begin() as conn:
                save_position(conn, self.config.name, position, expected=self.position)
        except TrackingConflictError:
            # Another relay moved it (two relays on SQLite): follow it; JetStream drops what repeats.
            self.position = self._read_position(engine)
            log.warning("relay: another relay moved %s; continuing from %s", self.config.name, self.position)
            return
        self.position = position


def run_relay(settings: Settings, config: RelayConfig) -> int:
    """Run a relay until SIGTERM or SIGINT (the `o2c relay` command)."""
    relay = Relay(settings, config)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, relay.stop)
        await relay.run()

    asyncio.run(main())
    log.info(
        "relay: stopped at position %s (%s published, %s duplicates)", relay.position, relay.published, relay.duplicates
    )
    return 0
