"""Who signs users in: a Cognito user pool made by the stack (optionally federated to the corporate IdP), or
any OpenID Connect issuer the organisation already runs.

Either way the function ends up with the same four facts (:class:`OidcWiring`): the issuer, the client id
(or none, when the secret's JSON carries it), where the client secret lives, and what IAM must allow so the
function can read it.

Breaking the dependency cycle
-----------------------------
The Cognito app client needs the portal's callback URL, which is the API's URL; the API's integration refers
to the function; so the function must not refer to the client. The client secret is therefore stored in a
secret whose *name* is fixed at synth (``<stack name>/oidc-client``). The function receives that literal name
(``PORTAL_OIDC_CLIENT_SECRET_ARN`` accepts a name) and reads ``client_id`` from the secret's JSON, and IAM is
scoped to ``arn:...:secret:<name>-??????``. Nothing in the function, its role or its policy refers to the
client or the secret resource, so CloudFormation sees no cycle:
``client -> API stage -> API -> function -> user pool`` and ``secret -> client``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import (
    ArnFormat,
    Duration,
    Fn,
    RemovalPolicy,
    SecretValue,
    Stack,
)
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.config import COGNITO_PREFIX_RESERVED, CognitoSettings, ExternalOidc, OidcFederation, SamlFederation
from infra.nag import suppress

OIDC_SCOPES = (cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE)


@dataclass(frozen=True)
class OidcWiring:
    """What the function needs to know about its OpenID Connect client."""

    issuer: str  # PORTAL_OIDC_ISSUER
    client_id: str | None  # PORTAL_OIDC_CLIENT_ID; None: read from the secret's JSON
    client_secret_id: str  # PORTAL_OIDC_CLIENT_SECRET_ARN: an ARN, or a secret name
    client_secret_resource: str  # the IAM resource for secretsmanager:GetSecretValue
    kms_key_arn: str | None = None  # a customer managed key the secret is encrypted with
    # The stack's own authorization request parameters (PORTAL_OIDC_AUTHORIZE_PARAMS, before oidcAuthorizeParams).
    authorize_params: tuple[tuple[str, str], ...] = ()


def external_oidc_wiring(settings: ExternalOidc) -> OidcWiring:
    """Bring your own issuer: the operator registered the portal as a confidential client and stored the
    client secret in Secrets Manager; IAM allows exactly that secret."""
    return OidcWiring(
        issuer=settings.issuer,
        client_id=settings.client_id,
        client_secret_id=settings.client_secret_arn,
        client_secret_resource=settings.client_secret_arn,
        kms_key_arn=settings.client_secret_kms_key_arn,
    )


def client_secret_name(stack_name: str) -> str:
    """The literal name of the secret holding the Cognito app client's id and secret."""
    return f"{stack_name}/oidc-client"


def default_domain_prefix(stack_name: str) -> str:
    """``<stack name>-<account id>``, lowercased, without the words Cognito reserves."""
    base = stack_name.lower()
    for word in COGNITO_PREFIX_RESERVED:
        base = base.replace(word, "")
    base = re.sub(r"-+", "-", base).strip("-")[:40].strip("-")
    return base or "studio-portal"


