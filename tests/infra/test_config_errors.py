"""Bad configuration (API.md "Running"): every invalid O2C_ setting, and a database that cannot be
opened, stops every `o2c` command with a non-zero exit and exactly one stderr line naming the variable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_HOST, PG_PORT, PG_USER, _free_port, _pg_answers
from tests.infra.test_lifecycle import REPO, o2c_env

# (variable, an invalid value) for every O2C_ variable infra/settings.py reads.
INVALID = [
    ("O2C_DATABASE_URL", "mysql://root@127.0.0.1/o2c"),
    ("O2C_ADMIN_KEY", "short"),
    ("O2C_CURRENCY", "dollars"),
    ("O2C_BILLING_TRIGGER", "invoice"),
    ("O2C_TAX_RATES", "CA=7%"),
    ("O2C_TAX_ENGINE_URL", "ftp://tax.example"),
    ("O2C_TAX_MAX_ATTEMPTS", "0"),
    ("O2C_TAX_RETRY_BASE_SECONDS", "soon"),
    ("O2C_GROUP_COMMIT", "maybe"),
    ("O2C_NATS_URL", "http://127.0.0.1:4222"),
    ("O2C_RATE_LIMIT", "lots"),
    ("O2C_LOG_FORMAT", "xml"),
    ("O2C_LOG_LEVEL", "loud"),
    ("O2C_ACCOUNTS", "ar=1200,cash=1000"),
    ("O2C_DUNNING_DAYS", "21,7"),
    ("O2C_OVERDUE_HOLD_DAYS", "soon"),
    ("O2C_WEBHOOK_RETRY_SCHEDULE", "5s,soon"),
    ("O2C_WEBHOOK_ALLOW_PRIVATE", "maybe"),
    ("O2C_DB_POOL_SIZE", "0"),
    ("O2C_DB_MAX_OVERFLOW", "lots"),
]
COMMANDS = [
    ["serve", "--port", "0"],
    ["worker"],
    ["keys", "list"],
    ["demo"],
    ["history", "SO-1"],
    ["rebuild", "--all"],
    ["relay"],
    ["dunning", "run"],
]


def run_o2c(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "api.cli", *args]
    return subprocess.run(
        command, cwd=cwd, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=90
    )


def assert_one_line_naming(done: subprocess.CompletedProcess[str], variable: str) -> None:
    assert done.returncode != 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert variable in lines[0] and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_the_table_covers_every_setting_that_is_read() -> None:
    source = (REPO / "infra" / "settings.py").read_text()
    read = set(re.findall(r"""env\.get\(\s*["'](O2C_[A-Z_]+)["']""", source))
    assert read, "settings.py reads its variables with env.get"
    assert read == {name for name, _ in INVALID}


# Each invalid setting is tried on one command, in turn, so every setting and every command is covered.
CASES = [(name, value, COMMANDS[i % len(COMMANDS)]) for i, (name, value) in enumerate(INVALID)]


@pytest.mark.parametrize(("variable", "value", "args"), CASES, ids=[f"{n}-{a[0]}" for n, _, a in CASES])
def test_an_invalid_setting_stops_the_command_with_one_line_naming_it(
    variable: str, value: str, args: list[str], tmp_path: Path
) -> None:
    env = o2c_env(f"sqlite:///{tmp_path / 'o2c.db'}", **{variable: value})
    assert_one_line_naming(run_o2c(args, env, tmp_path), variable)


@pytest.mark.parametrize("args", COMMANDS[:3] + COMMANDS[-1:], ids=lambda a: a[0])
def test_a_sqlite_database_in_a_missing_directory_stops_the_command_with_one_line(
    args: list[str], tmp_path: Path
) -> None:
    missing_dir = f"sqlite:///{tmp_path / 'no-such-dir' / 'o2c.db'}"
    done = run_o2c(args, o2c_env(missing_dir), tmp_path)
    assert_one_line_naming(done, "O2C_DATABASE_URL")
    assert "unable to open database file" in done.stderr
    assert not (tmp_path / "no-such-dir").exists()


def test_a_postgresql_server_that_does_not_answer_is_one_line_naming_the_url(tmp_path: Path) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{_free_port()}/o2c"
    done = run_o2c(["serve", "--port", "0"], o2c_env(closed), tmp_path)
    assert_one_line_naming(done, "O2C_DATABASE_URL")
    assert "Connection refused" in done.stderr


def test_a_postgresql_database_that_does_not_exist_is_one_line_naming_the_url(tmp_path: Path) -> None:
    if not _pg_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} and CI=true requires it")
        pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")
    missing = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/o2c_no_such_database"
    for args in (["serve", "--port", "0"], ["worker"]):
        done = run_o2c(args, o2c_env(missing), tmp_path)
        assert_one_line_naming(done, "O2C_DATABASE_URL")
        assert "does not exist" in done.stderr
