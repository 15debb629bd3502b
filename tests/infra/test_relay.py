"""The NATS JetStream relay against a real NATS server: order, subjects, bodies, restarts, crashes, stand-by.

Every test publishes to a stream of its own (unique name and subjects) and deletes it afterwards.
Outside CI a NATS server that does not answer on 127.0.0.1:4222 makes these tests skip; with
CI=true it fails them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import nats
import pytest
from nats.js.api import PubAck, RawStreamMsg, StreamConfig
from nats.js.errors import NotFoundError

from infra.readside.tracking import read_position
from infra.service import Service
from infra.settings import ConfigError, load_settings
from infra.workers.leader import AdvisoryLocks, lock_holders
from infra.workers.relay import Relay, RelayConfig
from tests.conftest import Api, make_settings, settle, wait_until

REPO = Path(__file__).resolve().parents[2]
NATS_URL = os.environ.get("O2C_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _nats_answers() -> bool:
    url = urlparse(NATS_URL)
    try:
        with socket.create_connection((url.hostname or "127.0.0.1", url.port or 4222), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def stream() -> Iterator[RelayConfig]:
    """A relay configuration with a stream and subjects no other test uses; the stream is deleted after."""
    if not _nats_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS does not answer at {NATS_URL} and CI=true requires it")
        pytest.skip(f"NATS does not answer at {NATS_URL}")
    suffix = uuid.uuid4().hex[:12]
    config = RelayConfig(
        nats_url=NATS_URL,
        stream=f"O2C_TEST_{suffix}",
        subject_prefix=f"o2ctest.{suffix}.events",
        poll=0.05,
        standby_poll=0.1,
        retry=0.2,
    )
    yield config
    asyncio.run(_delete_stream(config))


async def _delete_stream(config: RelayConfig) -> None:
    nc = await nats.connect(config.nats_url)
    try:
        await nc.jetstream().delete_stream(config.stream)
    except NotFoundError:
        pass
    finally:
        await nc.close()


async def _messages(config: RelayConfig) -> list[RawStreamMsg]:
    nc = await nats.connect(config.nats_url)
    try:
        js = nc.jetstream()
        try:
            state = (await js.stream_info(config.stream)).state
        except NotFoundError:
            return []
        if not state.messages:
            return []
        return [await js.get_msg(config.stream, seq) for seq in range(state.first_seq, state.last_seq + 1)]
    finally:
        await nc.close()


def messages(config: RelayConfig) -> list[RawStreamMsg]:
    return asyncio.run(_messages(config))


def wait_for_messages(config: RelayConfig, count: int, timeout: float = 20) -> list[RawStreamMsg]:
    found = wait_until(lambda: len(messages(config)) >= count, timeout=timeout, interval=0.1)
    assert found, f"the stream has {len(messages(config))} messages, expected {count}"
    return messages(config)


def record(api: Api, first: int, count: int) -> None:
    """Orders through the real API; each also writes an internal idempotency record."""
    for i in range(first, first + count):
        body = {"order_id": f"SO-{i}", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 1}]}
        response = api.post("/v1/orders", body, headers={"Idempotency-Key": f"order-{i}"})
        assert response.status_code == 201, response.text


def start_book(api: Api) -> None:
    from tests.conftest import seed

    seed(api)
    receipt = {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 1000}]}
    assert api.post("/v1/inventory/receipts", receipt).status_code == 201


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def feed(api: Api) -> list[dict[str, Any]]:
    """The HTTP feed, once the app's workflows have gone quiet."""
    settle(service(api))
    response = api.get("/v1/events", after=0, limit=1000)
    assert response.status_code == 200
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def tracked(api: Api, config: RelayConfig) -> int:
    with service(api).engine.connect() as conn:
        return read_position(conn, config.name)


def assert_exactly_the_feed(config: RelayConfig, msgs: list[RawStreamMsg], expected: list[dict[str, Any]]) -> None:
    """The stream holds the feed's events, each once, in order, on the right subjects, with their ids."""
    bodies = [json.loads(m.data or b"") for m in msgs]
    assert bodies == expected
    assert [m.subject for m in msgs] == [f"{config.subject_prefix}.{e['type'].removeprefix('o2c.')}" for e in expected]
    assert [(m.headers or {}).get("Nats-Msg-Id") for m in msgs] == [e["id"] for e in expected]


