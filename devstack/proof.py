"""`python -m devstack prove`: the access proof (prover/) on what the running stack holds.

The documents are read back from the emulator (iamsim.deployed: the roles' trust, inline and
attached policies, every other role, the REST API's methods and policy), so a policy changed
by hand in the emulator is what gets proved. Each counterexample is replayed through
iam-simulate and, where the target can evaluate it (probed, never assumed), live: STS with a
minted token for a token counterexample, a SigV4 call with the class role's real session
credentials for a request to one of the API's methods. A live answer that differs from the
prover's verdict fails the run as an engine disagreement.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import access
from devstack import apply, calls, clients, live_matrix, paths, probes, stack
from devstack.clients import Target
from devstack.idp import idp_process, login_client, tokens
from prover.fragment import parse_policy
from prover.replay import Replay
from prover.report import ProofReport, prove_subject
from prover.request_shapes import ConcreteInvoke, ConcreteToken
from prover.subject import Subject, deployed_subject
from prover.theorems import Counterexample
from prover.verdicts import InvokeJudge, trust_verdict

ENGINE = "live"
SESSION_NAME = "prove-replay"
# A body no route accepts: an authorized call is refused by the API's own validation (400)
# before it changes anything, a refused one gets IAM's 403.
HARMLESS_BODY = "[]"


def running_subject(outputs: Mapping[str, Any], target: Target) -> Subject:
    """The running stack's documents, with the config as it was applied (its issuer)."""
    config = apply.load_config(paths.REPO, stack.STACK, {
        "oidcIssuer": outputs["oidcIssuer"], "stsEndpoint": outputs["endpoint"]})
    service_clients = {s: clients.client(s, target=target) for s in ("iam", "apigateway", "sts")}
    return deployed_subject(stack.STACK, config, outputs, service_clients,
                            f"{target.engine} at {target.endpoint_url}")


