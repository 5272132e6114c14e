"""Logger, Tracer and Metrics for the whole function, and the guard that keeps credentials out of logs.

botocore logs whole response bodies at DEBUG (that includes the presigned URL) and urllib3 logs request
lines with query strings (authorization codes), so library loggers are held at WARNING whatever the
function's own LOG_LEVEL is.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter

from portal.settings_catalog import BY_ENV

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or BY_ENV["POWERTOOLS_SERVICE_NAME"].default
LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "jwt", "aws_xray_sdk", "jinja2",
                   "aws_lambda_powertools")

# Fields no log line of the portal's carries; computing them is a third of a LogRecord's cost (the asyncio task
# too: Powertools' event handler imports asyncio, and each record would then ask it for the current task).
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False
logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+, not in typeshed yet
# Nor the caller's file and line: finding them walks the stack on every line. Each message is a constant string
# found once in the code, and an unexpected error lists its frames itself. A documented switch like the four
# above (Python's logging HOWTO, "Optimization"); the lines therefore carry no "location" key, and stack_info=True
# would add no stack (the portal never asks for one).
logging._srcfile = None

_RESERVED = frozenset(RESERVED_LOG_ATTRS)


class LineFormatter(LambdaPowertoolsFormatter):
    """Powertools' own formatter, taking a shorter way to the same line for a plain record.

    The audit line is written on every launch, and Powertools' general path (a copy of the whole record, each
    template filled with ``%`` from it) was a fifth of its cost. For a record without exception, stack or
    arguments, and with the templates Powertools itself sets (level, location, timestamp), this fills the same
    keys directly; anything else takes Powertools' path. ``tests/unit/test_observability.py`` holds the two
    to the same line.
    """

    _FILLED = {
        "%(levelname)s": lambda formatter, record: record.levelname,
        "%(funcName)s:%(lineno)d": lambda formatter, record: f"{record.funcName}:{record.lineno}",
        "%(asctime)s": lambda formatter, record: formatter.formatTime(record),
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if options.get("json_serializer") is None:
            # Powertools' own serializer, json.dumps with these arguments, builds this encoder for every line.
            self.json_serializer = json.JSONEncoder(default=self.json_default, separators=(",", ":"),
                                                    indent=self.json_indent, ensure_ascii=False).encode
        # A second, and Powertools' timestamp around its %F; no second yet.
        self._second: tuple[int | None, str, str] = (None, "", "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """Powertools' default timestamp, with the part that names the second kept for the rest of it (a change of
        time zone within the process therefore shows from the next second on; Lambda's is UTC throughout)."""
        if datefmt or self.datefmt or self.use_rfc3339_iso8601:
            return super().formatTime(record, datefmt)
        second, before, after = self._second
        if second != math.floor(record.created):  # the second localtime and gmtime take, before 1970 too
            stamp = self.converter(record.created)
            head, _, tail = self.default_time_format.partition(self.custom_ms_time_directive)
            second, before, after = self._second = (math.floor(record.created), time.strftime(head, stamp),
                                                    time.strftime(tail, stamp))
        return f"{before}{'%03d' % record.msecs}{after}"  # noqa: UP031  # Powertools' own spelling of msecs

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info or record.args:
            return super().format(record)
        line: dict[str, Any] = {}
        for keys in (self.log_format, self.thread_safe_get_current_keys()):
            for key, value in keys.items():
                if value and key in _RESERVED:
                    fill = self._FILLED.get(value) if isinstance(value, str) else None
                    if fill is None:
                        return super().format(record)  # a template of someone else's, or Powertools' error
                    value = fill(self, record)
                line[key] = value
        for key, value in record.__dict__.items():
            if key not in _RESERVED:
                line[key] = value
        line["message"] = self._extract_log_message(log_record=record)
        for key in ("exception", "exception_name", "exception_notes"):
            line[key] = line.get(key)
        if self.serialize_stacktrace:
            line["stack_trace"] = None
        line["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize(log={key: value for key, value in line.items() if value is not None})


# The portal's messages are constant strings, never JSON: Powertools would otherwise try json.loads on each one
# (and build a JSONDecodeError) before writing it, about a tenth of the audit line's cost on every launch.
# No "location": see logging._srcfile above.
FORMATTER_OPTIONS: dict[str, Any] = {"json_deserializer": str, "location": None}
logger = Logger(service=SERVICE, logger_formatter=LineFormatter(**FORMATTER_OPTIONS))


def tracing_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """As Powertools decides: on in Lambda unless POWERTOOLS_TRACE_DISABLED says otherwise."""
    disabled = environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() in ("1", "true")
    return bool(environ.get("AWS_LAMBDA_FUNCTION_NAME")) and not disabled


# Importing the X-Ray SDK costs a cold start 50 ms or more even for a disabled Tracer (outside Lambda it also
# builds botocore X-Ray clients for centralized sampling), so the Tracer exists only where tracing is on.
if tracing_enabled():
    from aws_lambda_powertools import Tracer

    tracer: Any = Tracer(service=SERVICE)
else:
    tracer = None


def trace_handler(handler: Callable) -> Callable:
    """Powertools' capture_lambda_handler, never capturing the response (it holds the presigned URL)."""
    return tracer.capture_lambda_handler(capture_response=False)(handler) if tracer else handler
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE")
                  or BY_ENV["POWERTOOLS_METRICS_NAMESPACE"].default)


# Switches that make Powertools print events or tracebacks; the portal keeps all of that off (the resolver's
# debug mode, log_event, library loggers), so a set switch changes nothing but deserves a word in the log.
DEBUG_SWITCHES = ("POWERTOOLS_DEV", "POWERTOOLS_EVENT_HANDLER_DEBUG", "POWERTOOLS_DEBUG", "POWERTOOLS_LOGGER_LOG_EVENT")


def warn_about_debug_switches(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Log a warning naming the debug switches that are on; return their names."""
    on = [name for name in DEBUG_SWITCHES if environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")]
    if on:
        logger.warning("debug switches are set; the portal keeps events, codes and cookies out of the output anyway",
                       extra={"switches": on})
    return on


def quiet_library_loggers() -> None:
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


quiet_library_loggers()
# A request that records no metric (health checks) is normal, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
