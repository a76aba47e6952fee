"""Helpers that build SimRequests of the two shapes the pets project asks about.

Kept apart from engine.py so that the bridge stays generic: these encode how AWS names things
(execute-api method ARNs, OIDC provider ARNs and condition keys, session-tag keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness_core.mock_runtime import oidc_provider_arn, oidc_provider_path
from iamsim.engine import ContextValue, SimRequest


def execute_api_arn(api_id: str, stage: str, method: str, path: str, *, region: str,
                    account: str) -> str:
    """ARN API Gateway authorizes a call with: .../<api>/<stage>/<METHOD>/<path minus leading />.

    The method and path are used verbatim (no upper-casing, no slash clean-up) so that callers can
    ask about malformed variants such as `get/pets` or `POST/pets/`.
    """
    resource_path = path.removeprefix("/")
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{method}/{resource_path}"


def invoke_request(*, principal: str, identity_policies: Sequence[Mapping[str, Any]],
                   resource: str, id: str) -> SimRequest:
    """execute-api:Invoke by a role session whose inline policies are `identity_policies`."""
    return SimRequest(id=id, action="execute-api:Invoke", resource=resource, principal=principal,
                      identity_policies=tuple(identity_policies))


def web_identity_requests(
    *,
    role_arn: str,
    trust_policy: Mapping[str, Any],
    issuer_url: str,
    sub: str | None,
    aud: str | None,
    session_tags: Mapping[str, str] | None = None,
    account: str,
    id: str | None = None,
) -> list[SimRequest]:
    """Requests STS evaluates for one AssumeRoleWithWebIdentity call against a trust policy.

    A claim given as None is absent from the token, so its key is absent from the context. With
    session tags AWS also requires sts:TagSession in the trust policy, evaluated with the same
    context: a second request is returned, and the call succeeds only if every request is Allowed.
    """
    provider = oidc_provider_path(issuer_url)
    context: dict[str, ContextValue] = {}
    for claim, value in (("sub", sub), ("aud", aud)):
        if value is not None:
            context[f"{provider}:{claim}"] = value
    if session_tags:
        for key, value in session_tags.items():
            context[f"aws:RequestTag/{key}"] = value
        context["aws:TagKeys"] = list(session_tags)
    label = id or f"{role_arn} sub={sub!r} aud={aud!r}"
    actions = ["sts:AssumeRoleWithWebIdentity"] + (["sts:TagSession"] if session_tags else [])
    return [
        SimRequest(
            id=f"{label} [{action}]",
            action=action,
            resource=role_arn,
            principal=oidc_provider_arn(issuer_url, account=account),
            resource_policy=trust_policy,
            context=dict(context),
        )
        for action in actions
    ]