@contextmanager
def running(relay: Relay) -> Iterator[Relay]:
    """The relay in a thread of its own; stopped (and checked to have ended cleanly) on exit."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(relay.run())
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)

    thread = threading.Thread(target=target, name="test-relay", daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        relay.stop()
        thread.join(15)
        assert not thread.is_alive(), "the relay did not stop"
        assert not errors, errors


def test_the_cli_relay_publishes_the_feed_in_order_follows_new_events_and_stops_on_sigterm(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    start_book(api)
    record(api, 1, 5)
    env = {**os.environ, "O2C_DATABASE_URL": database_url}
    cmd = [sys.executable, "-m", "api.cli", "relay", "--nats", stream.nats_url, "--stream", stream.stream]
    cmd += ["--subject-prefix", stream.subject_prefix]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        expected = feed(api)
        wait_for_messages(stream, len(expected))
        record(api, 6, 3)  # recorded while the relay runs: it follows the log
        expected = feed(api)
        msgs = wait_for_messages(stream, len(expected))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "stopped at position" in err
    assert_exactly_the_feed(stream, msgs, expected)
    topics = [r.topic for r in service(api).store.read(0, 10_000)]
    assert "CommandRecorded" in topics  # the log has internal records ...
    assert all(e["type"] != "o2c.CommandRecorded" for e in expected)  # ... which the stream, like the feed, skips
    positions = [e["position"] for e in expected]
    assert positions == sorted(positions)
    assert tracked(api, stream) == service(api).store.head()  # past the trailing idempotency record too


def test_a_relay_stopped_midway_resumes_where_it_stopped(database_url: str, api: Api, stream: RelayConfig) -> None:
    start_book(api)
    record(api, 1, 6)
    expected = feed(api)
    seen: list[dict[str, Any]] = []

    def stop_after_seven(event: dict[str, Any], ack: PubAck) -> None:
        seen.append(event)
        if len(seen) == 7:
            first.stop()

    first = Relay(make_settings(database_url), stream, on_published=stop_after_seven)
    asyncio.run(first.run())
    assert len(messages(stream)) == 7  # it stopped at the event boundary it was asked to
    assert tracked(api, stream) == seen[-1]["position"] == first.position

    second = Relay(make_settings(database_url), stream)
    with running(second):
        msgs = wait_for_messages(stream, len(expected))
        assert wait_until(lambda: second.position == service(api).store.head())
    assert_exactly_the_feed(stream, msgs, expected)
    assert (first.published, second.published, second.duplicates) == (7, len(expected) - 7, 0)


CRASHING_RELAY = """
import asyncio, os, sys
from infra.workers.relay import Relay, RelayConfig
from infra.settings import Settings

database_url, nats_url, stream, prefix, crash_after = sys.argv[1:]
acked = []

def crash(event, ack):
    acked.append(event)
    if len(acked) == int(crash_after):
        os._exit(3)  # the process dies: JetStream has the messages, the tracking row has not moved

