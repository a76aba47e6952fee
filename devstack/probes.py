"""What the AWS target behind a running stack can do, found by trying it.

Emulators differ: MiniStack runs Lambdas and enforces SigV4, IAM policies and role trust;
LocalStack community on the host does none of these; LocalStack in Docker runs Lambdas;
LocalStack Pro enforces IAM. Tests and the CLI ask these probes instead of trusting the
target's name. Each probe returns None when the target can, else the reason it cannot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import access
from devstack import calls, clients
from devstack.clients import Target
from devstack.idp import idp_process, tokens

_LIST_ROUTE = ("GET", "/pets")  # public to every class, stores nothing


def lambda_runs(outputs: Mapping[str, Any]) -> str | None:
    """Does a call through API Gateway reach a running function and get its JSON answer?

    Signed with the deploy key: this call is meant to succeed (never a denial probe). Where
    the target stores functions in state Failed, the apply's notes name them and why.
    """
    api = calls.Api(outputs["apiUrl"], outputs["region"], clients.ROOT_CREDENTIALS)
    response = api.call(*_LIST_ROUTE)
    if response.status_code == 200:
        try:
            response.json()
            return None
        except ValueError:
            pass
    return f"{' '.join(_LIST_ROUTE)} through API Gateway answered {response.status_code}"


def sigv4_enforced(outputs: Mapping[str, Any]) -> str | None:
    """Is an unsigned call to an AWS_IAM method refused (403) before it reaches anything?"""
    status = calls.Api(outputs["apiUrl"], outputs["region"]).call(*_LIST_ROUTE).status_code
    if status == 403:
        return None
    return f"an unsigned {' '.join(_LIST_ROUTE)} (an AWS_IAM method) answered {status}, not 403"


def session_tags_evaluated(outputs: Mapping[str, Any], target: Target, idp: idp_process.Idp,
                           classes: Sequence[access.UserClass]) -> str | None:
    """Does STS read the session tags of a token's https://aws.amazon.com/tags claim?

    A token for a sub no rule names, carrying exactly the tags a class's grant asks for, is
    offered to that class's role: a target that evaluates the tags claim grants it (as AWS
    does). None also when no class is recognised by tags: nothing to evaluate.
    """
    granted = [c for c in classes if c.members.session_tags]
    if not granted:
        return None
    user_class = granted[0]
    tags = {k: [v] for k, v in user_class.members.session_tags.items()}
    token = tokens.mint_token(
        {"sub": "auth0|tag-probe", access.TAGS_CLAIM: {"principal_tags": tags}}, idp=idp)
    if calls.assume_role_unless_refused(outputs["roles"][user_class.name], token, target=target,
                                        session_name="probe-tags") is not None:
        return None
    return (f"STS refused the {user_class.name} role to a token carrying its grant tags "
            f"{dict(user_class.members.session_tags)}: the target ignores the ID token's "
            f"{access.TAGS_CLAIM} claim")


def trust_evaluated(outputs: Mapping[str, Any], target: Target, idp: idp_process.Idp,
                    classes: Sequence[access.UserClass]) -> str | None:
    """Does STS evaluate a role's trust policy (refuse a token no membership rule names)?

    A token for a sub no class admits, minted for our client, is offered to the first class's
    role (a denial probe: the token is the only credential; no key is used).
    """
    nobody = "probe|no-class-admits-this"
    if any(c.members.admits(access.TokenClaims("probe", nobody)) for c in classes):
        return "every class admits the probe's sub: trust evaluation cannot be probed"
    token = tokens.mint_token({"sub": nobody}, idp=idp)
    role = outputs["roles"][classes[0].name]
    if calls.assume_role_unless_refused(role, token, target=target,
                                        session_name="probe-trust") is None:
        return None
    return (f"STS gave {role} to a token its trust policy does not admit: the target does not "
            "evaluate trust policies")
