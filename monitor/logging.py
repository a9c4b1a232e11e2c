"""The one logging chain: bound context, secret redaction, JSON off a terminal, readable lines on one.

structlog's own loggers and the standard library's (APScheduler, SQLAlchemy, urllib3) end in the same
handler, whose formatter runs the same processors for both: timestamp, level, logger name, tracebacks
(structured in JSON, as text on a terminal), then redaction of every resolved secret, then rendering.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from monitor.secrets import redact

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

# Libraries that report every routine step at INFO; their warnings and errors still come through.
CHATTY_LIBRARIES = {
    "apscheduler.executors": logging.WARNING,
    "apscheduler.scheduler": logging.WARNING,
    "alembic": logging.WARNING,  # its engine details on every start; `monitor db current` tells the revision
}


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, BaseException):
        return redact(f"{type(value).__name__}: {value}")
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


def redact_secrets(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replace any resolved secret, wherever it appears in the event (tracebacks too), before rendering."""
    for key, value in list(event.items()):
        event[key] = _redacted(value)
    return event


class _StandardError(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time, so a replaced stderr is never written to after it closed."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Set up the chain, writing to ``stream`` (default: standard error)."""
    use_json = fmt == "json" or (fmt == "auto" and not (stream or sys.stderr).isatty())
    stamped: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    rendering: list[Any] = (
        [structlog.processors.dict_tracebacks, redact_secrets, structlog.processors.JSONRenderer()]
        if use_json
        else [
            structlog.processors.format_exc_info,
            redact_secrets,
            structlog.dev.ConsoleRenderer(
                colors=(stream or sys.stderr).isatty(), exception_formatter=structlog.dev.plain_traceback
            ),
        ]
    )
    handler: logging.StreamHandler = logging.StreamHandler(stream) if stream is not None else _StandardError()  # type: ignore[type-arg]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *stamped],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_monitor_chain", False)]:
        root.removeHandler(old)
    handler._monitor_chain = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(LEVELS[level])
    for name, quietest in CHATTY_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(quietest, LEVELS[level]))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *stamped,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def get_logger(**context: Any) -> Any:
    return structlog.get_logger("monitor").bind(**context)
