"""One container: import a handler, serve a first launch with a valid session (cold), then warm launches.

Run by bench/__main__.py as `python -S -m bench.child <bare|floor|portal> <event-json-file> <warm-launches>`
with PYTHONPATH naming what the handler may import (the portal's Lambda bundle, or the SDK for the bare handler).
Reports the cold start, peak memory after the first launch, the median warm launch and the AWS calls per warm
launch (from the simulator's call log, read outside the timed region); prints one JSON line.
"""

import time

STARTED = time.time()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import urllib.request  # noqa: E402


class LambdaContext:
    function_name = "portal"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def peak_rss_kib() -> int:
    # VmHWM belongs to this program's own address space; ru_maxrss can carry the forking parent's peak.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def simulated_calls() -> int:
    with urllib.request.urlopen(f"{os.environ['AWS_ENDPOINT_URL_SAGEMAKER']}/_sim/calls") as answer:  # noqa: S310
        return len(json.load(answer)["calls"])


def main() -> None:
    which, event_file, warm_launches = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(event_file) as handle:
        event = json.load(handle)
    if which == "bare":
        from bench.bare_handler import handler
    elif which == "floor":
        from bench.floor_handler import handler
    else:
        from portal.handler import handler

    context = LambdaContext()
    response = handler(event, context)
    done = time.time()
    assert response["statusCode"] == 302, response
    rss_kib = peak_rss_kib()
    times = []
    calls_before = simulated_calls()
    # Log lines and metrics go to stdout, a file here, taken away by Lambda's runtime in a function.
    for _ in range(warm_launches):
        started = time.perf_counter()
        response = handler(event, context)
        times.append(time.perf_counter() - started)
        assert response["statusCode"] == 302, response
    calls = simulated_calls() - calls_before
    import botocore

    print(json.dumps({"done": done, "max_rss_kib": rss_kib, "botocore": botocore.__file__,
                      "warm": statistics.median(times) if times else None,
                      "warm_calls": calls / warm_launches if warm_launches else None}))


if __name__ == "__main__":
    main()
