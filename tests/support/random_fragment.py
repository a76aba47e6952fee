"""Random policies drawn from the prover's IAM fragment, and random requests to judge with them.

Both request shapes: execute-api:Invoke (identity policy + the API's resource policy, callers in
the API's account, sessions, other roles, users, anonymous callers) and STS
AssumeRoleWithWebIdentity / TagSession (trust policies, tokens of two issuers, audiences,
subjects, amr lists, session tags). Values are picked near the patterns so that matches and
near misses both occur: wildcards, `?`, case variants, NotResource, NotAction, NotPrincipal,
denies, every operator of the fragment with one or several values, set operators.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from prover.request_shapes import ConcreteInvoke, ConcreteToken

ACCOUNT = "123456789012"
REGION = "us-east-1"
API = "a1b2c3d4e5"
STAGE = "prod"
ROLES = {name: f"arn:aws:iam::{ACCOUNT}:role/{name}" for name in ("pets-admin", "pets-buyer",
                                                                   "other")}
ISSUERS = ("tenant.example.com/", "127.0.0.1:9443")
CLIENT = "pets-spa"

Document = dict[str, Any]


def _pick(rng: random.Random, items: list[Any] | tuple[Any, ...]) -> Any:
    return items[rng.randrange(len(items))]


def _some(rng: random.Random, items: list[Any] | tuple[Any, ...], most: int = 3) -> list[Any]:
    return rng.sample(list(items), rng.randint(1, min(most, len(items))))


def _one_or_list(rng: random.Random, values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 and rng.random() < 0.5 else values


# --- execute-api:Invoke -----------------------------------------------------------------------

# Near misses of the patterns' `?` and `*` too: "ET" and "GGET" against "?ET", "pts" against "p?ts".
METHODS = ("GET", "POST", "DELETE", "PUT", "OPTIONS", "get", "*", "ET", "GGET")
PATHS = ("pets", "pets/", "pets/abc", "pets/purchase", "pets/a/b", "Pets", "pets:x", "p",
         "pets/a?b", "pts", "peets", "pets/")


def resource_pattern(rng: random.Random, *, short: bool = True) -> str:
    """A Resource entry; `short`: may be shorter than six segments (never under NotResource:
    test_differential.py shows why the prover refuses that)."""
    region = _pick(rng, (REGION, "*", "us-*", "?s-east-1", "US-EAST-1", "eu-west-1"))
    account = _pick(rng, (ACCOUNT, "*", "1234*", "111111111111", "?23456789012"))
    stage = _pick(rng, (STAGE, "*", "pr?d", "dev"))
    method = _pick(rng, ("GET", "POST", "DELETE", "*", "G*", "?ET", "get", "OPTIONS"))
    path = _pick(rng, ("pets", "pets/*", "pets/purchase", "*", "pets*", "p?ts", "pets/?*", "Pets"))
    rest = _pick(rng, (f"{API}/{stage}/{method}/{path}", f"{API}/{stage}/{method}/{path}",
                       f"{API}/*", f"{API}/{stage}/*", "*", f"{API}x/{stage}/*",
                       f"{API}/{stage}/{method}/{path}:x*"))
    roll = rng.random()
    if roll < 0.05:
        return "*"
    if roll < 0.09 and short:  # shorter than six segments: padded with `*` (or no match)
        return _pick(rng, ("arn:aws:execute-api:*", f"arn:aws:execute-api:{REGION}:*",
                           "arn:aws:execute-api", f"arn:aws:execute-api:{region}"))
    return f"arn:aws:execute-api:{region}:{account}:{rest}"


def request_resource(rng: random.Random) -> str:
    region = _pick(rng, (REGION, REGION, "US-EAST-1", "eu-west-1", "us-east-2"))
    api = _pick(rng, (API, API, API, f"{API}x", "zzzzzzzzzz"))
    stage = _pick(rng, (STAGE, STAGE, "dev", "*", "PROD", "prd", "prood"))
    return (f"arn:aws:execute-api:{region}:{ACCOUNT}:{api}/{stage}/{_pick(rng, METHODS)}/"
            f"{_pick(rng, PATHS)}")


ARN_VALUES = (
    ROLES["pets-admin"], ROLES["pets-buyer"],
    f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-admin/*",
    f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-buyer/*",
    "arn:aws:iam::*:role/pets-*", f"arn:*:iam::{ACCOUNT}:role/*", "arn:aws:iam::*:*",
    f"arn:aws:iam::{ACCOUNT}:role/?ets-admin", "*:*:*:*:*", f"arn:aws:iam::{ACCOUNT}:user/*",
)
STRING_VALUES = (*ARN_VALUES[:4], "arn:aws:*", "*admin*", "arn:aws:iam::*", "*")


def invoke_condition(rng: random.Random) -> tuple[str, str, str | list[str]]:
    """(operator, key, values) over the keys an Invoke request has."""
    roll = rng.random()
    if roll < 0.12:
        return "Bool", "aws:SecureTransport", _pick(rng, ("true", "false", "True"))
    if roll < 0.2:
        return "Null", _pick(rng, ("aws:PrincipalArn", "aws:SecureTransport")), _pick(
            rng, ("true", "false"))
    if roll < 0.6:
        operator = _pick(rng, ("ArnLike", "ArnNotLike", "ArnEquals"))
        values = _some(rng, ARN_VALUES)
    else:
        operator = _pick(rng, ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike"))
        values = _some(rng, STRING_VALUES)
    if rng.random() < 0.12:
        operator = f"{_pick(rng, ('ForAnyValue', 'ForAllValues'))}:{operator}"
    key = _pick(rng, ("aws:PrincipalArn", "aws:PrincipalArn", "aws:principalarn"))
    return operator, key, _one_or_list(rng, values)


def _conditions(rng: random.Random, maker: Any, most: int = 2) -> Document:
    block: Document = {}
    for _ in range(rng.choice((0, 0, 1, 1, most))):
        operator, key, values = maker(rng)
        block.setdefault(operator, {})[key] = values
    return block


def _statement(rng: random.Random, *, actions: tuple[str, ...], principal: Any | None,
               resources: bool, conditions: Any) -> Document:
    statement: Document = {"Effect": "Deny" if rng.random() < 0.35 else "Allow"}
    if rng.random() < 0.5:
        statement["Sid"] = f"S{rng.randrange(1000)}"
    action_key = "NotAction" if rng.random() < 0.15 else "Action"
    statement[action_key] = _one_or_list(rng, _some(rng, actions, 2))
    if resources:
        resource_key = "NotResource" if rng.random() < 0.25 else "Resource"
        patterns = [resource_pattern(rng, short=resource_key == "Resource")
                    for _ in range(rng.randint(1, 3))]
        statement[resource_key] = _one_or_list(rng, list(dict.fromkeys(patterns)))
    if principal is not None:
        statement["NotPrincipal" if rng.random() < 0.08 else "Principal"] = principal
    if block := _conditions(rng, conditions):
        statement["Condition"] = block
    return statement


INVOKE_ACTIONS = ("execute-api:Invoke", "execute-api:*", "*", "execute-api:Inv*",
                  "execute-api:invoke", "execute-api:ManageConnections", "s3:GetObject")


def invoke_principal(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.35:
        return "*"
    if roll < 0.4:
        return {"AWS": "*"}
    choices = [ROLES["pets-admin"], ROLES["pets-buyer"], ROLES["other"],
               f"arn:aws:sts::{ACCOUNT}:assumed-role/pets-admin/alice"]
    if roll < 0.95:
        return {"AWS": _one_or_list(rng, _some(rng, choices, 2))}
    return {"Service": "apigateway.amazonaws.com"}


def policy(rng: random.Random, statements: list[Document]) -> Document:
    return {"Version": "2012-10-17", "Statement": statements}


@dataclass(frozen=True)
class InvokeCase:
    identity: Document
    resource: Document | None
    requests: tuple[ConcreteInvoke, ...]


def invoke_callers(rng: random.Random) -> tuple[str | None, str | None]:
    """(request principal, aws:PrincipalArn)."""
    name = _pick(rng, ("pets-admin", "pets-buyer", "other", "PETS-ADMIN", "ets-admin",
                       "ppets-admin"))
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{_pick(rng, ('alice', 'bob'))}"
    role = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    roll = rng.random()
    if roll < 0.08:
        return None, None
    if roll < 0.14:
        user = f"arn:aws:iam::{ACCOUNT}:user/bob"
        return user, user
    return session, _pick(rng, (role, role, session))


def invoke_case(rng: random.Random, requests: int) -> InvokeCase:
    identity = policy(rng, [_statement(rng, actions=INVOKE_ACTIONS, principal=None,
                                       resources=True, conditions=invoke_condition)
                            for _ in range(rng.randint(1, 3))])
    resource = None if rng.random() < 0.15 else policy(rng, [
        _statement(rng, actions=INVOKE_ACTIONS, principal=invoke_principal(rng), resources=True,
                   conditions=invoke_condition) for _ in range(rng.randint(1, 4))])
    made = []
    for _ in range(requests):
        principal, principal_arn = invoke_callers(rng)
        made.append(ConcreteInvoke(request_resource(rng), principal, principal_arn,
                                   _pick(rng, ("true", "false"))))
    return InvokeCase(identity, resource, tuple(made))


# --- STS AssumeRoleWithWebIdentity ------------------------------------------------------------

TRUST_ACTIONS = ("sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:*",
                 "sts:AssumeRole*", "*", "sts:assumerolewithwebidentity", "sts:AssumeRole")
SUBS = ("auth0|alice", "google-oauth2|1", "auth0|z", "github|x", "auth0|zed", "", "Auth0|alice",
        "samlp|m", "auth0|lice", "auth0|aalice", "github|", "github|xy")
SUB_PATTERNS = ("auth0|*", "google-oauth2|*", "auth0|z*", "*", "auth0|?lice", "github|?",
                "auth0|alice", "*|*")
TAG_SETS: tuple[tuple[tuple[str, str], ...], ...] = (
    (), (), (("pets-class", "admin"),), (("PETS-CLASS", "admin"),), (("pets-class", "buyer"),),
    (("team", "x"),), (("pets-class", "admin"), ("team", "a")), (("pets-class", "Admin"),),
    (("pets-class", "admn"),), (("pets-class", "addmin"),),
)


def provider_arn(issuer: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:oidc-provider/{issuer}"


def trust_condition(rng: random.Random) -> tuple[str, str, str | list[str]]:
    issuer = ISSUERS[0] if rng.random() < 0.85 else ISSUERS[1]
    roll = rng.random()
    strings = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")
    if roll < 0.25:
        operator = _pick(rng, strings)
        return operator, f"{issuer}:aud", _one_or_list(rng, _some(
            rng, (CLIENT, "other-client", "pets-*", "PETS-SPA")))
    if roll < 0.5:
        return _pick(rng, strings), f"{issuer}:sub", _one_or_list(rng, _some(rng, SUB_PATTERNS))
    if roll < 0.58:
        return "Null", _pick(rng, (f"{issuer}:sub", f"{issuer}:amr", "aws:RequestTag/pets-class",
                                   "aws:TagKeys")), _pick(rng, ("true", "false"))
    if roll < 0.68:
        operator = f"{_pick(rng, ('ForAnyValue', 'ForAllValues'))}:{_pick(rng, strings)}"
        return operator, f"{issuer}:amr", _one_or_list(rng, _some(rng, ("pwd", "mfa", "*f*")))
    if roll < 0.88:
        key = _pick(rng, ("aws:RequestTag/pets-class", "aws:RequestTag/Pets-Class",
                          "aws:RequestTag/team"))
        return _pick(rng, strings), key, _one_or_list(rng, _some(rng, ("admin", "*", "adm?n",
                                                                       "buyer")))
    operator = f"{_pick(rng, ('ForAnyValue', 'ForAllValues'))}:{_pick(rng, strings)}"
    return operator, "aws:TagKeys", _one_or_list(rng, _some(rng, ("pets-class", "team", "p*")))


def trust_principal(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.75:
        return {"Federated": provider_arn(ISSUERS[0])}
    if roll < 0.85:
        return {"Federated": [provider_arn(ISSUERS[0]), provider_arn(ISSUERS[1])]}
    if roll < 0.93:
        return "*"
    return {"Federated": provider_arn(ISSUERS[1])}


@dataclass(frozen=True)
class TrustCase:
    trust: Document
    tokens: tuple[ConcreteToken, ...]


def trust_case(rng: random.Random, tokens: int) -> TrustCase:
    trust = policy(rng, [_statement(rng, actions=TRUST_ACTIONS, principal=trust_principal(rng),
                                    resources=False, conditions=trust_condition)
                         for _ in range(rng.randint(1, 3))])
    made = []
    for _ in range(tokens):
        issuer = ISSUERS[0] if rng.random() < 0.8 else ISSUERS[1]
        account = ACCOUNT if rng.random() < 0.95 else "999999999999"
        amr = _pick(rng, (None, None, (), ("pwd",), ("pwd", "mfa"), ("otp",)))
        made.append(ConcreteToken(provider_arn(issuer, account),
                                  _pick(rng, (CLIENT, CLIENT, "other-client", "PETS-SPA")),
                                  _pick(rng, SUBS), amr, _pick(rng, TAG_SETS)))
    return TrustCase(trust, tuple(made))
