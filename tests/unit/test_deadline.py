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


def test_on_the_main_thread_a_call_runs_in_place_and_a_hanging_read_ends_at_the_deadline():
    import socket

    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()  # accepted, never answered
        try:
            with deadline.request_deadline(Context(2_000)):
                assert deadline.call("where", threading.current_thread) is threading.main_thread()
                started = time.monotonic()
                with pytest.raises(DeadlineExceeded):
                    deadline.call("hanging read", client.recv, 1)
                elapsed = time.monotonic() - started
        finally:
            client.close()
            peer.close()
    assert elapsed <= 2.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS + 0.1


def test_code_below_the_call_that_catches_every_exception_cannot_keep_it_past_the_deadline():
    def stubborn() -> None:
        for _ in range(300):  # 30 s unless interrupted
            try:
                time.sleep(0.1)
            except Exception:  # noqa: S112  (what a retry loop does)
                continue

    with deadline.request_deadline(Context(2_000)):
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            deadline.call("stubborn", stubborn)
        elapsed = time.monotonic() - started
    assert elapsed <= 2.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS + 0.1


def test_no_timer_is_left_running_after_a_call_and_a_late_alarm_changes_nothing():
    import signal

    with deadline.request_deadline(Context(10_000)):
        assert deadline.call("quick", lambda: 1) == 1
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        signal.raise_signal(signal.SIGALRM)  # as if the timer had fired just as the call ended
        assert deadline.call("next", lambda: 2) == 2


def test_off_the_main_thread_a_call_is_still_given_up_on_at_the_deadline():
    outcome = {}

    def request() -> None:
        released = threading.Event()
        with deadline.request_deadline(Context(2_000)):
            started = time.monotonic()
            try:
                deadline.call("hanging", released.wait, 30)
            except DeadlineExceeded:
                outcome["elapsed"] = time.monotonic() - started
        released.set()

    thread = threading.Thread(target=request)
    thread.start()
    thread.join(10)
    assert outcome["elapsed"] <= 2.0 - MARGIN_SECONDS - PAGE_RESERVE_SECONDS + 0.1


def test_someone_elses_alarm_handler_is_left_alone_and_calls_go_to_a_worker(monkeypatch):
    import signal

    def theirs(signum, frame):
        raise AssertionError("the portal must not set off someone else's alarm")

    previous = signal.signal(signal.SIGALRM, theirs)
    monkeypatch.setattr(deadline, "_installed", None)
    try:
        released = threading.Event()
        with deadline.request_deadline(Context(2_000)):
            assert deadline.call("where", threading.current_thread) is not threading.main_thread()
            with pytest.raises(DeadlineExceeded):
                deadline.call("hanging", released.wait, 30)
        released.set()
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.signal(signal.SIGALRM, previous)
