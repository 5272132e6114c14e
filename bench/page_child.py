"""One container that serves a launch and then renders pages in one language: what a page costs, cold and warm.

Run by bench/__main__.py as `python -S -m bench.page_child <launch-event-file> <page-event-file> <renders>` with
PYTHONPATH naming the portal's Lambda bundle. After the cold launch (a redirect: no page) it records which of
the page machinery's modules are loaded (none should be), then times, each once: importing Jinja2 (the
pages' cost before translations), importing Jinja2's i18n extension and gettext (what translations add), and
the first page (template compiled, catalog read); then a catalog read on its own (best of several) and the
median warm page. Prints one JSON line.
"""

import json
import statistics
import sys
import time

PAGE_MODULES = ("jinja2", "jinja2.ext", "gettext", "markupsafe")


class LambdaContext:
    function_name = "portal"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:portal"
    aws_request_id = "00000000-0000-0000-0000-000000000000"


def main() -> None:
    launch_file, page_file, renders = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(launch_file) as handle:
        launch = json.load(handle)
    with open(page_file) as handle:
        page = json.load(handle)
    from portal.handler import handler

    context = LambdaContext()
    assert handler(launch, context)["statusCode"] == 302
    loaded_by_launch = [name for name in PAGE_MODULES if name in sys.modules]

    started = time.perf_counter()
    import jinja2

    jinja_loaded = time.perf_counter()
    import gettext  # noqa: F401

    import jinja2.ext  # noqa: F401

    i18n_loaded = time.perf_counter()
    response = handler(page, context)
    first_page_done = time.perf_counter()
    language = response["multiValueHeaders"]["Content-Language"][0]

    from portal import i18n

    loads = []
    for _ in range(20):
        i18n.translations.cache_clear()
        load_started = time.perf_counter()
        i18n.translations(language)
        loads.append(time.perf_counter() - load_started)
    times = []
    for _ in range(renders):
        render_started = time.perf_counter()
        handler(page, context)
        times.append(time.perf_counter() - render_started)
    print(json.dumps({"language": language, "status": response["statusCode"], "loaded_by_launch": loaded_by_launch,
                      "jinja_import": jinja_loaded - started, "i18n_import": i18n_loaded - jinja_loaded,
                      "first_page": first_page_done - i18n_loaded, "catalog_load": min(loads),
                      "warm_page": statistics.median(times)}))


if __name__ == "__main__":
    main()
