"""The framework floor: the bare handler's one call inside the Powertools layers the portal runs on.

Event handler, Logger (Lambda context, correlation id), Metrics (one metric flushed per request) and, when
tracing is on, Tracer, as the portal uses them, and nothing of the portal's own: no session, no checks, no
audit line. ``make bench`` compares the portal with it to show what the framework itself costs a launch.
"""

import os

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

# The portal's client settings (retries, timeouts), so that they do not count as the portal's own work.
from portal.aws import _CLIENT_CONFIG

client = boto3.client("sagemaker", config=_CLIENT_CONFIG)
app = APIGatewayRestResolver()
logger = Logger(service="floor")
metrics = Metrics(service="floor", namespace="Floor")
# The portal's rule (portal/observability.py, not imported: it builds the portal's own Logger and Metrics).
traced = bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and \
    os.environ.get("POWERTOOLS_TRACE_DISABLED", "").strip().lower() not in ("1", "true")
if traced:
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service="floor")


@app.get("/")
def launch() -> Response:
    url = client.create_presigned_domain_url(DomainId=os.environ["PORTAL_DOMAIN_ID"], UserProfileName="alice",
                                             ExpiresInSeconds=30)["AuthorizedUrl"]
    metrics.add_metric(name="Launches", unit=MetricUnit.Count, value=1)
    return Response(status_code=302, headers={"Location": url})


def _handler(event, context):
    return app.resolve(event, context)


handler = metrics.log_metrics(_handler)
if traced:
    handler = tracer.capture_lambda_handler(capture_response=False)(handler)
handler = logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)(handler)
