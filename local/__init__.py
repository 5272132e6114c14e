"""Local tooling: run the whole portal flow on 127.0.0.1 without an AWS account.

- ``local.sagemaker_sim``: a SageMaker control plane (AWS JSON 1.1, validated against botocore's
  service model) plus the simulated Studio page where presigned URLs land.
- ``local.adapter``: turns HTTP requests into API Gateway REST (v1) proxy events for the handler.
- ``local.stack``: ``running_stack()`` starts the IdP, the simulator and the portal on loopback.
- ``local.dev``: ``python -m local.dev`` (``make dev``).

Nothing in this package is bundled into the Lambda function.
"""