class LiveReplay:
    """Replays counterexamples against the running stack, where the target can evaluate them."""

    def __init__(self, subject: Subject, outputs: Mapping[str, Any], target: Target,
                 idp: idp_process.Idp) -> None:
        self.subject, self.outputs, self.target, self.idp = subject, outputs, target, idp
        self.engine = f"{ENGINE} {target.engine}"
        self._sessions: dict[str, tuple[str, calls.Api]] = {}

    # What the target can evaluate, probed once, and only when there is something to replay.
    @functools.cached_property
    def cannot_invoke(self) -> str | None:
        return probes.sigv4_enforced(self.outputs)

    @functools.cached_property
    def cannot_trust(self) -> str | None:
        return probes.trust_evaluated(self.outputs, self.target, self.idp, self.subject.classes)

    @functools.cached_property
    def cannot_tag(self) -> str | None:
        return self.cannot_trust or probes.session_tags_evaluated(
            self.outputs, self.target, self.idp, self.subject.classes)

    def __call__(self, counterexamples: Sequence[Counterexample]) -> list[Replay]:
        done = []
        for found in counterexamples:
            if isinstance(found.request, ConcreteToken) and found.role_arn:
                done.append(self._token(found, found.request))
            elif isinstance(found.request, ConcreteInvoke):
                done.append(self._invoke(found, found.request))
        return done

    def _skip(self, found: Counterexample, reason: str) -> Replay:
        return Replay(found, self.engine, "not replayed", reason)

    def _token(self, found: Counterexample, token: ConcreteToken) -> Replay:
        if token.provider_arn != self.subject.provider_arn:
            return self._skip(found, "a token of another issuer: the local identity provider "
                                     "signs for its own issuer only")
        if self.cannot_trust:
            return self._skip(found, self.cannot_trust)
        if token.tags and self.cannot_tag:
            return self._skip(found, self.cannot_tag)
        claims: dict[str, Any] = {"sub": token.sub, "aud": token.aud,
                                  "amr": list(token.amr) if token.amr is not None else None}
        if token.tags:
            claims[access.TAGS_CLAIM] = {"principal_tags": {k: [v] for k, v in token.tags}}
        minted = tokens.mint_token(claims, idp=self.idp)
        admitted = calls.assume_role_unless_refused(
            str(found.role_arn), minted, target=self.target, session_name=SESSION_NAME) is not None
        trust = parse_policy(dict(found.resource_policy or {}), "trust", "trust")
        expected = trust_verdict(token, trust, str(found.role_arn)).admitted
        return self._compare(found, expected, admitted, "STS admitted the token" if admitted
                             else "STS refused the token")

    def _session(self, user_class: access.UserClass) -> tuple[str, calls.Api]:
        """The class's real session: its demo user's login, STS, the role's credentials."""
        if user_class.name not in self._sessions:
            user = live_matrix.demo_user_for(user_class)
            token = login_client.id_token(user.login, idp=self.idp)
            answer = clients.unsigned_client("sts", target=self.target)\
                .assume_role_with_web_identity(
                    RoleArn=self.outputs["roles"][user_class.name], RoleSessionName=SESSION_NAME,
                    WebIdentityToken=token, DurationSeconds=900)
            self._sessions[user_class.name] = (answer["AssumedRoleUser"]["Arn"], calls.Api(
                self.outputs["apiUrl"], self.outputs["region"], answer["Credentials"]))
        return self._sessions[user_class.name]

    def _method(self, method: str, path: str) -> bool:
        """Whether the API has this method for this path (`{param}` matches one segment)."""
        parts = path.split("/")
        for (declared, template), _ in self.subject.synthesized.method_authorization.items():
            shape = template.strip("/").split("/")
            if declared == method and len(shape) == len(parts) and all(
                    s == p or (s.startswith("{") and p) for s, p in zip(shape, parts,
                                                                       strict=True)):
                return True
        return False

    def _invoke(self, found: Counterexample, request: ConcreteInvoke) -> Replay:
        user_class = next((c for c in self.subject.classes if found.user_class == c.name), None)
        if user_class is None or request.principal is None:
            return self._skip(found, "only the class roles' sessions have credentials here")
        if self.cannot_invoke:
            return self._skip(found, self.cannot_invoke)
        prefix = f"{self.subject.execution_arn}/{self.subject.synthesized.stage}/"
        if not request.resource.startswith(prefix):
            return self._skip(found, "not an ARN of the running API's stage")
        method, _, path = request.resource.removeprefix(prefix).partition("/")
        if not self._method(method, path):
            return self._skip(found, f"the API has no method {method} /{path}: API Gateway "
                                     "answers before any policy is read")
        session_arn, api = self._session(user_class)
        body = HARMLESS_BODY if method in ("POST", "PUT", "PATCH") else None
        status = api.call(method, f"/{path}", data=body).status_code
        # The emulator's aws:PrincipalArn is the session's ARN: judge the request as it sees it.
        seen = ConcreteInvoke(request.resource, session_arn, session_arn, "true")
        role = self.subject.synthesized.class_roles[user_class.name]
        identity = [parse_policy(d, f"identity-{i}", "identity")
                    for i, d in enumerate(role.identity_policies)]
        api_document = self.subject.synthesized.api_policy
        api_policy = (parse_policy(api_document, "api-policy", "resource")
                      if api_document is not None else None)
        expected = InvokeJudge(identity, api_policy).verdict(seen) == "Allowed"
        return self._compare(found, expected, status != 403,
                             f"{method} /{path} answered {status}")

    def _compare(self, found: Counterexample, expected: bool, live: bool, what: str) -> Replay:
        if expected == live:
            return Replay(found, self.engine, "agrees", what)
        return Replay(found, self.engine, "disagrees",
                      f"prover {'allows' if expected else 'refuses'}; {what}")


def prove_running(outputs: Mapping[str, Any], target: Target, idp: idp_process.Idp, *,
                  replay: bool = True, live: bool = True) -> ProofReport:
    """The proof of the running stack's deployed documents, counterexamples replayed."""
    subject = running_subject(outputs, target)
    live_replay = LiveReplay(subject, outputs, target, idp) if replay and live else None
    return prove_subject(subject, replay=replay, live=live_replay)
