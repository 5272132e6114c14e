"""API Gateway (REST) entry point: refuse what is not a REST proxy event, then route (portal.routes).

``portal.handler.handler`` is the function's handler; the routes live in portal.routes, the request and
response helpers in portal.web.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from portal import (
    routes,  # noqa: F401  (registers the routes on the resolver)
    runtime,
)
from portal.deadline import request_deadline, share_one_cpu
from portal.observability import logger, metrics, trace_handler
from portal.web import app, is_rest_api_event

__all__ = ["app", "handler"]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@trace_handler
@metrics.log_metrics
def handler(event: dict, context: Any) -> dict:
    if not is_rest_api_event(event):
        return {"statusCode": HTTPStatus.BAD_REQUEST, "headers": {"Content-Type": "text/plain"},
                "body": "Bad request"}
    with request_deadline(context):
        return app.resolve(event, context)


# Before anything starts a worker thread: they inherit the handler's CPU (portal/deadline.py).
share_one_cpu()
# SnapStart's init (once per published version) builds and warms everything here, so that a restored copy's
# first request does only its own work; an ordinary cold start builds on first use (portal/runtime.py).
runtime.initialise()
