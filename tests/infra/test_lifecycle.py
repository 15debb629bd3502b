"""SIGTERM (API.md "Running"): `o2c serve` stops taking requests, finishes those in flight, stops its
workers and exits 0; a long-poll is cut short with a 200; `o2c worker` stops at an event boundary.

The server is a real `o2c serve` subprocess. Commands are held in flight by a write lock the test
takes on the event store itself, so they are provably inside the server when SIGTERM arrives.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from infra.eventstore.store import EVENTS_TABLE
from infra.settings import load_settings
from tests.conftest import ADMIN_KEY, Api, _free_port, seed, wait_until

REPO = Path(__file__).resolve().parents[2]


def o2c_env(database_url: str, **settings: str) -> dict[str, str]:
    """The test process's environment without its O2C_ variables, plus these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
    env.update({"O2C_DATABASE_URL": database_url, "O2C_ADMIN_KEY": ADMIN_KEY, **settings})
    return env


def json_lines(path: Path) -> list[dict[str, Any]]:
    """Every complete line of a log file, each parsed as one JSON object (a line that is not fails)."""
    text = path.read_text() if path.exists() else ""
    complete = text[: text.rfind("\n") + 1]
    parsed = []
    for line in complete.splitlines():
        value = json.loads(line)
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


class ServerProcess:
    """`o2c serve` in a subprocess, its stderr appended to `log_path`."""

    def __init__(self, database_url: str, log_path: Path, *args: str, **settings: str) -> None:
        self.args = args
        self.env = o2c_env(database_url, **settings)
        self.log_path = log_path
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        for _ in range(3):  # another process on this machine may take the free port first
            self.port = _free_port()
            self.base = f"http://127.0.0.1:{self.port}"
            logged = self.log_path.stat().st_size if self.log_path.exists() else 0
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port), *self.args],
                    cwd=REPO,
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            up = wait_until(self.answers, timeout=60, interval=0.1)
            if up and self.proc.poll() is None:
                return self
            self.kill()
            if "address already in use" not in self.log_path.read_text()[logged:]:
                break
        pytest.fail(f"o2c serve did not start:\n{self.log_path.read_text()[-3000:]}")

    def answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            return True  # it exited: start() looks at why
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def terminate(self, timeout: float = 20) -> tuple[int, float]:
        """SIGTERM; returns the exit code and the seconds it took to exit."""
        assert self.proc is not None
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        return code, time.monotonic() - sent

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.kill()


@contextmanager
def store_write_lock(database_url: str) -> Iterator[None]:
    """Hold the event store's write lock from outside the service: its commands wait on it."""
    settings = load_settings({"O2C_DATABASE_URL": database_url})
    if settings.is_postgres:
        conn = psycopg.connect(settings.database_url)
        try:
            conn.execute(f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE")  # opens a transaction
            yield
        finally:
            conn.rollback()
            conn.close()
    else:
        lite = sqlite3.connect(settings.sqlite_path, isolation_level=None)
        try:
            lite.execute("BEGIN IMMEDIATE")
            yield
        finally:
            lite.execute("ROLLBACK")
            lite.close()


class Timed:
    """One request in a thread: when it started and ended, and how it went."""

    def __init__(self, send: Any) -> None:
        self.send = send
        self.response: httpx.Response | None = None
        self.error: Exception | None = None
        self.started = self.ended = 0.0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        self.started = time.monotonic()
        try:
            self.response = self.send()
        except httpx.HTTPError as exc:
            self.error = exc
        self.ended = time.monotonic()

    def start(self) -> Timed:
        self.thread.start()
        return self

    def join(self, timeout: float = 30) -> Timed:
        self.thread.join(timeout)
        return self


def receipt(i: int) -> dict[str, Any]:
    return {"receipt_id": f"R-INFLIGHT-{i}", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 1}]}


def post_receipt(base: str, i: int) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=60) as client:
        return Api(client).post("/v1/inventory/receipts", receipt(i))


def long_poll(base: str, after: int) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=60) as client:
        return Api(client).get("/v1/events", after=after, wait=25)


