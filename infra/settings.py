"""The only place that reads the environment. Bad values stop start-up naming the variable."""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote, urlparse

from domain.journal import DEFAULT_ACCOUNTS, ROLES, Accounts


class ConfigError(Exception):
    """A setting is invalid; the message names the variable."""


@dataclass(frozen=True)
class RateLimit:
    """A token bucket per API key (or per client IP without a valid key): refills `per_second`, holds `burst`."""

    per_second: float
    burst: int


# Far above what one client of the benchmark sends (ATP ~1,500 req/s, intake targets 2,500 orders/s on one key).
DEFAULT_RATE_LIMIT = RateLimit(per_second=5000.0, burst=10000)


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DELAY = re.compile(r"\A(\d+(?:\.\d+)?)(ms|s|m|h|d)\Z")
DEFAULT_WEBHOOK_SCHEDULE = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


def parse_schedule(text: str) -> tuple[float, ...]:
    """'5s,5m,30m,2h' as seconds; units ms, s, m, h, d; '' is the default; 1-30 delays of at most 7 days."""
    text = text.strip()
    if not text:
        return DEFAULT_WEBHOOK_SCHEDULE
    delays = []
    for part in (p.strip().lower() for p in text.split(",")):
        match = _DELAY.match(part)
        if match is None:
            raise ConfigError(
                f"O2C_WEBHOOK_RETRY_SCHEDULE must look like '5s,5m,30m,2h' (units ms s m h d), got {text!r}"
            )
        delays.append(float(match.group(1)) * _UNITS[match.group(2)])
    if len(delays) > 30 or max(delays) > 7 * 86400:
        raise ConfigError(f"O2C_WEBHOOK_RETRY_SCHEDULE allows at most 30 delays of at most 7 days, got {text!r}")
    return tuple(delays)


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./o2c.db"
    admin_key: str | None = None
    currency: str = "USD"
    billing_trigger: str = "shipment"
    tax_rates: dict[str, Decimal] = field(default_factory=dict)
    tax_engine_url: str | None = None
    tax_max_attempts: int = 5
    command_retries: int = 60
    group_commit: bool = True  # concurrent commands share one transaction (O2C_GROUP_COMMIT=0: off)
    tax_retry_base: float = 2.0  # seconds before the 2nd attempt; doubles per attempt, with jitter
    tax_retry_max: float = 300.0
    tax_timeout: float = 2.0
    breaker_threshold: int = 5  # consecutive engine failures that open the circuit
    breaker_cooldown: float = 5.0  # seconds the circuit stays open before one trial call
    min_position_wait: float = 5.0
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT  # O2C_RATE_LIMIT; None: no limit
    log_format: str = "json"  # O2C_LOG_FORMAT: json (one object per line) or console
    log_level: str = "info"
    nats_url: str = "nats://127.0.0.1:4222"  # where `o2c relay` publishes the feed (O2C_NATS_URL)
    accounts: Accounts = DEFAULT_ACCOUNTS  # the journal's account per role (O2C_ACCOUNTS)
    dunning_days: tuple[int, ...] = (7, 21, 45)  # O2C_DUNNING_DAYS: days past due for levels 1, 2, 3, ...
    overdue_hold_days: int | None = None  # O2C_OVERDUE_HOLD_DAYS; None: no overdue hold
    # Seconds before webhook attempts 2, 3, ... (O2C_WEBHOOK_RETRY_SCHEDULE); one attempt more than entries.
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_SCHEDULE
    webhook_allow_private: bool = False  # O2C_WEBHOOK_ALLOW_PRIVATE: receivers on private/loopback addresses
    webhook_timeout: float = 10.0  # seconds a receiver has to answer (API.md)
    otlp_endpoint: str | None = None  # OTEL_EXPORTER_OTLP_ENDPOINT: export spans over OTLP/HTTP; None: none
    # PostgreSQL connections per pool (the event store's and the read side's, each): kept open, and
    # opened on demand beyond them (O2C_DB_POOL_SIZE, O2C_DB_MAX_OVERFLOW).
    db_pool_size: int = 10
    db_max_overflow: int = 20

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql:", "postgres:", "postgresql+psycopg:"))

    @property
    def sqlite_path(self) -> str:
        return self.database_url.removeprefix("sqlite:///") or "./o2c.db"

    def eventsourcing_env(self) -> dict[str, str]:
        """Environment for the eventsourcing infrastructure factory."""
        if not self.is_postgres:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.sqlite_path,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        url = urlparse(self.database_url)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_POOL_SIZE": str(self.db_pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.db_max_overflow),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "POSTGRES_PRE_PING": "y",
        }

    def sqlalchemy_url(self) -> str:
        if self.is_postgres:
            rest = self.database_url.split("://", 1)[1]
            return f"postgresql+psycopg://{rest}"
        return f"sqlite:///{self.sqlite_path}"


