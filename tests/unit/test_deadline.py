"""The request's deadline: what it allows, and calls given up on when they would answer after it."""

import threading
import time

import pytest

from portal import deadline
from portal.deadline import FIRST_PAGE_RESERVE_SECONDS, MARGIN_SECONDS, PAGE_RESERVE_SECONDS, DeadlineExceeded


@pytest.fixture(autouse=True)
def pages_rendered():
    deadline.pages_ready()  # a warm container: the page's own reserve


class Context:
    def __init__(self, millis: int) -> None:
        self.millis = millis

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


@pytest.mark.parametrize("millis, allowed", [
    (25_000, 25.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS),
    (900_000, 29.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS),  # never past API Gateway's 29 s
    (2_000, 2.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS),
])
def test_the_deadline_comes_from_the_lambda_context_and_api_gateway(millis, allowed):
    with deadline.request_deadline(Context(millis)):
        assert allowed - 0.05 < deadline.remaining() <= allowed
    assert deadline.remaining() is None  # outside a request: no deadline


def test_a_call_that_would_answer_late_is_given_up_on_at_the_deadline():
    released = threading.Event()
    with deadline.request_deadline(Context(2_000)):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            deadline.call("hanging", released.wait, 30)
        elapsed = time.monotonic() - started
    released.set()
    assert elapsed <= 2.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS + 0.1


def test_with_no_time_left_nothing_is_even_started():
    started = []
    with deadline.request_deadline(Context(1_200)), pytest.raises(DeadlineExceeded):
        deadline.call("never", started.append, 1)
    assert started == []


def test_calls_keep_their_result_their_errors_and_the_requests_context():
    with deadline.request_deadline(Context(10_000)):
        assert deadline.call("add", lambda a, b: a + b, 1, b=2) == 3
        assert deadline.call("sees the deadline", deadline.remaining) is not None
        with pytest.raises(KeyError):
            deadline.call("fails", {}.__getitem__, "x")


def test_outside_a_request_calls_simply_run_on_the_callers_thread():
    assert deadline.call("here", threading.current_thread) is threading.current_thread()


def test_a_containers_first_page_gets_a_larger_reserve(monkeypatch):
    monkeypatch.setattr(deadline, "_pages_ready", False)
    with deadline.request_deadline(Context(25_000)):
        allowed = 25.0 - MARGIN_SECONDS - FIRST_PAGE_RESERVE_SECONDS
        assert allowed - 0.05 < deadline.remaining() <= allowed
