"""The request's deadline: what it allows, and calls given up on when they would answer after it."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from portal import deadline
from portal.deadline import FIRST_PAGE_RESERVE_SECONDS, MARGIN_SECONDS, PAGE_RESERVE_SECONDS, DeadlineExceeded
from tests.support.container import lambda_environment


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


def test_calls_given_up_on_anywhere_in_an_http_exchange_leave_the_client_usable():
    """Deadlines that fall anywhere in urllib3's request cycle leave the client's connection pool usable (a tried
    and rejected design interrupted the call in place, which could leave the pool's lock held for good)."""
    import random
    import socket

    from portal.http import HttpError, JsonHttpClient

    body = b'{"keys": []}'

    def answer(connection: socket.socket) -> None:
        with connection, connection.makefile("rb") as requests:
            while requests.readline():
                while requests.readline() not in (b"\r\n", b""):
                    pass
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    with socket.create_server(("127.0.0.1", 0)) as server:
        def serve() -> None:
            while True:
                try:
                    connection, _ = server.accept()
                except OSError:
                    return
                threading.Thread(target=answer, args=(connection,), daemon=True).start()

        threading.Thread(target=serve, daemon=True).start()
        client, url = JsonHttpClient(), f"http://127.0.0.1:{server.getsockname()[1]}/jwks"
        no_time = MARGIN_SECONDS + PAGE_RESERVE_SECONDS  # what the Lambda context must leave besides
        chosen = random.Random(7)
        given_up = 0
        for _ in range(400):
            with deadline.request_deadline(Context(int(no_time * 1000) + chosen.randint(1, 8))):
                try:
                    deadline.call("exchanges", lambda: [client.get_json(url) for _ in range(30)])
                except (DeadlineExceeded, HttpError):
                    given_up += 1
        assert given_up > 300  # the deadlines did fall among the exchanges
        time.sleep(1.0)  # the abandoned exchanges finish
        with deadline.request_deadline(Context(10_000)):
            started = time.monotonic()
            assert client.get_json(url) == {"keys": []}
            assert time.monotonic() - started < 3.0  # not held until the deadline by a stuck pool


# A fresh interpreter: pinning this test process would pin everything it starts afterwards.
_CPU_PROBE = """
import json, os, sys
from portal import deadline
kept = deadline.share_one_cpu(json.loads(sys.argv[1]))
with deadline.request_deadline(None):
    worker = deadline.call("probe", os.sched_getaffinity, 0)
print(json.dumps({"kept": sorted(kept) if kept else None, "main": sorted(os.sched_getaffinity(0)),
                  "worker": sorted(worker)}))
"""


# The function as Lambda imports it: the handler module alone decides, before anything starts a worker.
_HANDLER_PROBE = """
import json, os
import portal.handler
from portal import deadline
with deadline.request_deadline(None):
    worker = deadline.call("probe", os.sched_getaffinity, 0)
print(json.dumps({"main": sorted(os.sched_getaffinity(0)), "worker": sorted(worker)}))
"""


def _cpus_seen(environ: dict[str, str], probe: str = _CPU_PROBE) -> dict:
    lambda_dir = Path(deadline.__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", probe, json.dumps(environ)], capture_output=True, text=True,
                          env={**os.environ, **environ, "PYTHONPATH": str(lambda_dir)}, timeout=60, check=True)
    return json.loads(done.stdout)


needs_two_cpus = pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                                    reason="needs a machine with two CPUs or more")


@needs_two_cpus
@pytest.mark.parametrize("lambda_sets", [
    {"AWS_LAMBDA_FUNCTION_NAME": "portal"},
    {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.13"},
    {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"},
    {"AWS_LAMBDA_FUNCTION_NAME": "portal", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769"},  # one vCPU's worth
])
def test_in_lambda_the_handler_and_the_workers_it_hands_calls_to_share_one_cpu(lambda_sets):
    seen = _cpus_seen(lambda_sets)
    assert len(seen["kept"]) == 1 and seen["main"] == seen["worker"] == seen["kept"]


@needs_two_cpus
def test_a_lambda_container_importing_the_handler_keeps_it_and_its_workers_on_one_cpu():
    seen = _cpus_seen(lambda_environment("http://127.0.0.1:9", tracing=False, task_root=None), _HANDLER_PROBE)
    assert len(seen["main"]) == 1 and seen["worker"] == seen["main"]


@needs_two_cpus
@pytest.mark.parametrize("environ", [
    {"AWS_REGION": "eu-west-1"},  # a laptop, CI
    {"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE"},  # ECS names its own execution environment too
    {"AWS_EXECUTION_ENV": "AWS_ECS_EC2"},
    # More than one vCPU's time, or several processes of the function that would all take the same CPU.
    {"AWS_LAMBDA_FUNCTION_NAME": "portal", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008"},
    {"AWS_LAMBDA_FUNCTION_NAME": "portal", "AWS_LAMBDA_MAX_CONCURRENCY": "8"},
])
def test_elsewhere_the_process_keeps_every_cpu(environ):
    everything = sorted(os.sched_getaffinity(0))
    assert _cpus_seen(environ) == {"kept": None, "main": everything, "worker": everything}