def _parse_rates(text: str) -> dict[str, Decimal]:
    rates: dict[str, Decimal] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        region, sep, value = part.partition("=")
        if not sep or not region.strip():
            raise ValueError(part)
        rate = Decimal(value.strip())
        if rate < 0 or rate >= 1:
            raise ValueError(part)
        rates[region.strip()] = rate
    return rates


def check_nats_url(url: str, source: str = "O2C_NATS_URL") -> str:
    """A nats:// or tls:// URL with a host, else ConfigError naming where it came from."""
    try:
        parsed = urlparse(url)
        port_ok = parsed.port is None or 0 < parsed.port < 65536
    except ValueError:
        port_ok = False
    if not (port_ok and parsed.scheme in ("nats", "tls") and parsed.hostname):
        raise ConfigError(f"{source} must look like nats://host:4222 (or tls://host:4222), got {url!r}")
    return url


_RATE = re.compile(r"\A(\d+(?:\.\d+)?)\s*/\s*s(?:\s+burst\s+(\d+))?\Z")


def parse_rate_limit(text: str) -> RateLimit | None:
    """'200/s burst 400' (burst defaults to twice the rate), '0' or 'off' for none; '' is the default."""
    text = text.strip().lower()
    if not text:
        return DEFAULT_RATE_LIMIT
    if text in ("0", "off"):
        return None
    match = _RATE.match(text)
    rate = float(match.group(1)) if match else 0.0
    burst = int(match.group(2)) if match and match.group(2) else math.ceil(2 * rate)
    if not match or rate <= 0 or burst < 1:
        raise ConfigError(f"O2C_RATE_LIMIT must look like '200/s burst 400' (or 0/off to disable), got {text!r}")
    return RateLimit(per_second=rate, burst=burst)


_ACCOUNT_NUMBER = re.compile(r"\A[A-Za-z0-9._-]{1,20}\Z")
ACCOUNTS_FORMAT = ",".join(f"{role}={number}" for role, number in DEFAULT_ACCOUNTS.by_role().items())


def parse_accounts(text: str) -> Accounts:
    """'ar=1200,cash=1000,...': every role of the journal once, each its own account number
    (1-20 of A-Z a-z 0-9 . _ -); '' is the default chart."""
    if not text.strip():
        return DEFAULT_ACCOUNTS

    def bad(why: str) -> ConfigError:
        return ConfigError(f"O2C_ACCOUNTS {why}; it must look like {ACCOUNTS_FORMAT!r}")

    found: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        role, sep, number = (s.strip() for s in part.partition("="))
        if not sep:
            raise bad(f"has {part!r}, not role=number")
        if role not in ROLES:
            raise bad(f"names an unknown role {role!r} (roles: {', '.join(ROLES)})")
        if role in found:
            raise bad(f"names the role {role!r} twice")
        if not _ACCOUNT_NUMBER.fullmatch(number):
            raise bad(f"gives {role} the account {number!r}, not 1-20 letters, digits, '.', '_' or '-'")
        if number in found.values():
            raise bad(f"gives the account {number!r} to more than one role")
        found[role] = number
    missing = [role for role in ROLES if role not in found]
    if missing:
        raise bad(f"lacks the role(s) {', '.join(missing)}")
    return Accounts(**found)


def parse_dunning_days(text: str) -> tuple[int, ...]:
    """'7,21,45': days past due of each dunning level, strictly increasing, from 1 to 3650."""
    parts = [p.strip() for p in text.split(",")]
    days = tuple(int(p) for p in parts if p.isdigit())
    if not parts or len(days) != len(parts) or any(not 1 <= d <= 3650 for d in days):
        raise ConfigError(f"O2C_DUNNING_DAYS must look like '7,21,45' (days from 1 to 3650), got {text!r}")
    if any(b <= a for a, b in itertools.pairwise(days)):
        raise ConfigError(f"O2C_DUNNING_DAYS must be strictly increasing, got {text!r}")
    return days


def parse_hold_days(text: str) -> int | None:
    """O2C_OVERDUE_HOLD_DAYS: a whole number of days from 0 to 3650; empty: off."""
    if not text:
        return None
    if not text.isdigit() or int(text) > 3650:
        raise ConfigError(f"O2C_OVERDUE_HOLD_DAYS must be a whole number of days from 0 to 3650, got {text!r}")
    return int(text)


