"""The portal's AWS CDK app: one stack (``infra.stack``) composed of one construct per concern.

``config`` (typed, validated CDK context) -> ``identity`` (Cognito or your own OIDC issuer) -> ``secrets`` ->
``function`` (bundle, role, least-privilege IAM) -> ``api`` (REST API, network restrictions, custom domain)
-> ``waf`` -> ``monitoring``; ``nag`` applies cdk-nag's AWS Solutions rules to it all.
"""
