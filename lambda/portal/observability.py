"""Logger, Tracer and Metrics for the whole function, and the guard that keeps credentials out of logs.

botocore logs whole response bodies at DEBUG (that includes the presigned URL) and urllib3 logs request
lines with query strings (authorization codes), so library loggers are held at WARNING whatever the
function's own LOG_LEVEL is.
"""

from __future__ import annotations

import logging
import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "sagemaker-studio-portal"
LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "jwt", "aws_xray_sdk", "jinja2",
                   "aws_lambda_powertools")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "StudioPortal")


def quiet_library_loggers() -> None:
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


quiet_library_loggers()
# A request that records no metric (health checks) is normal, not worth a warning per request.
warnings.filterwarnings("ignore", message="No application metrics to publish")
