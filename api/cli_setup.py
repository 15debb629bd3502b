"""What every `o2c` subcommand starts with: settings from the environment, checked, and the database reachable."""

from __future__ import annotations

import sys
from typing import NoReturn

from infra.adapters import logs
from infra.settings import ConfigError, Settings, load_settings


def _config_error(message: str) -> NoReturn:
    """Exactly one line on stderr (driver messages can span several), then exit 2."""
    print(f"o2c: configuration error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


def _check_database(settings: Settings) -> None:
    """Open one connection first, so a database that is not there is one clear line, not a traceback."""
    import sqlalchemy as sa

    connect_args = {"connect_timeout": 5} if settings.is_postgres else {}
    engine = sa.create_engine(settings.sqlalchemy_url(), connect_args=connect_args, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = getattr(exc, "orig", None) or exc
        _config_error(f"O2C_DATABASE_URL: cannot open the database: {reason}")
    finally:
        engine.dispose()


def _settings_or_exit() -> Settings:
    """Settings from the environment, logging set up from them, and the database reachable."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        _config_error(str(exc))
    logs.configure(settings.log_format, settings.log_level)
    _check_database(settings)
    return settings
