"""Log lines: one JSON object per line (python-json-logger), or text for development.

Every line written while a request is served carries its request id (``REQUEST_ID``, a
context variable the HTTP layer sets, service/api/observe.py). uvicorn's own loggers go
through the same handler: ``logging_config`` is given to uvicorn, which applies it in each
worker process.

Nothing of a patient may reach a line. Messages are written by Rapport and name no values;
exceptions are the risk, since a database driver puts the values it refused into its
message (PostgreSQL: ``invalid input syntax for type uuid: "..."``) and SQLAlchemy adds the
statement's parameters (turned off at the engine, ``hide_parameters``). So a traceback is
logged with its frames and the type of each exception in its chain, with a database error's
SQLSTATE, and never an exception's message: the incident id in the answer and the frames
locate a defect; the values that provoked it stay out of the logs.
"""

from __future__ import annotations

import logging
import traceback
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: ContextVar[str | None] = ContextVar("rapport_request_id", default=None)

LogFormat = Literal["json", "text"]


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
        return True


def safe_traceback(exc: BaseException) -> str:
    """The exception chain's frames and types, without any exception's message."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for link in reversed(chain):
        if parts:
            parts.append("\nwhich led to:\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(_described(link) + "\n")
    return "".join(parts).rstrip("\n")


def _described(exc: BaseException) -> str:
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    code = _sqlstate(exc)
    suffix = f" (SQLSTATE {code})" if code else ""
    return f"{kind}{suffix}: [message withheld from logs]"


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "sqlite_errorname", None)
        if isinstance(code, str):
            return code
    return None


class SafeJsonFormatter(JsonFormatter):
    """JSON lines: time, level, logger, message, request_id, and any ``extra`` fields."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            json_ensure_ascii=False,
            **kwargs,
        )

    def formatException(self, ei: Any) -> str:
        return safe_traceback(ei[1]) if ei and ei[1] is not None else ""


class SafeTextFormatter(logging.Formatter):
    """For development: time, level, logger, request id and message on one line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: Any) -> str:
        return safe_traceback(ei[1]) if ei and ei[1] is not None else ""


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for the process, uvicorn's loggers included."""
    formatter = (
        "service.logs.SafeJsonFormatter"
        if log_format == "json"
        else ("service.logs.SafeTextFormatter")
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "service.logs.RequestIdFilter"}},
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "loggers": {
            # uvicorn's loggers write through the one handler (its own config gives them
            # handlers of their own, with its own formats).
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},  # Rapport logs access
            # SQLAlchemy's engine logger would print statements with their parameters.
            "sqlalchemy.engine": {"level": "WARNING"},
        },
        "root": {"handlers": ["default"], "level": level.upper()},
    }


def configure(log_format: LogFormat, level: str) -> None:
    import logging.config

    logging.config.dictConfig(logging_config(log_format, level))
