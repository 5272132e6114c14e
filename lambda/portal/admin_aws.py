"""The AWS calls only the administrator's command makes (`python -m portal.admin revoke | restore | who`).

Kept apart from portal.aws on purpose: the function never imports this module, so the Lambda bundle's botocore,
pruned to the operations portal.aws calls (infra/sdk_data.py), needs none of these. The command runs with the
operator's own credentials and the full SDK; errors are translated by portal.aws's one translation point, so
nothing above sees botocore here either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.aws import AwsGateway, translated

# ListUsers can filter on these standard attributes only (Cognito API reference, ListUsers `Filter`);
# custom attributes are not searchable.
COGNITO_SEARCHABLE = ("username", "email", "phone_number", "name", "given_name", "family_name",
                      "preferred_username", "sub")
# The ID token claim that carries each searchable attribute, where the names differ.
_CLAIM_TO_ATTRIBUTE = {"cognito:username": "username"}
GONE_APP_STATES = ("Deleted", "Deleting")


@dataclass(frozen=True)
class App:
    app_type: str
    name: str
    status: str
    space: str | None  # apps in a space (JupyterLab, Code Editor) ...
    profile: str | None  # ... or on the profile itself (Studio Classic, Canvas)

    @property
    def running(self) -> bool:
        return self.status not in GONE_APP_STATES

    def where(self) -> str:
        return f"in space {self.space}" if self.space else "on the profile"


class CognitoUserNotFound(Exception):
    """No user, or more than one, carries exactly the identity."""


class AdminGateway(AwsGateway):
    """AwsGateway plus the calls of the administrator's command."""

    # -- SageMaker --------------------------------------------------------------------------------
    def list_user_profiles(self, client: Any, domain_id: str) -> list[str]:
        names: list[str] = []
        request: dict[str, Any] = {"DomainIdEquals": domain_id, "MaxResults": 100}
        with translated("ListUserProfiles"):
            while True:
                answer = client.list_user_profiles(**request)
                names += [summary["UserProfileName"] for summary in answer.get("UserProfiles", [])]
                if not answer.get("NextToken"):
                    return names
                request["NextToken"] = answer["NextToken"]

    def delete_tags(self, client: Any, resource_arn: str, keys: list[str]) -> None:
        with translated("DeleteTags"):
            client.delete_tags(ResourceArn=resource_arn, TagKeys=keys)

    def list_apps(self, client: Any, domain_id: str, *, profile: str | None = None,
                  space: str | None = None) -> list[App]:
        """The apps of one profile or one space (ListApps takes one of the two)."""
        request: dict[str, Any] = {"DomainIdEquals": domain_id, "MaxResults": 100}
        if profile:
            request["UserProfileNameEquals"] = profile
        if space:
            request["SpaceNameEquals"] = space
        apps: list[App] = []
        with translated("ListApps"):
            while True:
                answer = client.list_apps(**request)
                apps += [App(app_type=item["AppType"], name=item["AppName"], status=item.get("Status", ""),
                             space=item.get("SpaceName"), profile=item.get("UserProfileName"))
                         for item in answer.get("Apps", [])]
                if not answer.get("NextToken"):
                    return apps
                request["NextToken"] = answer["NextToken"]

    def delete_app(self, client: Any, domain_id: str, app: App) -> None:
        owner = {"SpaceName": app.space} if app.space else {"UserProfileName": app.profile}
        with translated("DeleteApp"):
            client.delete_app(DomainId=domain_id, AppType=app.app_type, AppName=app.name, **owner)

    # -- Cognito ----------------------------------------------------------------------------------
    def _cognito(self, user_pool_id: str) -> Any:
        # A user pool id starts with its region: eu-west-1_AbC123.
        return self._client("cognito-idp", user_pool_id.split("_", 1)[0])

    def cognito_username(self, user_pool_id: str, identity_claim: str, identity: str) -> str:
        """The one user whose attribute behind `identity_claim` is exactly `identity`.

        ListUsers' `=` filter narrows the search; each answer is then compared exactly, because the filter
        follows the pool's own case rules. No match, or more than one, is refused rather than guessed.
        """
        attribute = _CLAIM_TO_ATTRIBUTE.get(identity_claim, identity_claim)
        if attribute not in COGNITO_SEARCHABLE:
            raise CognitoUserNotFound(
                f"Cognito cannot search users by {identity_claim!r} (ListUsers filters on "
                f"{', '.join(COGNITO_SEARCHABLE)} only); give --cognito-username")
        quoted = identity.replace("\\", "\\\\").replace('"', '\\"')
        request: dict[str, Any] = {"UserPoolId": user_pool_id, "Filter": f'{attribute} = "{quoted}"'}
        matches: list[str] = []
        with translated("ListUsers"):
            while True:
                answer = self._cognito(user_pool_id).list_users(**request)
                for user in answer.get("Users", []):
                    values = {item["Name"]: item.get("Value") for item in user.get("Attributes", [])}
                    values["username"] = user.get("Username")
                    if values.get(attribute) == identity:
                        matches.append(str(user["Username"]))
                if not answer.get("PaginationToken"):
                    break
                request["PaginationToken"] = answer["PaginationToken"]
        if len(matches) != 1:
            found = "no user" if not matches else f"{len(matches)} users ({', '.join(matches)})"
            raise CognitoUserNotFound(f"{found} in {user_pool_id} with {attribute} exactly {identity!r}")
        return matches[0]

    def _cognito_admin(self, method: str, operation: str, user_pool_id: str, username: str) -> None:
        with translated(operation):
            getattr(self._cognito(user_pool_id), method)(UserPoolId=user_pool_id, Username=username)

    def global_sign_out(self, user_pool_id: str, username: str) -> None:
        self._cognito_admin("admin_user_global_sign_out", "AdminUserGlobalSignOut", user_pool_id, username)

    def disable_user(self, user_pool_id: str, username: str) -> None:
        self._cognito_admin("admin_disable_user", "AdminDisableUser", user_pool_id, username)

    def enable_user(self, user_pool_id: str, username: str) -> None:
        self._cognito_admin("admin_enable_user", "AdminEnableUser", user_pool_id, username)
