"""Structured logs: one JSON object per line on stderr (or a readable console form).

structlog renders everything, including records from the standard library's `logging` (uvicorn,
`logging.getLogger("o2c...")`), so a line from the runner thread and a line from a request look
alike. Request code binds `correlation_id`, `actor` and `position` with structlog's contextvars;
stdlib callers pass their facts as `extra={...}`.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import msgspec
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


# What a request has bound (correlation_id, actor, position): one context variable holding a dict that is
# replaced, never changed in place, so a worker thread's copy of the context keeps what was bound when it
# started. structlog's own contextvars keep one variable per key and copy the whole context to merge them
# into every line: about a fifth of what the access line cost (bench/RESULTS.md, 2026-12-03).
_bound: ContextVar[dict[str, Any]] = ContextVar("o2c_log_facts", default={})  # noqa: B039 - never mutated


def _merge_bound(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A line's own keys win over what the request bound (as structlog's merge_contextvars does)."""
    facts = _bound.get()
    return {**facts, **event_dict} if facts else event_dict


def _shared() -> list[Processor]:
    return [
        _merge_bound,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
    ]


_encoder = msgspec.json.Encoder(enc_hook=repr)  # what JSON cannot say natively, as its repr


def _json(obj: Any, **_: Any) -> str:
    return _encoder.encode(obj).decode()


def _logger_name(logger: WrappedLogger, _: str, event_dict: EventDict) -> EventDict:
    event_dict["logger"] = logger.name
    return event_dict


def _native() -> list[Processor]:
    """What `_shared` adds to a line, for loggers that never become stdlib records."""
    return [
        _merge_bound,
        structlog.processors.add_log_level,
        _logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]


def _write(handler: logging.StreamHandler, line: str) -> None:  # type: ignore[type-arg]
    handler.acquire()
    try:
        handler.stream.write(line + "\n")
        handler.stream.flush()
    except (OSError, ValueError):  # a closed or broken stream: a log line never fails the caller
        pass
    finally:
        handler.release()


class _Line:
    """The end of a native structlog chain: the rendered line, written under the stdlib handler's lock
    so it never interleaves with a library's line on the same stream."""

    def __init__(self, name: str, handler: logging.StreamHandler) -> None:  # type: ignore[type-arg]
        self.name = name
        self.handler = handler

    def msg(self, line: str) -> None:
        _write(self.handler, line)

    debug = info = warning = warn = error = critical = exception = fatal = msg


def configure(fmt: str = "json", level: str = "info", stream: TextIO | None = None) -> None:
    """Send every log record, ours and the libraries', through one handler on `stream` (stderr).

    Safe to call again (the CLI does after Litestar has installed its own logging config)."""
    renderer: Processor
    if fmt == "console":
        renderer = structlog.dev.ConsoleRenderer(colors=False)
        tail: list[Processor] = []
    else:
        renderer = structlog.processors.JSONRenderer(serializer=_json)
        tail = [structlog.processors.format_exc_info]  # the traceback becomes one escaped string
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *_shared(), _drop_noise],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _drop_noise, *tail, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    # Our own structlog loggers render straight onto the handler's stream: no LogRecord, no stdlib
    # round trip (about a tenth of the cost per line), and a line below the level costs one call.
    structlog.configure(
        processors=[*_native(), *tail, renderer],
        logger_factory=lambda name="o2c", *_: _Line(name, handler),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=False,  # _Named caches per configuration instead
    )
    global _generation, _json_sink
    _generation += 1
    _json_sink = (handler, logging.getLevelName(level.upper())) if fmt == "json" else None
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
    cache_logger_on_first_use=False,  # _Named caches per configuration instead
)
_generation = 0  # bumped by configure(): loggers made before it bind again on their next line
_json_sink: tuple[logging.StreamHandler, int] | None = None  # type: ignore[type-arg]  # configure()'s JSON handler and level
_LEVEL_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning", logging.ERROR: "error"}


class _Named:
    """What `get_logger` answers: the bound logger of the current configuration, bound once per
    configuration (structlog's own cache would keep a logger made before `configure()` on the old one)."""

    __slots__ = ("_bound", "_generation", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._generation = -1
        self._bound: Any = None

    def __getattr__(self, method: str) -> Any:
        if self._generation != _generation:
            self._bound, self._generation = structlog.get_logger(self.name).bind(), _generation
        return getattr(self._bound, method)


class _EveryRequest:
    """A logger for the line written on every request (the access line). Configured for JSON, the line
    is one dict encoded by one msgspec call, with the keys and values structlog's chain gives a line of
    `get_logger` (the bound facts, `event`, `level`, `logger`, `timestamp`): that chain of six
    processors was most of the line's cost. Otherwise (console, not configured) it is `get_logger`'s."""

    __slots__ = ("_other", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self._other = _Named(name)

    def enabled(self, level: int) -> bool:
        """Whether a line at `level` would be written (so a caller can skip gathering its facts)."""
        sink = _json_sink
        if sink is None:
            return logging.getLogger(self.name).isEnabledFor(level)
        return level >= sink[1]

    def log(self, level: int, event: str, **facts: Any) -> None:
        sink = _json_sink
        if sink is None or level not in _LEVEL_NAMES:
            self._other.log(level, event, **facts)
            return
        handler, threshold = sink
        if level < threshold:
            return
        line = {**_bound.get(), **facts}
        line["event"] = event
        line["level"] = _LEVEL_NAMES[level]
        line["logger"] = self.name
        line["timestamp"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        _write(handler, _encoder.encode(line).decode())


def every_request_logger(name: str) -> _EveryRequest:
    """A logger named `name` for a line written on every request, rendered at the least cost."""
    return _EveryRequest(name)


def get_logger(name: str) -> Any:
    """A structlog logger named `name`: through the stdlib logger of that name until `configure()`,
    then straight onto the configured stream at the configured level."""
    return _Named(name)


def bind(**facts: Any) -> None:
    """Attach facts (correlation_id, actor, position) to every line logged later in this request."""
    _bound.set({**_bound.get(), **facts})


def clear() -> None:
    _bound.set({})


def bound() -> dict[str, Any]:
    """What this request has bound so far."""
    return dict(_bound.get())
