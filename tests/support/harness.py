"""A warm portal container driven with REST API events: a scripted IdP, a stubbed SageMaker."""

from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.stub import Stubber

from portal import runtime
from portal.aws import AwsGateway
from portal.config import load_settings
from portal.handler import handler
from portal.signin import TRANSACTION_PREFIX
from tests.support.events import API_HOST, FakeContext, event_for_url, header, set_cookies
from tests.support.tokens import FakeHttp, ScriptedIdentityProvider

DOMAIN = "d-demo0portal01"
BASE = f"https://{API_HOST}/prod"
PRESIGNED = "https://d-demo0portal01.studio.us-east-1.sagemaker.aws/auth?token=BEARER-SECRET"
ENV = {
    "PORTAL_OIDC_ISSUER": "https://idp.example.test",
    "PORTAL_OIDC_CLIENT_ID": "portal-client",
    "PORTAL_OIDC_CLIENT_SECRET": "client-secret-value",
    "PORTAL_SESSION_KEY": "s" * 48,
    "PORTAL_DOMAIN_ID": DOMAIN,
}


# One session for every container: it caches botocore's service models, which are slow to load.
_SESSION = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")


class Portal:
    """One warm container: the handler, its IdP and its stubbed SageMaker."""

    def __init__(self, env=None, gateway=None):
        """``gateway``: an AwsGateway of the test's own instead of the stubbed SageMaker."""
        settings = load_settings(ENV | (env or {}))
        self.idp = ScriptedIdentityProvider(issuer=settings.oidc_issuer)
        self.http = FakeHttp(self.idp)
        session = _SESSION
        self.sagemaker = session.client("sagemaker")
        self.stubber = Stubber(self.sagemaker)
        self.stubber.activate()
        if gateway is None:
            gateway = AwsGateway(session, clients={("sagemaker", None): self.sagemaker})
        runtime.install(runtime.build(settings, gateway, http=self.http))
        self.cookies: dict[str, str] = {}

    def get(self, url_or_path, **kwargs):
        event = event_for_url(url_or_path.removeprefix(BASE), cookies=self.cookies, **kwargs)
        response = handler(event, FakeContext())
        for name, morsel in set_cookies(response).items():
            if morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return response

    def transactions(self) -> dict[str, str]:
        """The sign-in transaction cookies the browser holds (one per sign-in in progress)."""
        return {name: value for name, value in self.cookies.items() if name.startswith(TRANSACTION_PREFIX)}

    def start_sign_in(self, path="/"):
        """Open ``path`` signed out: the state and nonce of the authorize redirect it answers with."""
        start = self.get(path)
        assert start["statusCode"] == 302, start
        query = parse_qs(urlsplit(header(start, "Location")).query)
        return query["state"][0], query["nonce"][0]

    def finish_sign_in(self, state, nonce, **claims):
        self.idp.next_id_token = self.idp.sign(self.idp.claims(nonce=nonce, **claims))
        return self.get(f"/callback?code=the-code&state={state}")

    def expect_launch(self, profile="alice", owner="alice@example.com", status="InService", url=PRESIGNED,
                      presign_params=None):
        """DescribeUserProfile, ListTags and (in service) CreatePresignedDomainUrl, whose request must carry
        ``presign_params`` on top of the domain and profile when given."""
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:user-profile/{DOMAIN}/{profile}"
        self.stubber.add_response("describe_user_profile", {"UserProfileArn": arn, "Status": status})
        self.stubber.add_response("list_tags", {"Tags": [{"Key": "studiouserid", "Value": owner}]})
        if status == "InService":
            expected = None
            if presign_params is not None:
                expected = {"DomainId": DOMAIN, "UserProfileName": profile, "ExpiresInSeconds": 30,
                            "SessionExpirationDurationInSeconds": 43200, **presign_params}
            self.stubber.add_response("create_presigned_domain_url", {"AuthorizedUrl": url}, expected)

    def sign_in(self, path="/", **claims):
        """Sign in from ``path``; the callback answers with what ``path`` leads to (a launch for `/`)."""
        return self.finish_sign_in(*self.start_sign_in(path), **claims)


