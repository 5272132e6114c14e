"""The bare reference: what a minimal launcher does, and nothing else (no sign-in, no checks)."""

import os

import boto3

client = boto3.client("sagemaker")


def handler(event, context):
    url = client.create_presigned_domain_url(DomainId=os.environ["PORTAL_DOMAIN_ID"], UserProfileName="alice",
                                             ExpiresInSeconds=30)["AuthorizedUrl"]
    return {"statusCode": 302, "headers": {"Location": url}, "body": ""}
