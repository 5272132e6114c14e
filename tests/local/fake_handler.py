"""A handler imported by name in the adapter tests (as the stack imports ``portal.handler:handler``)."""

import json


def handler(event, context):
    query = event.get("queryStringParameters") or {}
    return {"statusCode": 200, "body": json.dumps({"path": event["path"], "name": query.get("name")})}
