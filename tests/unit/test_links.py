import pytest

from portal.errors import BadRequest
from portal.links import LaunchRequest, deep_link, parse_launch_request


def q(**params):
    return {name: [value] for name, value in params.items()}


@pytest.mark.parametrize("params, landing", [
    ({}, None),
    ({"app": "JupyterLab"}, "app:JupyterLab:"),
    ({"app": "CodeEditor", "path": "src/train.py"}, "app:CodeEditor:src/train.py"),
    ({"app": "studio", "path": "jobs"}, "studio::jobs"),
    ({"path": "lab/tree/notebooks"}, "studio::lab/tree/notebooks"),
    ({"app": "Canvas"}, "app:Canvas:"),
    ({"app": "RStudioServerPro"}, "app:RStudioServerPro:"),
    ({"app": "JupyterServer", "path": "tree"}, "app:JupyterServer:tree"),
])
def test_landing_uri(params, landing):
    assert parse_launch_request(q(target="t", **params)).landing_uri() == landing


@pytest.mark.parametrize("params", [
    {"target": "UPPER"}, {"target": "a/b"}, {"space": "my_space"}, {"space": "-x"}, {"space": "a" * 64},
    {"app": "VSCode"}, {"app": "jupyterlab"},
    {"path": "/etc/passwd"}, {"path": "../x"}, {"path": "a/../../b"}, {"path": "a/%2e%2e/b"}, {"path": "a%2F..%2Fb"},
    {"path": "https://evil.example"}, {"path": "javascript:alert(1)"}, {"path": "a\\b"}, {"path": "a\r\nb"},
    {"path": "x" * 901}, {"path": "\\\\evil"},
])
def test_bad_parameters_are_refused(params):
    with pytest.raises(BadRequest):
        parse_launch_request(q(**params))


def test_repeated_parameters_are_refused():
    with pytest.raises(BadRequest):
        parse_launch_request({"target": ["a", "b"]})


def test_unknown_parameters_are_ignored_and_empty_ones_are_absent():
    assert parse_launch_request({"utm_source": ["mail"], "space": [""]}) == LaunchRequest()


def test_deep_link_round_trip():
    request = LaunchRequest(target="ml", space="team-shared", app="JupyterLab", path="lab/tree/a b.ipynb")
    link = deep_link("https://portal.example/prod", request)
    assert link == "https://portal.example/prod/?target=ml&space=team-shared&app=JupyterLab&path=lab/tree/a%20b.ipynb"
    from urllib.parse import parse_qs, urlsplit

    assert parse_launch_request(parse_qs(urlsplit(link).query)) == request


DOT_SEGMENTS = [
    ".", "./x", "a/./b", "a/.", "..", "a/..", ".%2e", "%2e.", "%2e%2e", "%2E%2E/x", "a/.%2E/b", "%252e%252e",
    "a/%252e%252e/b", "%25252e%25252e", "a%2f..%2fb", "a%2F.%2Fb", "lab/tree/%2e%2e%2f%2e%2e%2fetc", "..%5cb",
    "%5c%5cevil", "a\\b", "%255c", "%c0%ae%c0%ae", "%2e%2e%c0%af", "%u002e%u002e", "%252525252e%252525252e",
]
UNSAFE = ["a:b", "a?b", "a#b", "a;b", "a&b", "a%00b", "a%0d%0ab", "caf\u00e9", "a\u200bb", "a%e2%80%8bb", "a'b", "a<b",
          "%2fetc", "%252fetc", "100%", "a%zzb", "a\tb"]


@pytest.mark.parametrize("path", DOT_SEGMENTS + UNSAFE, ids=ascii)
def test_paths_that_could_climb_out_or_be_read_differently_are_refused(path):
    with pytest.raises(BadRequest, match="path"):
        parse_launch_request(q(path=path))


@pytest.mark.parametrize("path, decoded", [
    ("lab/tree/a b.ipynb", "lab/tree/a b.ipynb"),
    ("lab/tree/a%20b.ipynb", "lab/tree/a b.ipynb"),
    ("lab/tree/notebooks/", "lab/tree/notebooks/"),
    ("a..b/c.d/...", "a..b/c.d/..."),
    ("src/train_v2-(final).py", "src/train_v2-(final).py"),
    ("lab/tree/x%252By", "lab/tree/x+y"),
])
def test_safe_paths_are_taken_decoded(path, decoded):
    assert parse_launch_request(q(path=path)).path == decoded
