"""The local analogue of SnapStart: initialise once, then restore copies by forking.

SnapStart runs the function's init once, runs the before-snapshot hooks, snapshots the memory, and on each cold
start restores a copy and runs the after-restore hooks before the first request. Here the init is the handler's
import in this process (with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``), a snapshot is this process's
memory, and a restore is ``os.fork()``: each child starts from exactly that memory. The hooks are the ones
registered with ``snapshot_restore_py``, run as Lambda's runtime runs them (before-snapshot in reverse order of
registration, after-restore in order), when that module is importable.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any


def _hooks(kind: str) -> list[tuple[Callable[..., Any], tuple, dict]]:
    try:
        import snapshot_restore_py
    except ImportError:
        return []
    if kind == "before":
        return list(reversed(snapshot_restore_py.get_before_snapshot()))
    return list(snapshot_restore_py.get_after_restore())


def run_hooks(kind: str) -> int:
    """Run the ``before`` (snapshot) or ``after`` (restore) hooks; how many ran."""
    hooks = _hooks(kind)
    for func, args, kwargs in hooks:
        func(*args, **kwargs)
    return len(hooks)


def restore_copies(count: int, work: Callable[[float], dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot once (the before hooks), then ``count`` restored copies one after the other: each is forked,
    runs the after hooks, then ``work(forked_at)``, whose result comes back as JSON through a pipe.
    ``forked_at`` is ``time.time()`` just before the fork. A copy that fails reports its error."""
    run_hooks("before")
    results = []
    for _ in range(count):
        read_end, write_end = os.pipe()
        sys.stdout.flush()  # or the copy would write this process's buffered output again
        sys.stderr.flush()
        forked_at = time.time()
        pid = os.fork()
        if pid == 0:  # the restored copy
            os.close(read_end)
            status = 0
            try:
                hooks = run_hooks("after")
                result = {**work(forked_at), "after_restore_hooks": hooks}
            except BaseException as error:  # reported to the parent, never raised past the fork
                result, status = {"error": f"{type(error).__name__}: {error}"}, 1
            with os.fdopen(write_end, "w") as pipe:
                pipe.write(json.dumps(result))
            sys.stdout.flush()
            os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            payload = pipe.read()
        os.waitpid(pid, 0)
        results.append(json.loads(payload))
    return results
