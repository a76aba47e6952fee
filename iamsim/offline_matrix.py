"""The offline access matrices of what the program would deploy, and how they differ from the model.

- Invoke matrix: for every (user class, route), execute-api:Invoke on the route's method ARN
  (`<executionArn>/<stage>/<METHOD>/<path, {param} -> 'abc123'>`) with the class role's inline
  policies -> {class: {route id: allowed}}, comparable with access.access_matrix().
- Forbidden ARNs: variants no class may ever invoke (other stage/API/region/account, lowercase or
  `*` method, trailing slash, `*` stage/path); any Allowed one is reported.
- Trust matrix: for every (identity, user-class role), sts:AssumeRoleWithWebIdentity against
  the role's trust policy with the token's condition keys -> {identity: {class: allowed}},
  compared with what the membership rules expect (access.Membership.admits, which shares no
  code with components/policies.py, so a bug in how the program writes trust policies cannot
  hide in both). Every other role of the program must refuse every identity.

Everything is asked in ONE Node batch (iamsim.simulate) per computation.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import access
from access import TokenClaims
from harness_core.stack_files import stack_file_config
from iamsim.builders import execute_api_arn, invoke_request, web_identity_requests
from iamsim.engine import PACKAGE_DIR, SimRequest, SimResult, simulate
from iamsim.report import AllowMatrix, compare_matrices, format_table
from iamsim.synth import Synthesized, UnsupportedProgram, synthesize

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PATH_VALUE = "abc123"  # what a caller puts where a route has {petId}
SESSION_NAME = "offline-matrix"
OTHER_ACCOUNT = "111111111111"
WRONG_AUDIENCE = "some-other-client"  # a token minted for another app of the same issuer
OTHER_ISSUER = "https://someone-else.example.com/"  # a provider IAM was never told to trust
ADMIN_GRANT = {access.GRANT_TAG_KEY: "admin"}

# The local identity provider's demo users (devstack/idp/users.json) as IAM sees their tokens.
DEMO_IDENTITIES: tuple[TokenClaims, ...] = (
    TokenClaims("alice", "auth0|alice", session_tags=ADMIN_GRANT),  # admin by grant
    TokenClaims("bob", "google-oauth2|bob"),
    TokenClaims("dave", "github|dave"),
    TokenClaims("mallory", "samlp|mallory"),  # an enterprise connection no class admits
    TokenClaims("eve", "auth0|eve"),  # self-registered database user, no grant
    TokenClaims("bob wrong aud", "google-oauth2|bob", own_client=False),
    TokenClaims("alice wrong aud", "auth0|alice", own_client=False, session_tags=ADMIN_GRANT),
)


def audience(identity: TokenClaims, client_id: str) -> str:
    return client_id if identity.own_client else WRONG_AUDIENCE


def issuer(identity: TokenClaims, own_issuer: str) -> str:
    return own_issuer if identity.own_issuer else OTHER_ISSUER


def expected_trust_matrix(
    identities: Sequence[TokenClaims], user_classes: Sequence[access.UserClass]
) -> AllowMatrix:
    """{identity label: {user class: may assume its role}} from the membership rules."""
    return {i.label: {c.name: c.members.admits(i) for c in user_classes} for i in identities}


def concrete_path(path: str) -> str:
    """`/pets/{petId}` -> `/pets/abc123`: the path of a real request, not a template."""
    return re.sub(r"\{[^}/]+\}", SAMPLE_PATH_VALUE, path)


def forbidden_arns(s: Synthesized, routes: Sequence[access.Route]) -> dict[str, str]:
    """{label: method ARN} that no class may invoke, whatever the model grants."""
    other_stage = "prod" if s.stage != "prod" else "dev"
    other_region = "us-west-2" if s.region != "us-west-2" else "eu-central-1"

    def arn(method: str, path: str, *, api: str = s.api_id, stage: str = s.stage,
            region: str = s.region, account: str = s.account) -> str:
        return execute_api_arn(api, stage, method, path, region=region, account=account)

    out: dict[str, str] = {}
    for route in routes:
        path = concrete_path(route.path)
        variants = {
            f"other stage {other_stage!r}": arn(route.method, path, stage=other_stage),
            "other API id": arn(route.method, path, api="zzzzzzzzzz"),
            # The library matches the API id segment with startsWith; this must still be denied.
            "API id extending ours": arn(route.method, path, api=s.api_id + "x"),
            f"other region {other_region}": arn(route.method, path, region=other_region),
            f"other account {OTHER_ACCOUNT}": arn(route.method, path, account=OTHER_ACCOUNT),
            "lowercase method": arn(route.method.lower(), path),
            "* as method": arn("*", path),
            "* as stage": arn(route.method, path, stage="*"),
        }
        variants["trailing slash"] = arn(route.method, path + "/")
        out |= {f"{route.id}: {label}": value for label, value in variants.items()}
    out["GET /*: * as path"] = arn("GET", "/*")
    out["*/*: * as method and path"] = arn("*", "/*")
    out["* as stage, method and path"] = arn("*", "/*", stage="*")
    # A variant some route's grant covers is not forbidden: `GET /pets/` is inside the `*` of
    # `GET /pets/{petId}`'s grant, and after a {param} a trailing slash is inside its own.
    granted = [arn(r.method, "/" + r.arn_suffix.split("/", 1)[1]) for r in routes]
    return {label: value for label, value in out.items()
            if not any(access.string_like(pattern, value) for pattern in granted)}


@dataclass
class OfflineMatrices:
    synthesized: Synthesized
    identities: tuple[TokenClaims, ...]
    invoke: AllowMatrix
    expected_invoke: AllowMatrix
    trust: AllowMatrix
    expected_trust: AllowMatrix
    forbidden: dict[str, str]  # label -> ARN
    forbidden_allowed: list[str]  # "<class> invoking <ARN> (<label>)"
    other_roles_assumable: list[str]  # "<identity> assuming non-class role <role>"
    undeclared_methods: list[str]  # deployed, not OPTIONS preflights, not in the model
    notes: list[str]
    results: dict[str, SimResult] = field(repr=False)  # by request id
    seconds: float = 0.0  # the Node batch

    def invoke_report(self) -> str | None:
        return compare_matrices(self.expected_invoke, self.invoke, ("model", "offline"),
                                corner="route")

    def trust_report(self) -> str | None:
        return compare_matrices(self.expected_trust, self.trust, ("membership", "offline"),
                                corner="identity")

    def problems(self) -> list[str]:
        found: list[str] = []
        if report := self.invoke_report():
            found.append("Invoke matrix differs from access.access_matrix():\n" + report)
        found += [f"must be denied but is allowed: {v}" for v in self.forbidden_allowed]
        if report := self.trust_report():
            found.append("trust matrix differs from the membership rules:\n" + report)
        found += [f"must be denied but is allowed: {v}" for v in self.other_roles_assumable]
        found += [f"deployed method not in the model: {m}" for m in self.undeclared_methods]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems()

    def render(self) -> str:
        """The readable report `python -m devstack matrix --offline` prints, problems last."""
        s = self.synthesized
        lines = [
            f"Offline IAM matrices of stack {s.stack!r}: the program run under Pulumi mocks,"
            f" evaluated by @cloud-copilot/iam-simulate {engine_version()}",
            f"  issuer {s.settings.oidc_issuer}, client id {s.client_id},"
            f" stage {s.stage}; API {s.api_id} in {s.region}, account {s.account} (mock values)",
            f"  {len(self.results)} requests in one Node batch, {self.seconds * 1000:.0f} ms",
            "",
            "execute-api:Invoke with each class role's inline policies"
            f" ({{param}} -> {SAMPLE_PATH_VALUE!r}):",
            format_table(self.invoke, corner="route"),
            "",
            "sts:AssumeRoleWithWebIdentity against each class role's trust policy:",
            format_table(self.trust, corner="identity"),
        ]
        lines += [f"  {i.label}: sub {i.sub}, aud {audience(i, s.client_id)}"
                  + ("" if i.own_issuer else f", issuer {issuer(i, s.settings.oidc_issuer)}")
                  + (f", tags {dict(i.session_tags)}" if i.session_tags else "")
                  for i in self.identities]
        lines += ["", f"Must be denied (each one allowed is listed below): {len(self.forbidden)}"
                      f" other ARNs x {len(s.class_roles)} classes, {len(s.other_roles)} other"
                      f" roles x {len(self.identities)} identities"]
        lines += [f"Note: {n}" for n in self.notes]
        lines += ["", *(self.problems() or ["-> all as the model and the membership rules say"])]
        return "\n".join(lines)


def engine_version() -> str:
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    return manifest["dependencies"]["@cloud-copilot/iam-simulate"]


def _route_cells(
    s: Synthesized, routes: Sequence[access.Route]
) -> tuple[dict[str, bool], list[str]]:
    """Cells API Gateway decides without IAM: public methods (True), missing methods (False)."""
    fixed: dict[str, bool] = {}
    notes: list[str] = []
    for route in routes:
        authorization = s.method_authorization.get((route.method, route.path))
        if authorization is None:
            fixed[route.id] = False
            notes.append(f"{route.id} has no deployed method: counted as denied for every class")
        elif authorization == "NONE":
            fixed[route.id] = True
            notes.append(f"{route.id} is public (authorization NONE): allowed without IAM")
        elif authorization != "AWS_IAM":
            raise UnsupportedProgram(f"{route.id}: authorization {authorization!r} is not"
                                     " evaluated offline (only AWS_IAM and NONE)")
    return fixed, notes


def compute_offline_matrices(
    s: Synthesized, identities: Sequence[TokenClaims] = DEMO_IDENTITIES
) -> OfflineMatrices:
    """Asks every question about `s` in one simulate() batch and assembles the matrices."""
    routes = access.ROUTES  # the columns; a stack may not override the routes
    fixed_cells, notes = _route_cells(s, routes)
    forbidden = forbidden_arns(s, routes)
    requests: list[SimRequest] = []

    for name, role in s.class_roles.items():
        principal = f"arn:aws:sts::{s.account}:assumed-role/{role.name}/{SESSION_NAME}"
        checks = {f"invoke {name} {route.id}":
                  execute_api_arn(s.api_id, s.stage, route.method, concrete_path(route.path),
                                  region=s.region, account=s.account)
                  for route in routes if route.id not in fixed_cells}
        checks |= {f"forbidden {name} {label}": arn for label, arn in forbidden.items()}
        requests += [invoke_request(principal=principal, resource=arn, id=request_id,
                                    identity_policies=role.identity_policies)
                     for request_id, arn in checks.items()]

    roles = {r.arn: (name, r.trust_policy) for name, r in s.class_roles.items()}
    roles |= {r.arn: (r.name, r.trust_policy) for r in s.other_roles}
    assume: dict[tuple[str, str], list[SimRequest]] = {}  # (identity, role ARN) -> one STS call
    for identity in identities:
        for arn, (name, trust) in roles.items():
            assume[identity.label, arn] = web_identity_requests(
                role_arn=arn, trust_policy=trust, sub=identity.sub,
                issuer_url=issuer(identity, s.settings.oidc_issuer),
                aud=audience(identity, s.client_id), session_tags=dict(identity.session_tags),
                account=s.account, id=f"trust {identity.label} -> {name}")
            requests += assume[identity.label, arn]

    start = time.perf_counter()
    results = {str(r.id): r for r in simulate(requests)}
    seconds = time.perf_counter() - start

    def granted(label: str, role_arn: str) -> bool:
        # AssumeRoleWithWebIdentity succeeds only if every request of the call is allowed
        # (with session tags, sts:TagSession too).
        return all(results[str(r.id)].allowed for r in assume[label, role_arn])

    model_routes = {(r.method, r.path) for r in routes}
    return OfflineMatrices(
        synthesized=s,
        identities=tuple(identities),
        invoke={name: {route.id: fixed_cells[route.id] if route.id in fixed_cells
                       else results[f"invoke {name} {route.id}"].allowed for route in routes}
                for name in s.class_roles},
        expected_invoke=access.access_matrix(s.settings.user_classes, routes),
        trust={i.label: {name: granted(i.label, role.arn) for name, role in s.class_roles.items()}
               for i in identities},
        expected_trust=expected_trust_matrix(identities, s.settings.user_classes),
        forbidden=forbidden,
        forbidden_allowed=[f"{name} invoking {arn} ({label})"
                           for name in s.class_roles for label, arn in forbidden.items()
                           if results[f"forbidden {name} {label}"].allowed],
        other_roles_assumable=[f"{i.label} assuming non-class role {role.name}"
                               for i in identities for role in s.other_roles
                               if granted(i.label, role.arn)],
        undeclared_methods=sorted(
            f"{method} {path} (authorization {auth})"
            for (method, path), auth in s.method_authorization.items()
            if (method, path) not in model_routes and not (method == "OPTIONS" and auth == "NONE")
        ),
        notes=notes,
        results=results,
        seconds=seconds,
    )


def offline_matrices(
    stack: str = "local",
    *,
    overrides: Mapping[str, str] | None = None,
    config: Mapping[str, str] | None = None,
    identities: Sequence[TokenClaims] = DEMO_IDENTITIES,
) -> OfflineMatrices:
    """Entry point for `python -m devstack matrix --offline`.

    config: the full flat config (default: Pulumi.<stack>.yaml), `overrides` (keys `pets:...`,
    e.g. devstack's issuer on another port) over it.
    """
    if config is None:
        config = stack_file_config(ROOT / f"Pulumi.{stack}.yaml")
    return compute_offline_matrices(synthesize({**config, **(overrides or {})}, stack), identities)
