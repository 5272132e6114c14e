"""One cold container: import a handler, serve one launch with a valid session, report time and memory.

Run by bench/__main__.py as `python -m bench.child <bare|portal> <event-json-file>`; prints one JSON line.
"""

import time

STARTED = time.time()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402


def peak_rss_kib() -> int:
    # VmHWM belongs to this program's own address space; ru_maxrss can carry the forking parent's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    which, event_file = sys.argv[1], sys.argv[2]
    with open(event_file) as handle:
        event = json.load(handle)
    if which == "bare":
        from bench.bare_handler import handler
    else:
        from portal.handler import handler
    from tests.support.events import FakeContext

    response = handler(event, FakeContext())
    done = time.time()
    assert response["statusCode"] == 302, response
    rss_kib = peak_rss_kib()
    print(json.dumps({"imported_and_launched": done - STARTED, "done": done, "max_rss_kib": rss_kib}))


if __name__ == "__main__":
    main()
