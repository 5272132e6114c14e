"""One container: import a handler, then either serve it cold and warm, or snapshot it and restore copies.

Run by bench/__main__.py as ``python -S -m bench.child <bare|floor|portal|side-by-side> <event-json-file>
<warm-launches> [restore <copies>]`` with PYTHONPATH naming what the handler may import (the portal's Lambda
bundle, or the SDK for the bare handler, and the runtime's snapshot_restore_py).

cold (default)  the first launch with a valid session after the process started (on-demand cold start), peak
                memory after it, the median warm launch and the AWS calls per warm launch (from the simulator's
                call log, read outside the timed region)
restore         the import is the init (the environment says snap-start for the portal); then ``copies``
                restored copies (bench/snapshot.py: a fork each), each timed from the fork to its first
                completed launch with a valid session; then as many copies that each walk the signed-out flow
                (bookmark -> IdP -> callback -> Studio), timing the portal's requests
side-by-side    the floor and the portal in one process (the portal's bundle), each launched once, then warm in
                alternating blocks (floor first, then portal first, ...) of ``SIDE_BY_SIDE_BLOCK`` launches,
                ``warm-launches`` each (in whole blocks, at least one): the warm comparison without the
                difference one process makes from another (memory layout, which CPU), both handlers on the one
                CPU the portal's import keeps the process to
Prints one JSON line. Its standard output is flushed on every write, as Lambda's Python runtime makes it
(``Unbuffered`` in awslambdaric's bootstrap.py): each log line and metrics blob is written out during the
request that made it, for every handler alike.
"""

import sys
import time

STARTED = time.time()


class Unbuffered:
    """Lambda's runtime wraps stdout and stderr so that every write reaches the log at once."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        written = self.stream.write(text)
        self.stream.flush()
        return written

    def writelines(self, lines):
        self.stream.writelines(lines)
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


sys.stdout, sys.stderr = Unbuffered(sys.stdout), Unbuffered(sys.stderr)

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402


class LambdaContext:
    function_name = "portal"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 25_000


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


def location_of(response: dict) -> str:
    headers = response.get("multiValueHeaders") or {}
    return (headers.get("Location") or [(response.get("headers") or {}).get("Location", "")])[0]


def into_studio(response: dict) -> bool:
    """A 302 into the (simulated) Studio: a launch, not a redirect to sign in."""
    return response["statusCode"] == 302 and location_of(response).startswith(os.environ["AWS_ENDPOINT_URL_SAGEMAKER"])


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def signed_out_flow(handler, context) -> dict:
    """A person with no session opens the bookmark: portal -> IdP -> portal's callback -> Studio (the callback
    answers with the launch itself; any redirect back into the portal would be followed and counted)."""
    from tests.support.events import API_HOST, event_for_url, rest_event, set_cookies

    base = f"https://{API_HOST}/prod"
    jar: dict[str, str] = {}
    portal_seconds: list[float] = []

    def portal(event):
        started = time.perf_counter()
        response = handler(event, context)
        portal_seconds.append(time.perf_counter() - started)
        for name, morsel in set_cookies(response).items():
            if morsel["max-age"] in ("0", "-1"):
                jar.pop(name, None)
            else:
                jar[name] = morsel.value
        return response

    bookmark = portal(rest_event("/", cookies=dict(jar)))
    # The browser at the IdP (not the portal's time): it answers with the redirect to the callback
    try:
        urllib.request.build_opener(_NoRedirects).open(location_of(bookmark))
        raise AssertionError("the IdP did not redirect")
    except urllib.error.HTTPError as redirect:
        callback_url = redirect.headers["Location"]
    response = portal(event_for_url(callback_url.removeprefix(base), cookies=dict(jar)))
    # The browser follows the portal's own redirects (if any) until it leaves the portal: into Studio
    while response["statusCode"] == 302 and location_of(response).startswith(f"{base}/") and len(portal_seconds) < 6:
        response = portal(event_for_url(location_of(response).removeprefix(base), cookies=dict(jar)))
    assert into_studio(response), response
    return {"requests": len(portal_seconds), "portal": sum(portal_seconds),
            "steps": [round(seconds * 1000, 2) for seconds in portal_seconds]}


def restore(handler, event, context, copies: int, flows: bool) -> dict:
    from bench.snapshot import restore_copies

    init = time.time() - STARTED

    def first_launch(forked_at: float) -> dict:
        response = handler(event, context)
        done = time.time()
        assert into_studio(response), response
        return {"restore": done - forked_at}

    launches = restore_copies(copies, first_launch)
    walked = restore_copies(copies, lambda forked_at: signed_out_flow(handler, context)) if flows else []
    failed = [copy["error"] for copy in launches + walked if "error" in copy]
    if failed:
        raise RuntimeError(f"a restored copy failed: {failed[0]}")
    result = {"init": init, "restore": statistics.median(copy["restore"] for copy in launches)}
    if walked:
        result.update(flow_portal=statistics.median(copy["portal"] for copy in walked),
                      flow_requests=walked[0]["requests"], flow_steps=walked[0]["steps"])
    return result


SIDE_BY_SIDE_BLOCK = 10


def side_by_side(event, context, warm_launches: int) -> dict:
    from bench.floor_handler import handler as floor
    from portal.handler import handler as portal

    handlers = {"floor": floor, "portal": portal}
    for name, handler in handlers.items():
        response = handler(event, context)
        assert into_studio(response), (name, response)
    times: dict[str, list[float]] = {name: [] for name in handlers}
    for block in range(max(1, warm_launches // SIDE_BY_SIDE_BLOCK)):
        for name in (("floor", "portal") if block % 2 == 0 else ("portal", "floor")):
            for _ in range(SIDE_BY_SIDE_BLOCK):
                started = time.perf_counter()
                response = handlers[name](event, context)
                times[name].append(time.perf_counter() - started)
                assert response["statusCode"] == 302, (name, response)
    import botocore

    return {"botocore": botocore.__file__, "launches": {name: len(taken) for name, taken in times.items()},
            **{name: statistics.median(taken) for name, taken in times.items()}}


def main() -> None:
    which, event_file, warm_launches = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "cold"
    with open(event_file) as handle:
        event = json.load(handle)
    context = LambdaContext()
    if which == "side-by-side":
        print(json.dumps(side_by_side(event, context, warm_launches)))
        return
    if which == "bare":
        from bench.bare_handler import handler
    elif which == "floor":
        from bench.floor_handler import handler
    else:
        from portal.handler import handler

    if mode == "restore":
        import botocore

        measured = restore(handler, event, context, int(sys.argv[5]), flows=which == "portal")
        print(json.dumps({**measured, "botocore": botocore.__file__}))
        return
    response = handler(event, context)
    done = time.time()
    assert into_studio(response), response
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