config = RelayConfig(nats_url=nats_url, stream=stream, subject_prefix=prefix, batch_size=1000)
asyncio.run(Relay(Settings(database_url=database_url), config, on_published=crash).run())
"""


def test_a_relay_that_dies_between_publish_and_tracking_update_repeats_nothing_in_the_stream(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    start_book(api)
    record(api, 1, 5)
    expected = feed(api)
    args = [database_url, stream.nats_url, stream.stream, stream.subject_prefix, "6"]
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_RELAY, *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert crashed.returncode == 3, crashed.stderr
    assert len(messages(stream)) == 6
    assert tracked(api, stream) == 0  # acked by JetStream, never recorded as done

    restarted = Relay(make_settings(database_url), stream)
    with running(restarted):
        msgs = wait_for_messages(stream, len(expected))
        assert wait_until(lambda: restarted.position == service(api).store.head())
    assert_exactly_the_feed(stream, msgs, expected)
    assert restarted.duplicates == 6  # published again, dropped by JetStream on their Nats-Msg-Id
    assert restarted.published == len(expected) - 6


def test_a_relay_whose_stream_was_deleted_recreates_it_and_carries_on_from_its_position(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    start_book(api)
    record(api, 1, 2)
    relay = Relay(make_settings(database_url), stream)
    with running(relay):
        before = feed(api)
        wait_for_messages(stream, len(before))
        asyncio.run(_delete_stream(stream))  # publishes now find no stream: retried, not fatal
        record(api, 3, 2)
        expected = feed(api)[len(before) :]
        msgs = wait_for_messages(stream, len(expected))
        assert wait_until(lambda: relay.position == service(api).store.head())
    assert_exactly_the_feed(stream, msgs, expected)  # what was sent before is not sent again


def test_a_second_relay_stands_by_while_the_first_publishes_and_takes_over_when_it_stops(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("one relay at a time is enforced with a PostgreSQL advisory lock; on SQLite run one relay")
    start_book(api)
    record(api, 1, 3)
    first = Relay(make_settings(database_url), stream)
    second = Relay(make_settings(database_url), stream)
    with running(first):
        wait_for_messages(stream, len(feed(api)))
        with running(second):
            assert first.leading.is_set()
            record(api, 4, 3)
            wait_for_messages(stream, len(feed(api)))
            time.sleep(0.5)  # several stand-by polls
            assert not second.leading.is_set()
            assert (second.published, second.duplicates) == (0, 0)
            with service(api).engine.connect() as conn:
                holders = lock_holders(conn, [stream.name])
            assert holders == {stream.name: lock_pid(first)}
            assert second.leadership is not None and second.leadership.held() == frozenset()
            first.stop()
            assert wait_until(second.leading.is_set, timeout=10), "the stand-by did not take over"
            record(api, 7, 3)
            expected = feed(api)
            msgs = wait_for_messages(stream, len(expected))
            assert wait_until(lambda: second.position == service(api).store.head())
    assert_exactly_the_feed(stream, msgs, expected)
    assert second.published > 0 and second.duplicates == 0
    assert first.published + second.published == len(expected)


def lock_pid(relay: Relay) -> int | None:
    assert isinstance(relay.leadership, AdvisoryLocks)
    return relay.leadership.backend_pid


def test_the_nats_url_setting_is_validated() -> None:
    assert load_settings({}).nats_url == "nats://127.0.0.1:4222"
    assert load_settings({"O2C_NATS_URL": "nats://bus.internal:4223"}).nats_url == "nats://bus.internal:4223"
    for bad in ("http://127.0.0.1:4222", "127.0.0.1:4222", "nats://", "nats://host:99999"):
        with pytest.raises(ConfigError, match="O2C_NATS_URL"):
            load_settings({"O2C_NATS_URL": bad})


def test_the_relay_command_rejects_a_bad_nats_url_naming_the_flag(tmp_path: Path) -> None:
    env = {**os.environ, "O2C_DATABASE_URL": f"sqlite:///{tmp_path / 'o2c.db'}"}
    cmd = [sys.executable, "-m", "api.cli", "relay", "--nats", "http://nowhere"]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--nats must look like nats://" in done.stderr


async def _limit_message_size(config: RelayConfig, max_bytes: int) -> None:
    """The stream exists before the relay starts, with a message size limit (a JetStream setting)."""
    nc = await nats.connect(config.nats_url)
    try:
        await nc.jetstream().add_stream(
            StreamConfig(
                name=config.stream,
                subjects=[f"{config.subject_prefix}.>"],
                duplicate_window=config.duplicate_window,
                max_msg_size=max_bytes,
            )
        )
    finally:
        await nc.close()


def test_an_event_too_large_for_nats_goes_out_as_a_stand_in_and_the_relay_carries_on(
    database_url: str, api: Api, stream: RelayConfig
) -> None:
    """JetStream refuses a message over the stream's max_msg_size every time: the relay publishes a
    stand-in with the same id, type and position (no data, a pointer to the HTTP feed) instead of
    retrying it for ever, and the events after it flow."""
    asyncio.run(_limit_message_size(stream, 1500))
    start_book(api)
    for i in range(40):  # a product per line: an order of 40 lines is far over 1,500 bytes
        assert api.put(f"/v1/products/P-{i}", {"name": f"Part {i}", "unit_price": "1.00"}).status_code == 201
    lines = [{"sku": f"P-{i}", "qty": 1} for i in range(40)]
    big = {"order_id": "SO-BIG", "customer_id": "C1", "channel": "web", "lines": lines}
    assert api.post("/v1/orders", big).status_code == 201
    record(api, 1, 2)
    expected = feed(api)
    placed = next(e for e in expected if e["type"] == "o2c.OrderPlaced" and e["data"]["order_id"] == "SO-BIG")
    assert len(json.dumps(placed)) > 1500

    relay = Relay(make_settings(database_url), stream)
    with running(relay):
        msgs = wait_for_messages(stream, len(expected))
        assert wait_until(lambda: relay.position == service(api).store.head())
    bodies = [json.loads(m.data or b"") for m in msgs]
    assert [b["id"] for b in bodies] == [e["id"] for e in expected]  # no gap, nothing twice, in order
    oversized = {e["id"] for e in expected if len(json.dumps(e, separators=(",", ":"))) > 1400}
    assert placed["id"] in oversized and relay.stand_ins == len(oversized)
    for body, event in zip(bodies, expected, strict=True):
        if event["id"] in oversized:
            assert body["data"] is None and body["o2ctruncated"] is True
            assert (body["type"], body["position"], body["subject"]) == (
                event["type"],
                event["position"],
                event["subject"],
            )
            again = api.get("/v1/events", after=event["position"] - 1, limit=1).json()["events"]
            assert again == [event]  # where the stand-in points: the whole event
        else:
            assert body == event
