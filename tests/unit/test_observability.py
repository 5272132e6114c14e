"""The portal's log lines: LineFormatter writes exactly the line Powertools' own formatter writes."""

import io
import json
import logging
import sys
import time
from contextlib import contextmanager

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.observability import FORMATTER_OPTIONS, LineFormatter, logger

# What inject_lambda_context and the Logger append to every line of the portal's
LAMBDA_KEYS = {"service": "sagemaker-studio-portal", "cold_start": False, "function_name": "portal",
               "function_memory_size": 512, "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:portal",
               "function_request_id": "00000000-0000-0000-0000-000000000000", "correlation_id": "c0ffee",
               "sampling_rate": None}
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


# Powertools' defaults (with the location the portal's own lines leave out), and the portal's options.
POWERTOOLS_DEFAULTS = {"json_deserializer": str}


def formatters(options=POWERTOOLS_DEFAULTS, **keys):
    ours, reference = LineFormatter(**options), LambdaPowertoolsFormatter(**options)
    for formatter in (ours, reference):
        formatter.append_keys(**{**LAMBDA_KEYS, **keys})
    return ours, reference


def record(message="launch", level=logging.INFO, args=(), extra=None, exc_info=None):
    return logging.getLogger("portal-test").makeRecord("portal-test", level, __file__, 42, message, args, exc_info,
                                                        func="_record_launch", extra=extra)


@contextmanager
def counting_powertools_path():
    """The records that took Powertools' own path through LineFormatter, while the block runs."""
    taken = []
    original = LambdaPowertoolsFormatter.format

    def counted(self, log_record):
        if isinstance(self, LineFormatter):
            taken.append(log_record)
        return original(self, log_record)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LambdaPowertoolsFormatter, "format", counted)
        yield taken


@pytest.fixture
def powertools_path():
    with counting_powertools_path() as taken:
        yield taken


extra_keys = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12).filter(
    lambda key: key not in logging.LogRecord("x", 0, "", 0, "", (), None).__dict__ and key not in
    ("message", "asctime", "location", "timestamp", "level"))
extra_values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                         st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                                    max_size=2),
                     # json.dumps' default=str is what writes these
                     st.datetimes(), st.frozensets(st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(extra=st.dictionaries(extra_keys, extra_values, max_size=6), message=st.text(max_size=40),
       level=st.sampled_from([logging.INFO, logging.WARNING, logging.ERROR]), traced=st.booleans(),
       options=st.sampled_from([POWERTOOLS_DEFAULTS, FORMATTER_OPTIONS]))
def test_a_plain_record_is_written_as_powertools_writes_it_without_taking_its_path(extra, message, level, traced,
                                                                                   options):
    ours, reference = formatters(options)
    plain = record(message, level, extra=extra)
    # Hypothesis runs many examples per test: a context of their own, not a function-scoped fixture.
    with counting_powertools_path() as taken, pytest.MonkeyPatch.context() as patch:
        if traced:
            patch.setenv("_X_AMZN_TRACE_ID", TRACE)
        else:
            patch.delenv("_X_AMZN_TRACE_ID", raising=False)
        assert ours.format(plain) == LambdaPowertoolsFormatter.format(reference, plain)
    assert taken == []  # the shorter way was the one taken


def test_records_it_does_not_shorten_take_powertools_path_and_come_out_the_same(powertools_path, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record("request failed", logging.ERROR, exc_info=sys.exc_info())
    cases = [(formatters(), failed), (formatters(), record("x %s", args=("y",))),
             (formatters(location="%(module)s:%(lineno)d"), record()),  # a template of its own
             (formatters(level="%(levelno)s"), record())]
    for (ours, reference), line in cases:
        assert ours.format(line) == LambdaPowertoolsFormatter.format(reference, line)
    assert len(powertools_path) == len(cases)


def test_keys_appended_per_thread_are_written_too(powertools_path):
    ours, reference = formatters()
    ours.thread_safe_append_keys(tenant="blue", location="%(funcName)s:%(lineno)d")
    try:
        line = record(extra={"identity": "alice@example.com"})
        assert '"tenant":"blue"' in ours.format(line)
        assert ours.format(line) == LambdaPowertoolsFormatter.format(reference, line)  # it sees them too
    finally:
        ours.thread_safe_clear_keys()
    assert powertools_path == []  # the shorter way, with them


def test_the_portals_logger_writes_its_lines_through_it():
    assert isinstance(logger.registered_formatter, LineFormatter)


def record_at(created: float) -> logging.LogRecord:
    line = record()
    line.created, line.msecs = created, (created - int(created)) * 1000  # as LogRecord did before Python 3.13
    return line


@settings(max_examples=300, deadline=None)
@given(moments=st.lists(st.floats(min_value=-86_400, max_value=4_102_444_800, allow_nan=False), min_size=1,
                        max_size=8),
       offsets=st.lists(st.floats(min_value=0, max_value=2.5), max_size=8),
       utc=st.booleans(), zone=st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata"]))
def test_timestamps_match_powertools_from_second_to_second_and_in_every_zone(moments, offsets, utc, zone):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", zone)
        time.tzset()
        try:
            ours, reference = formatters({**POWERTOOLS_DEFAULTS, "utc": utc})
            # Lines close together (the same second, the next ones) and far apart, one formatter for all
            created = [moment + offset for moment in moments for offset in [0.0, *offsets]]
            for line in map(record_at, created):
                assert ours.formatTime(line) == LambdaPowertoolsFormatter.formatTime(reference, line)
        finally:
            patch.undo()
            time.tzset()


def test_timestamps_powertools_is_asked_to_spell_differently_are_its_own():
    line = record_at(1_796_144_002.25)
    for options in ({"datefmt": "%H:%M:%S.%F"}, {"use_rfc3339": True},
                    {"datefmt": "%d/%m/%Y %f", "use_datetime_directive": True}):
        ours, reference = LineFormatter(**options), LambdaPowertoolsFormatter(**options)
        assert ours.formatTime(line) == reference.formatTime(line)
    assert LineFormatter().formatTime(line, "%Y") == LambdaPowertoolsFormatter().formatTime(line, "%Y")


def test_pretty_printed_lines_under_powertools_dev_are_powertools_own(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    ours, reference = formatters()
    line = record(extra={"identity": "alice@example.com", "groups": ["a", "b"]})
    assert "\n" in ours.format(line)
    assert ours.format(line) == LambdaPowertoolsFormatter.format(reference, line)


def test_the_portals_lines_name_no_caller_and_never_look_for_one(monkeypatch):
    def looked(*args, **kwargs):
        raise AssertionError("the caller was looked for")

    monkeypatch.setattr(logging.Logger, "findCaller", looked)
    handler = logger._logger.handlers[0]
    monkeypatch.setattr(handler, "stream", io.StringIO())
    logger.info("launch", extra={"identity": "alice@example.com"})
    line = json.loads(handler.stream.getvalue())
    assert line["message"] == "launch" and line["identity"] == "alice@example.com"
    assert "location" not in line
