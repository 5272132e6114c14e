"""What can go wrong, as the person at the browser should hear it.

Each error names the page that explains it and the HTTP status; the handler maps them to responses.
Messages here are shown to users, so they never carry internal details.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, ClassVar

from portal.i18n import N_, Text


class PortalError(Exception):
    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    page: str = "error_unavailable.html"
    reason: str = "error"  # metric dimension and log field
    default_message: Text | None = None  # N_(): shown in the reader's language
    # Every other value the page reads, with what it shows when a raise gives none (routes fill in `identity`),
    # so each page renders from its error's own context (tests/unit/test_pages_context.py, StrictUndefined).
    page_defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, detail: str = "", **page_context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # Values the page may show (profile name, status); never secrets, never internals.
        self.page_context = {"message": self.default_message, **self.page_defaults, **page_context}


class BadRequest(PortalError):
    status = HTTPStatus.BAD_REQUEST
    page = "error_bad_request.html"
    reason = "bad_request"


class SignInFailed(PortalError):
    status = HTTPStatus.UNAUTHORIZED
    page = "error_signin.html"
    reason = "signin_failed"
    page_defaults = {"cancelled": False}


class ClientRejected(SignInFailed):
    """The token endpoint refused the portal's client credentials (``invalid_client``): rotated, or wrong."""

    reason = "client_rejected"


class SignInCancelled(SignInFailed):
    status = HTTPStatus.FORBIDDEN
    reason = "signin_cancelled"


class IdentityProviderUnavailable(PortalError):
    status = HTTPStatus.BAD_GATEWAY
    page = "error_unavailable.html"
    reason = "idp_unavailable"
    default_message = N_("The sign-in service is not answering.")


class IdentityUnusable(PortalError):
    status = HTTPStatus.FORBIDDEN
    page = "error_identity.html"
    reason = "identity_unusable"


class ProfileNotFound(PortalError):
    status = HTTPStatus.NOT_FOUND
    page = "error_no_profile.html"
    reason = "profile_not_found"
    page_defaults = {"profile": None, "target_label": None, "identity": None}


class ProfileNotOwned(PortalError):
    status = HTTPStatus.FORBIDDEN
    page = "error_not_yours.html"
    reason = "profile_not_owned"
    page_defaults = {"profile": None, "target_label": None, "domain_id": None, "owner_tag": None,
                     "provisions": False, "identity": None}


class ProvisioningRefused(PortalError):
    """The target creates profiles, but not for identities outside its e-mail domains."""

    status = HTTPStatus.FORBIDDEN
    page = "error_not_provisioned.html"
    reason = "provisioning_refused"
    page_defaults = {"profile": None, "target_label": None, "email_domains": (), "identity": None}


class ProfileRevoked(PortalError):
    """An administrator withdrew this person's access to the profile (`python -m portal.admin revoke`)."""

    status = HTTPStatus.FORBIDDEN
    page = "error_revoked.html"
    reason = "profile_revoked"
    page_defaults = {"profile": None, "target_label": None, "identity": None}


class ProfileNotReady(PortalError):
    status = HTTPStatus.CONFLICT
    page = "error_not_ready.html"
    reason = "profile_not_ready"
    page_defaults = {"profile": None, "profile_status": None, "stuck": False}


class DomainUnusable(PortalError):
    """The domain is missing or not in IAM auth mode: the portal is pointed at the wrong place."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    page = "error_domain.html"
    reason = "domain_unusable"
    page_defaults = {"problem": None}


class AwsRefused(PortalError):
    status = HTTPStatus.BAD_GATEWAY
    page = "error_refused.html"
    reason = "aws_refused"


class AwsUnavailable(PortalError):
    status = HTTPStatus.SERVICE_UNAVAILABLE
    page = "error_unavailable.html"
    reason = "aws_unavailable"


class AwsThrottled(AwsUnavailable):
    """AWS throttled the call even after the SDK's retries: the same page, counted apart (the dashboard)."""

    reason = "aws_throttled"


class PortalMisconfigured(PortalError):
    # Its page promises no alert and no quick fix: nobody may have been told, and waiting changes nothing.
    status = HTTPStatus.SERVICE_UNAVAILABLE
    page = "error_misconfigured.html"
    reason = "misconfigured"


class ProfilePreparing(PortalError):
    """Not a failure: the profile is being created; the page checks back until it is in service."""

    status = HTTPStatus.ACCEPTED
    page = "preparing.html"
    reason = "profile_preparing"
    page_defaults = {"profile": None, "target_label": None}


class TargetNotFound(PortalError):
    status = HTTPStatus.NOT_FOUND
    page = "error_bad_request.html"
    reason = "target_not_found"
    default_message = N_("The link names a Studio that this portal does not know.")


class TargetNotAllowed(PortalError):
    status = HTTPStatus.FORBIDDEN
    page = "error_not_allowed.html"
    reason = "target_not_allowed"
    page_defaults = {"space": None, "target_label": None, "identity": None}


class SpaceNotFound(PortalError):
    status = HTTPStatus.NOT_FOUND
    page = "error_bad_request.html"
    reason = "space_not_found"
    default_message = N_("The link names a Studio space that does not exist.")


class SpaceNotAllowed(PortalError):
    status = HTTPStatus.FORBIDDEN
    page = "error_not_allowed.html"
    reason = "space_not_allowed"
    page_defaults = {"space": None, "target_label": None, "identity": None}


# AWS's answers (portal.aws signals, by their `kind`) that no logic module handled, as the page a person sees.
_PAGES_FOR_AWS: dict[str, type[PortalError]] = {"throttled": AwsThrottled, "unavailable": AwsUnavailable}


def for_aws(signal: Exception) -> PortalError:
    """The page for an AWS-level signal of portal.aws: throttling and outages are "can't be opened right now",
    everything else (a refusal, or an answer the logic did not expect) is "AWS refused"."""
    page = _PAGES_FOR_AWS.get(getattr(signal, "kind", ""), AwsRefused)
    return page(str(signal))

