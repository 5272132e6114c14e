"""The time by which the current request must have its answer, and calls to the IdP and AWS bounded by it.

Every request ends with the portal's own page at least MARGIN_SECONDS before the function's time runs out
(``context.get_remaining_time_in_millis()``), and never after API Gateway's 29 s, which would answer a bare
504 in its place. Timeouts and retries are therefore not added up per call: each call to a dependency runs
on a worker thread and is waited for only until the request's deadline (less what the page takes to render),
however it misbehaves (hangs, trickles, answers slowly, retries). A call given up on finishes, or fails, on
its own; its answer is dropped, and the IdP or AWS client below it stops retrying once it sees the deadline
passed (``check``).

Also on the main thread, where Lambda runs the handler. A call run there in place and interrupted at the deadline
by SIGALRM would save the hop (0.05-0.1 ms of a warm launch against the local simulator, docs/performance.md),
and was tried and reviewed: an exception raised asynchronously can land between a lock's acquire and the
``with`` that releases it (``threading.Condition.__enter__`` is Python code, and urllib3's connection pool
queue uses one), leaving a client's pool locked for the container's life; it can abort a library's clean-up and
put a half-read connection back in the pool for the next request; and a DNS lookup in the C library does not
give way to it. A worker that is given up on is only abandoned.

In Lambda the handler's thread and its workers share one CPU (:func:`share_one_cpu`): a hand-off to a worker
and back then wakes no idle CPU and moves no data between CPUs' caches, which took about 0.3 ms off each warm
launch against the local simulator (docs/performance.md). Nothing runs in parallel that could use a second CPU:
the threads take turns holding Python's lock, and a function with up to 1,769 MB gets at most one vCPU's time.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, TypeVar

# The answer leaves at least this long before the function would be stopped.
MARGIN_SECONDS = 1.0
# What turning a failure into a page takes after a dependency is given up on (rendering, logs, metrics): a few
# milliseconds on an idle core, up to 0.5 s measured on a 2-core machine at load 9. A container's first page
# also imports Jinja2 and compiles its templates: 0.15 s idle, up to 0.7 s at that load.
PAGE_RESERVE_SECONDS = 0.75
FIRST_PAGE_RESERVE_SECONDS = 1.25
# API Gateway's REST integration timeout: an answer later than this is replaced by its own 504.
API_GATEWAY_SECONDS = 29.0
# Calls given up on keep their worker until their own timeouts end them (2 s connect, 4-5 s read, a retry).
_WORKERS = 16

# How the portal knows it runs in Lambda: variables only Lambda's runtime sets, or its execution environment's name
# (ECS sets AWS_EXECUTION_ENV too, to AWS_ECS_FARGATE or AWS_ECS_EC2: "Amazon ECS environment variables").
LAMBDA_ONLY_VARIABLES = ("AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_INITIALIZATION_TYPE")
LAMBDA_EXECUTION_ENV_PREFIX = "AWS_Lambda_"
# "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide, Configure Lambda function
# memory); with more, its time spans CPUs and keeping to one would cap it.
ONE_VCPU_MEMORY_MB = 1769
# Set when Lambda Managed Instances run several processes of the function side by side (awslambdaric).
MULTI_CONCURRENCY_VARIABLE = "AWS_LAMBDA_MAX_CONCURRENCY"

T = TypeVar("T")
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("portal_deadline", default=None)
_pool = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="dependency-call")


def share_one_cpu(environ: Mapping[str, str] = os.environ) -> frozenset[int] | None:
    """In Lambda, keep the calling thread, and the workers it starts from now on, on one of the CPUs it may use
    (Linux affinity is per thread and inherited). Returns the CPUs it keeps to, or None where it changes nothing:
    outside Lambda; with more than one vCPU's worth of memory or several processes of the function (they would
    all crowd onto the same CPU); on one CPU already; or where the platform has no affinity or refuses it."""
    in_lambda = environ.get("AWS_EXECUTION_ENV", "").startswith(LAMBDA_EXECUTION_ENV_PREFIX) or \
        any(environ.get(name) for name in LAMBDA_ONLY_VARIABLES)
    memory = environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    more_than_one_cpu = memory.isdigit() and int(memory) > ONE_VCPU_MEMORY_MB
    if not in_lambda or more_than_one_cpu or MULTI_CONCURRENCY_VARIABLE in environ \
            or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return None
        chosen = frozenset({min(allowed)})
        os.sched_setaffinity(0, chosen)
    except OSError:  # a sandbox that refuses it: the threads keep every CPU, and the portal works as before
        return None
    return chosen


class DeadlineExceeded(Exception):
    """A dependency did not answer before the request's deadline."""


_pages_ready = False


def pages_ready() -> None:
    """Called once a page was rendered in this container: later requests keep the smaller reserve."""
    global _pages_ready
    _pages_ready = True


@contextmanager
def request_deadline(context: Any) -> Iterator[None]:
    """For the duration of one invocation: dependencies must answer by the deadline its context allows."""
    started = time.monotonic()
    budget = API_GATEWAY_SECONDS
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    # A context that cannot say (or says no number): API Gateway's limit still bounds the answer.
    with contextlib.suppress(Exception):
        budget = min(budget, remaining() / 1000) if callable(remaining) else budget
    reserve = PAGE_RESERVE_SECONDS if _pages_ready else FIRST_PAGE_RESERVE_SECONDS
    token = _deadline.set(started + budget - MARGIN_SECONDS - reserve)
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining() -> float | None:
    """Seconds left for dependencies in this request (None outside a request: no deadline, as in the admin
    command)."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def check(what: str) -> None:
    """Raise DeadlineExceeded when the deadline has passed (before starting another attempt of a call)."""
    left = remaining()
    if left is not None and left <= 0:
        raise DeadlineExceeded(what)


def call(what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)``, given up on with DeadlineExceeded when it has not answered by the
    deadline. Outside a request it simply runs."""
    left = remaining()
    if left is None:
        return function(*args, **kwargs)
    if left <= 0:
        raise DeadlineExceeded(what)
    # The worker sees this request's context: its deadline, and credentials bound to the call.
    future = _pool.submit(contextvars.copy_context().run, function, *args, **kwargs)
    try:
        return future.result(timeout=left)
    except FutureTimeout:
        future.cancel()
        raise DeadlineExceeded(what) from None
