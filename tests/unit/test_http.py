"""The IdP client's errors: what they name reaches log lines, so never a query, a fragment or user information."""

from __future__ import annotations

import pytest

from portal.http import HttpError, JsonHttpClient


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_failed_call_names_the_endpoint_without_query_fragment_or_user_information(method):
    # Nothing listens on port 1: the connection is refused at once.
    url = "http://portal:hunter2@127.0.0.1:1/token?code=the-code#frag"
    client = JsonHttpClient(retries=0)
    with pytest.raises(HttpError) as failed:
        client.get_json(url) if method == "get" else client.post_form(url, {"code": "the-code"})
    message = str(failed.value)
    assert message.startswith(("GET http://127.0.0.1:1/token ", "POST http://127.0.0.1:1/token "))
    assert not [secret for secret in ("hunter2", "portal", "the-code", "frag") if secret in message]
