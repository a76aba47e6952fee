"""The offline access matrices of what the program would deploy, and how they differ from the model.

- Invoke matrix: for every (user class, route), execute-api:Invoke on the route's method ARN
  (`<executionArn>/<stage>/<METHOD>/<path, {param} -> 'abc123'>`) with the class role's inline
  policies -> {class: {route id: allowed}}, comparable with access.access_matrix().
- Forbidden ARNs: variants no class may ever invoke (other stage/API/region/account, lowercase or
  `*` method, trailing slash, `*` stage/path); any Allowed one is reported.
- Trust matrix: for every (demo identity, user-class role), sts:AssumeRoleWithWebIdentity against
  the role's trust policy with the token's condition keys -> {identity: {class: allowed}},
  compared with identities.expected_trust_matrix (the membership rules, matched independently).
  Every other role of the program must refuse every identity.

Everything is asked in ONE Node batch (iamsim.simulate) per computation.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import access
from access import TokenClaims
from iamsim.builders import execute_api_arn, invoke_request, web_identity_requests
from iamsim.engine import PACKAGE_DIR, SimRequest, SimResult, simulate
from iamsim.identities import DEMO_IDENTITIES, audience, expected_trust_matrix, issuer
from iamsim.report import AllowMatrix, compare_matrices, format_table
from iamsim.synth import Synthesized, UnsupportedProgram, load_stack_config, synthesize

SAMPLE_PATH_VALUE = "abc123"  # what a caller puts where a route has {petId}
SESSION_NAME = "offline-matrix"
OTHER_ACCOUNT = "111111111111"


def concrete_path(path: str) -> str:
    """`/pets/{petId}` -> `/pets/abc123`: the path of a real request, not a template."""
    return re.sub(r"\{[^}/]+\}", SAMPLE_PATH_VALUE, path)


@dataclass(frozen=True)
class ForbiddenArn:
    label: str
    arn: str


def forbidden_arns(
    s: Synthesized, routes: Sequence[access.Route] = access.ROUTES
) -> list[ForbiddenArn]:
    """Method ARNs that no class may invoke, whatever the model grants."""
    other_stage = "prod" if s.stage != "prod" else "dev"
    other_region = "us-west-2" if s.region != "us-west-2" else "eu-central-1"

    def arn(method: str, path: str, *, api: str = s.api_id, stage: str = s.stage,
            region: str = s.region, account: str = s.account) -> str:
        return execute_api_arn(api, stage, method, path, region=region, account=account)

    out: list[ForbiddenArn] = []
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
        # A trailing slash after a {param} is still inside the grant's `*`; only literal ends count.
        if not route.path.endswith("}"):
            variants["trailing slash"] = arn(route.method, path + "/")
        out += [ForbiddenArn(f"{route.id}: {label}", value) for label, value in variants.items()]
    out += [
        ForbiddenArn("GET /*: * as path", arn("GET", "/*")),
        ForbiddenArn("*/*: * as method and path", arn("*", "/*")),
        ForbiddenArn("* as stage, method and path", arn("*", "/*", stage="*")),
    ]
    return out


@dataclass(frozen=True)
class Violation:
    """A request that must be denied but was allowed."""

    label: str  # the forbidden ARN's label, or the role's name
    what: str
    result: SimResult


@dataclass
class OfflineMatrices:
    synthesized: Synthesized
    identities: tuple[TokenClaims, ...]
    invoke: AllowMatrix
    expected_invoke: AllowMatrix
    trust: AllowMatrix
    expected_trust: AllowMatrix
    forbidden: list[ForbiddenArn]
    forbidden_allowed: list[Violation]
    other_roles_assumable: list[Violation]
    undeclared_methods: list[str]  # deployed, not OPTIONS preflights, not in the model
    notes: list[str]
    results: dict[str, SimResult] = field(repr=False)  # by request id
    requests: int = 0
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
        found += [f"must be denied but is allowed: {v.what}" for v in self.forbidden_allowed]
        if report := self.trust_report():
            found.append("trust matrix differs from the membership rules:\n" + report)
        found += [f"must be denied but is allowed: {v.what}" for v in self.other_roles_assumable]
        found += [f"deployed method not in the model: {m}" for m in self.undeclared_methods]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems()

    def render(self) -> str:
        """The readable report `python -m devstack matrix --offline` prints."""
        s = self.synthesized
        lines = [
            f"Offline IAM matrices of stack {s.stack!r}: the program run under Pulumi mocks,"
            f" evaluated by @cloud-copilot/iam-simulate {engine_version()}",
            f"  issuer {s.settings.oidc_issuer}, client id {s.client_id},"
            f" stage {s.stage}; API {s.api_id} in {s.region}, account {s.account} (mock values)",
            f"  {self.requests} requests in one Node batch, {self.seconds * 1000:.0f} ms",
            "",
        ]
        lines += format_table(
            self.invoke, corner="route",
            title=f"execute-api:Invoke with each class role's inline policies"
                  f" ({{param}} -> {SAMPLE_PATH_VALUE!r}):",
        )
        lines.append(_verdict(self.invoke_report(), "access.access_matrix()"))
        pairs = len(self.forbidden) * len(s.class_roles)
        lines += ["", f"Must-never-allow ARNs: {len(self.forbidden)} ARNs x"
                      f" {len(s.class_roles)} classes = {pairs} checks"]
        lines += [f"  ALLOWED: {v.what}" for v in self.forbidden_allowed] or ["  -> all denied"]
        lines.append("")
        lines += format_table(
            self.trust, corner="identity",
            title="sts:AssumeRoleWithWebIdentity against each class role's trust policy:",
        )
        lines += [f"  {i.label}: sub {i.sub}, aud {audience(i, s.client_id)}"
                  + ("" if i.own_issuer else f", issuer {issuer(i, s.settings.oidc_issuer)}")
                  + (f", tags {dict(i.session_tags)}" if i.session_tags else "")
                  for i in self.identities]
        lines.append(_verdict(self.trust_report(), "the membership rules"))
        lines += ["", f"Other roles ({len(s.other_roles)}) x identities: "
                      + ("all refuse web identities" if not self.other_roles_assumable else
                         "ASSUMABLE: " + "; ".join(v.what for v in self.other_roles_assumable))]
        lines += [f"Deployed method not in the model: {m}" for m in self.undeclared_methods]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


def _verdict(report: str | None, against: str) -> str:
    if report is None:
        return f"-> agrees with {against}"
    return "-> DIFFERS:\n" + "\n".join("   " + line for line in report.splitlines())


def engine_version() -> str:
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    return manifest["dependencies"]["@cloud-copilot/iam-simulate"]


def _assume(s: Synthesized, identity: TokenClaims, role_arn: str, trust: Mapping[str, object],
            label: str) -> list[SimRequest]:
    """The request(s) STS evaluates when `identity`'s ID token asks for this role."""
    return web_identity_requests(
        role_arn=role_arn, trust_policy=trust, issuer_url=issuer(identity, s.settings.oidc_issuer),
        sub=identity.sub, aud=audience(identity, s.client_id),
        session_tags=dict(identity.session_tags) or None, account=s.account, id=label,
    )


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
        checks = [(f"invoke {name} {route.id}",
                   execute_api_arn(s.api_id, s.stage, route.method, concrete_path(route.path),
                                   region=s.region, account=s.account))
                  for route in routes if route.id not in fixed_cells]
        checks += [(f"forbidden {name} {bad.label}", bad.arn) for bad in forbidden]
        requests += [invoke_request(principal=principal, resource=arn, id=request_id,
                                    identity_policies=role.inline_policies)
                     for request_id, arn in checks]

    trust_groups: dict[tuple[str, str], list[SimRequest]] = {}
    other_groups: dict[tuple[str, str], list[SimRequest]] = {}
    for identity in identities:
        for name, role in s.class_roles.items():
            trust_groups[identity.label, name] = _assume(
                s, identity, role.arn, role.trust_policy, f"trust {identity.label} -> {name}")
        for other in s.other_roles:
            other_groups[identity.label, other.name] = _assume(
                s, identity, other.arn, other.trust_policy,
                f"trust {identity.label} -> {other.name}")
    for group in [*trust_groups.values(), *other_groups.values()]:
        requests += group

    start = time.perf_counter()
    results = {r.id: r for r in simulate(requests) if r.id is not None}
    seconds = time.perf_counter() - start

    def granted(group: list[SimRequest]) -> bool:
        # AssumeRoleWithWebIdentity succeeds only if every request of the call is allowed
        # (with session tags, sts:TagSession too).
        return all(results[str(r.id)].allowed for r in group)

    invoke: AllowMatrix = {
        name: {route.id: fixed_cells[route.id] if route.id in fixed_cells
               else results[f"invoke {name} {route.id}"].allowed for route in routes}
        for name in s.class_roles
    }
    forbidden_allowed = [
        Violation(bad.label, f"{name} invoking {bad.arn} ({bad.label})", result)
        for name in s.class_roles for bad in forbidden
        if (result := results[f"forbidden {name} {bad.label}"]).allowed
    ]
    trust: AllowMatrix = {i.label: {name: granted(trust_groups[i.label, name])
                               for name in s.class_roles} for i in identities}
    other_assumable = [
        Violation(role, f"{label} assuming non-class role {role}", results[str(group[0].id)])
        for (label, role), group in other_groups.items() if granted(group)
    ]
    model_routes = {(r.method, r.path) for r in routes}
    undeclared = sorted(
        f"{method} {path} (authorization {auth})"
        for (method, path), auth in s.method_authorization.items()
        if (method, path) not in model_routes and not (method == "OPTIONS" and auth == "NONE")
    )
    return OfflineMatrices(
        synthesized=s,
        identities=tuple(identities),
        invoke=invoke,
        expected_invoke=access.access_matrix(s.settings.user_classes, routes),
        trust=trust,
        expected_trust=expected_trust_matrix(identities, s.settings.user_classes),
        forbidden=forbidden,
        forbidden_allowed=forbidden_allowed,
        other_roles_assumable=other_assumable,
        undeclared_methods=undeclared,
        notes=notes,
        results=results,
        requests=len(requests),
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

    config: the full flat config (default: Pulumi.<stack>.yaml plus `overrides`, keys `pets:...`).
    """
    if config is None:
        config = load_stack_config(stack, overrides)
    elif overrides:
        config = {**config, **overrides}
    return compute_offline_matrices(synthesize(config, stack), identities)
