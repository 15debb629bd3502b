"""Structured logs: one JSON object per line on stderr (or a readable console form).

structlog renders everything, including records from the standard library's `logging` (uvicorn,
`logging.getLogger("o2c...")`), so a line from the runner thread and a line from a request look
alike. Request code binds `correlation_id`, `actor` and `position` with structlog's contextvars;
stdlib callers pass their facts as `extra={...}`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

FORMATS = ("json", "console")
LEVELS = ("debug", "info", "warning", "error", "critical")

# Loggers that libraries give handlers of their own; their records are sent up to ours instead.
LIBRARY_LOGGERS = ("litestar", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Keys uvicorn and the logging module add that say nothing new once rendered.
_NOISE = ("color_message", "taskName")


def _drop_noise(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key in _NOISE:
        event_dict.pop(key, None)
    return event_dict


def _shared() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
    ]


def configure(fmt: str = "json", level: str = "info", stream: TextIO | None = None) -> None:
    """Send every log record, ours and the libraries', through one handler on `stream` (stderr).

    Safe to call again (the CLI does after Litestar has installed its own logging config)."""
    renderer: Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        tail: list[Processor] = []
    else:
        renderer = structlog.processors.JSONRenderer()
        tail = [structlog.processors.format_exc_info]  # the traceback becomes one escaped string
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *_shared(), _drop_noise],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _drop_noise, *tail, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        lib = logging.getLogger(name)
        for old in list(lib.handlers):
            lib.removeHandler(old)
        lib.propagate = True


# structlog loggers always write through stdlib logging, configured or not, so that a process (or a
# test) that never calls configure() gets the stdlib defaults rather than lines printed to stdout.
structlog.configure(
    processors=[structlog.stdlib.filter_by_level, *_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)


def get_logger(name: str) -> Any:
    """A structlog logger writing through the stdlib logger `name` (so levels and handlers apply)."""
    return structlog.stdlib.get_logger(name)


def bind(**facts: Any) -> None:
    """Attach facts (correlation_id, actor, position) to every line logged later in this request."""
    structlog.contextvars.bind_contextvars(**facts)


def clear() -> None:
    structlog.contextvars.clear_contextvars()


def bound() -> dict[str, Any]:
    """What this request has bound so far."""
    return structlog.contextvars.get_contextvars()