def test_sigterm_finishes_in_flight_commands_and_a_long_poll_then_exits_0(database_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    with ServerProcess(database_url, log_path) as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            api = Api(client)
            seed(api)
            head = api.post("/v1/inventory/receipts", receipt(0)).json()["position"]
        with store_write_lock(database_url):
            poll = Timed(lambda: long_poll(server.base, head)).start()
            commands = [Timed(lambda i=i: post_receipt(server.base, i)).start() for i in range(1, 7)]
            time.sleep(1.5)  # every request has reached the server and waits on the lock
            assert all(t.response is None and t.error is None for t in [poll, *commands]), "nothing may answer yet"
            sigterm_at = time.monotonic()
            assert server.proc is not None
            server.proc.send_signal(signal.SIGTERM)
            time.sleep(0.7)
            with pytest.raises(httpx.ConnectError):  # no longer taking requests
                httpx.get(f"{server.base}/healthz", timeout=2)
            assert server.proc.poll() is None, "it must wait for the requests in flight"
        # The lock is released: the commands in flight go through and the server exits on its own.
        code = server.proc.wait(20)
        exited_after = time.monotonic() - sigterm_at
        poll.join()
        for t in commands:
            t.join()

    assert code == 0, log_path.read_text()[-3000:]
    assert exited_after < 12
    assert poll.response is not None and poll.response.status_code == 200, poll.error
    assert poll.response.json()["events"] == []
    assert sigterm_at < poll.ended < sigterm_at + 3, "the long-poll (wait=25) answers when SIGTERM comes"
    acknowledged = {}
    for i, t in enumerate(commands, start=1):
        assert t.response is not None, f"command {i} in flight got no answer: {t.error!r}"
        assert t.response.status_code == 201, t.response.text
        assert t.ended > sigterm_at
        acknowledged[f"R-INFLIGHT-{i}"] = t.response.json()["position"]
    lines = json_lines(log_path)  # the whole shutdown logged as JSON lines
    assert any(line["event"] == "Application shutdown complete." for line in lines)

    # After a restart, every acknowledged command is in the log at the position it answered.
    with ServerProcess(database_url, tmp_path / "restart.log") as again:
        with httpx.Client(base_url=again.base, timeout=30) as client:
            feed = Api(client).get("/v1/events", after=0, limit=1000).json()["events"]
        found = {e["data"].get("receipt_id"): e["position"] for e in feed if "receipt_id" in e["data"]}
        for receipt_id, position in acknowledged.items():
            assert receipt_id in found, receipt_id
            assert found[receipt_id] <= position
        code, seconds = again.terminate()
    assert code == 0 and seconds < 10


def test_a_sigterm_stops_the_worker_between_batches_with_exit_0(database_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "worker.log"
    with ServerProcess(database_url, tmp_path / "serve.log", "--no-workers") as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            api = Api(client)
            seed(api)
            for i in range(1, 30):
                assert api.post("/v1/inventory/receipts", receipt(i)).status_code == 201
        assert server.terminate()[0] == 0
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"],
            cwd=REPO,
            env=o2c_env(database_url, O2C_LOG_LEVEL="debug"),
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    try:
        following = wait_until(
            lambda: worker.poll() is not None or any(line["event"] == "batch applied" for line in json_lines(log_path)),
            timeout=60,
        )
        assert following and worker.poll() is None, log_path.read_text()[-3000:]
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(20)
        seconds = time.monotonic() - sent
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert code == 0, log_path.read_text()[-3000:]
    assert seconds < 12
    lines = json_lines(log_path)
    events = [line["event"] for line in lines]
    assert events[-1] == "worker stopped"
    stopping = events.index("worker stopping at the next event boundary")
    assert "worker following the event log" in events[:stopping]
    # It worked through the backlog the API-only server left (the log and every read model).
    batches = [line for line in lines if line["event"] == "batch applied"]
    assert {line["follower"] for line in batches} >= {"atp", "orders"}
    assert all(isinstance(line["position"], int) for line in batches)