def parse_count(name: str, text: str, default: int, low: int, high: int) -> int:
    """The setting `name`: a whole number from `low` to `high`, `default` when empty."""
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    url = env.get("O2C_DATABASE_URL", "sqlite:///./o2c.db").strip()
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://", "postgresql+psycopg://")):
        raise ConfigError(f"O2C_DATABASE_URL must be sqlite:///PATH or postgresql://user@host:port/db, got {url!r}")
    currency = env.get("O2C_CURRENCY", "USD").strip()
    if not (len(currency) == 3 and currency.isalpha() and currency.isupper()):
        raise ConfigError(f"O2C_CURRENCY must be a 3-letter ISO code such as USD, got {currency!r}")
    trigger = env.get("O2C_BILLING_TRIGGER", "shipment").strip()
    if trigger not in ("shipment", "delivery"):
        raise ConfigError(f"O2C_BILLING_TRIGGER must be 'shipment' or 'delivery', got {trigger!r}")
    try:
        rates = _parse_rates(env.get("O2C_TAX_RATES", ""))
    except (ValueError, InvalidOperation):
        raise ConfigError("O2C_TAX_RATES must look like 'CA=0.0725,NY=0.08' (rates from 0 to 1)") from None
    engine = env.get("O2C_TAX_ENGINE_URL", "").strip() or None
    if engine and not engine.startswith(("http://", "https://")):
        raise ConfigError(f"O2C_TAX_ENGINE_URL must be an http(s) URL, got {engine!r}")
    attempts_text = env.get("O2C_TAX_MAX_ATTEMPTS", "5").strip()
    if not attempts_text.isdigit() or int(attempts_text) < 1:
        raise ConfigError(f"O2C_TAX_MAX_ATTEMPTS must be a positive integer, got {attempts_text!r}")
    retry_text = env.get("O2C_TAX_RETRY_BASE_SECONDS", "2").strip()
    try:
        retry_base = float(retry_text)
        if not 0 < retry_base <= 3600:
            raise ValueError(retry_text)
    except ValueError:
        raise ConfigError(
            f"O2C_TAX_RETRY_BASE_SECONDS must be a number of seconds (0-3600], got {retry_text!r}"
        ) from None
    group_text = env.get("O2C_GROUP_COMMIT", "1").strip().lower()
    if group_text not in ("0", "1", "true", "false", "on", "off"):
        raise ConfigError(f"O2C_GROUP_COMMIT must be 1 or 0, got {group_text!r}")
    nats_url = check_nats_url(env.get("O2C_NATS_URL", "").strip() or "nats://127.0.0.1:4222")
    log_format = env.get("O2C_LOG_FORMAT", "json").strip().lower()
    if log_format not in ("json", "console"):
        raise ConfigError(f"O2C_LOG_FORMAT must be 'json' or 'console', got {log_format!r}")
    log_level = env.get("O2C_LOG_LEVEL", "info").strip().lower()
    if log_level not in ("debug", "info", "warning", "error", "critical"):
        raise ConfigError(f"O2C_LOG_LEVEL must be debug, info, warning, error or critical, got {log_level!r}")
    rate_limit = parse_rate_limit(env.get("O2C_RATE_LIMIT", ""))
    accounts = parse_accounts(env.get("O2C_ACCOUNTS", ""))
    admin_key = env.get("O2C_ADMIN_KEY") or None
    otlp = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None
    if otlp and not otlp.startswith(("http://", "https://")):
        raise ConfigError(f"OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got {otlp!r}")
    schedule = parse_schedule(env.get("O2C_WEBHOOK_RETRY_SCHEDULE", ""))
    private_text = env.get("O2C_WEBHOOK_ALLOW_PRIVATE", "false").strip().lower()
    if private_text not in ("0", "1", "true", "false", ""):
        raise ConfigError(f"O2C_WEBHOOK_ALLOW_PRIVATE must be true or false, got {private_text!r}")
    if admin_key is not None and len(admin_key) < 8:
        raise ConfigError("O2C_ADMIN_KEY must be at least 8 characters long")
    return Settings(
        database_url=url,
        admin_key=admin_key,
        currency=currency,
        billing_trigger=trigger,
        tax_rates=rates,
        tax_engine_url=engine,
        tax_max_attempts=int(attempts_text),
        tax_retry_base=retry_base,
        group_commit=group_text in ("1", "true", "on"),
        rate_limit=rate_limit,
        nats_url=nats_url,
        log_format=log_format,
        log_level=log_level,
        accounts=accounts,
        dunning_days=parse_dunning_days(env.get("O2C_DUNNING_DAYS", "").strip() or "7,21,45"),
        overdue_hold_days=parse_hold_days(env.get("O2C_OVERDUE_HOLD_DAYS", "").strip()),
        webhook_retry_schedule=schedule,
        webhook_allow_private=private_text in ("1", "true"),
        otlp_endpoint=otlp,
        db_pool_size=parse_count("O2C_DB_POOL_SIZE", env.get("O2C_DB_POOL_SIZE", ""), 10, 1, 200),
        db_max_overflow=parse_count("O2C_DB_MAX_OVERFLOW", env.get("O2C_DB_MAX_OVERFLOW", ""), 20, 0, 1000),
    )