class CognitoIdentity(Construct):
    """A user pool for the portal: no self sign-up, case-insensitive usernames, MFA for local users,
    deletion protection, a managed login domain and (optionally) the corporate IdP as the only way in.

    The app client is added later with :meth:`add_portal_client`, once the portal's URL is known.
    """

    def __init__(self, scope: Construct, construct_id: str, *, stack_name: str, settings: CognitoSettings) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.stack_name = stack_name
        stack = Stack.of(self)
        plus = settings.feature_plan == "plus"
        mfa = {"required": cognito.Mfa.REQUIRED, "optional": cognito.Mfa.OPTIONAL, "off": cognito.Mfa.OFF}

        self.user_pool = cognito.UserPool(
            self, "UserPool",
            user_pool_name=f"{stack_name}-users",
            self_sign_up_enabled=False,  # administrators create users, or the corporate IdP provides them
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                # mutable: attributes mapped from a federated IdP are rewritten at every sign-in
                email=cognito.StandardAttribute(required=True, mutable=True),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=mfa[settings.mfa],
            mfa_second_factor=(None if settings.mfa == "off"
                               else cognito.MfaSecondFactor(otp=True, sms=False)),  # TOTP: no SMS role
            password_policy=cognito.PasswordPolicy(
                min_length=14, require_lowercase=True, require_uppercase=True, require_digits=True,
                require_symbols=True, temp_password_validity=Duration.days(3),
            ),
            feature_plan=cognito.FeaturePlan.PLUS if plus else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus
                                             else None),
            # Cognito's own sender is meant for testing (a small daily quota); SES sends invitations at scale.
            email=None if settings.email_from is None else cognito.UserPoolEmail.with_ses(
                from_email=settings.email_from, ses_region=settings.email_ses_region or stack.region),
            deletion_protection=True,
            # Users, their MFA enrolments and federation links outlive the stack; delete the pool by hand.
            removal_policy=RemovalPolicy.RETAIN,
        )
        if settings.mfa != "required":
            suppress(self.user_pool, "AwsSolutions-COG2",
                     f"MFA is '{settings.mfa}' for users local to the pool by the operator's choice (context "
                     "cognitoMfa). Federated users are authenticated, MFA included, by the corporate IdP.")
        if not plus:
            suppress(self.user_pool, "AwsSolutions-COG8",
                     "Essentials without threat protection: the default when users come from the corporate IdP "
                     "(threat protection only covers users local to the pool; federated users are protected by "
                     "the IdP's own risk checks), or the operator's explicit choice (cognitoFeaturePlan=essentials) "
                     "to keep the per-user price low. With local users the default is Plus (docs/deploy.md).")

        prefix = settings.domain_prefix or Fn.join("-", [default_domain_prefix(stack_name), stack.account])
        # Managed login (version 2): it also walks local users through TOTP enrolment when MFA is required.
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix),
            managed_login_version=cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN)

        self.provider: cognito.IUserPoolIdentityProvider | None = None
        federation = settings.federation
        if isinstance(federation, SamlFederation):
            self.provider = cognito.UserPoolIdentityProviderSaml(
                self, "Saml",
                user_pool=self.user_pool,
                name=federation.provider_name,
                metadata=cognito.UserPoolIdentityProviderSamlMetadata.url(federation.metadata_url),
                # Cognito marks mapped emails unverified unless the IdP says otherwise, and the portal
                # refuses unverified emails: the IdP app sends an attribute with the value "true".
                attribute_mapping=cognito.AttributeMapping(
                    email=cognito.ProviderAttribute.other(federation.email_attribute),
                    email_verified=cognito.ProviderAttribute.other(federation.email_verified_attribute)),
                # ProviderDetails IDPSignout: Cognito's /logout sends a signed SAML LogoutRequest to the IdP's
                # SingleLogoutService; only when the IdP is set up for it (docs/deploy.md, samlIdpSignout).
                idp_signout=federation.idp_signout,
            )
        elif isinstance(federation, OidcFederation):
            self.provider = cognito.UserPoolIdentityProviderOidc(
                self, "Oidc",
                user_pool=self.user_pool,
                name=federation.provider_name,
                issuer_url=federation.issuer,
                client_id=federation.client_id,
                # A dynamic reference: CloudFormation reads the secret at deploy time, the template holds
                # only its ARN.
                client_secret=SecretValue.secrets_manager(federation.client_secret_arn).unsafe_unwrap(),
                scopes=["openid", "email", "profile"],
                attribute_request_method=cognito.OidcAttributeRequestMethod.GET,
                attribute_mapping=cognito.AttributeMapping(
                    email=cognito.ProviderAttribute.other("email"),
                    email_verified=cognito.ProviderAttribute.other("email_verified")),
            )

        self.secret_name = client_secret_name(stack_name)
        self.client: cognito.UserPoolClient | None = None
        self.client_secret: secretsmanager.Secret | None = None

    @property
    def issuer(self) -> str:
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.user_pool.user_pool_id}"

    @property
    def login_base_url(self) -> str:
        return self.domain.base_url()

    @property
    def saml_entity_id(self) -> str:
        """The SP entity id (audience) to register at a SAML IdP."""
        return f"urn:amazon:cognito:sp:{self.user_pool.user_pool_id}"

    @property
    def federation_redirect_url(self) -> str:
        """Where the corporate IdP sends users back to Cognito (SAML ACS URL or OIDC redirect URI)."""
        path = "saml2/idpresponse" if isinstance(self.settings.federation, SamlFederation) else "oauth2/idpresponse"
        return f"{self.login_base_url}/{path}"

    @property
    def wiring(self) -> OidcWiring:
        """No reference to the client or its secret: only the literal secret name (see module docstring)."""
        stack = Stack.of(self)
        federation = self.settings.federation
        return OidcWiring(
            issuer=self.issuer,
            # Named in the authorize request, Cognito skips its own page and goes straight to the corporate IdP
            # ("SAML identity provider names and identifiers", Cognito developer guide).
            authorize_params=(("identity_provider", federation.provider_name),) if federation else (),
            client_id=None,
            client_secret_id=self.secret_name,
            client_secret_resource=stack.format_arn(
                service="secretsmanager", resource="secret", resource_name=f"{self.secret_name}-??????",
                arn_format=ArnFormat.COLON_RESOURCE_NAME),
        )

    def add_portal_client(self, *, callback_url: str, logout_url: str) -> cognito.UserPoolClient:
        """The portal's confidential client (authorization code grant) and the secret the function reads."""
        federation = self.settings.federation
        providers = ([cognito.UserPoolClientIdentityProvider.custom(federation.provider_name)] if federation
                     else [cognito.UserPoolClientIdentityProvider.COGNITO])
        # A new construct id (cognitoClientGeneration) makes CloudFormation create a new client, with a new
        # secret, update the secret below, then delete the old client: that is how the secret is rotated.
        generation = self.settings.client_generation
        suffix = "" if generation == 1 else str(generation)
        client = self.user_pool.add_client(
            f"PortalClient{suffix}",
            user_pool_client_name="studio-portal",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=list(OIDC_SCOPES),
                callback_urls=[callback_url],
                logout_urls=[logout_url],
            ),
            supported_identity_providers=providers,
            # No password or SRP flows through the API: users sign in on the managed login pages only.
            auth_flows=cognito.AuthFlow(user_srp=False),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            # The portal uses the ID token once, at the callback, then keeps its own session cookie.
            id_token_validity=Duration.minutes(60),
            access_token_validity=Duration.minutes(60),
            refresh_token_validity=Duration.minutes(60),
            auth_session_validity=Duration.minutes(5),
            read_attributes=cognito.ClientAttributes().with_standard_attributes(
                email=True, email_verified=True, preferred_username=True, fullname=True),
            # Federation rewrites the mapped attributes at each sign-in, which needs them writable: keep
            # Cognito's default then. The portal never hands Cognito tokens to the browser either way.
            write_attributes=None if federation else cognito.ClientAttributes(),
        )
        if self.provider is not None:
            client.node.add_dependency(self.provider)

        # Managed login pages need a style for the client; Cognito's default look is enough.
        cognito.CfnManagedLoginBranding(self, f"LoginBranding{suffix}", user_pool_id=self.user_pool.user_pool_id,
                                        client_id=client.user_pool_client_id, use_cognito_provided_values=True)

        cfn_client = client.node.default_child
        assert isinstance(cfn_client, cognito.CfnUserPoolClient)
        secret = secretsmanager.Secret(
            self, "ClientSecret",
            secret_name=self.secret_name,
            description="OIDC client id and secret of the Studio portal's Cognito app client (JSON)",
            secret_object_value={
                "client_id": SecretValue.unsafe_plain_text(client.user_pool_client_id),
                # Fn::GetAtt ClientSecret: CloudFormation's own attribute, no custom resource needed.
                "client_secret": SecretValue.resource_attribute(cfn_client.attr_client_secret),
            },
            # Derived from the app client, which the stack deletes too; CloudFormation deletes secrets
            # without a recovery window, so the literal name is free again for a later deploy.
            removal_policy=RemovalPolicy.DESTROY,
        )
        suppress(secret, "AwsSolutions-SMG4",
                 "This secret mirrors the Cognito app client's secret, generated by Cognito and copied by "
                 "CloudFormation (no person handles it); Secrets Manager rotation cannot change a Cognito client "
                 "secret. It is rotated by replacing the client: bump cognitoClientGeneration (docs/deploy.md).")
        self.client = client
        self.client_secret = secret

        return client

