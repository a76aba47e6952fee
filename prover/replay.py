"""Counterexamples replayed through a second engine: iam-simulate offline, the emulator live.

A witness the prover found must get, from iam-simulate (iamsim.engine.simulate, one Node process
for the whole batch), the verdict the prover gives it (prover/verdicts.py: the theorem's own
formulas, every variable fixed); otherwise the run fails as an engine disagreement: one of the
two engines is wrong, and neither a proof nor a refutation is trusted. Live replay (on MiniStack,
devstack/proof.py) asks STS with a minted token and calls the API with real role credentials.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from iamsim.engine import Decision, SimRequest, simulate
from iamsim.synth import Document
from prover.fragment import parse_policy
from prover.request_shapes import ASSUME, INVOKE, TAG_SESSION, ConcreteInvoke, ConcreteToken
from prover.theorems import Counterexample
from prover.verdicts import InvokeJudge, trust_verdict

# The execute-api:Invoke resources iam-simulate evaluates (its resource type
# arn:${Partition}:execute-api:${Region}:${Account}:${ApiId}/${Stage}/${Method}/${Path}, each
# part non-empty; simulate.mjs wants a 12-digit account).
REPLAYABLE = re.compile(r"^arn:.+:execute-api:.+:\d{12}:.+/.+/.+/.+$", re.DOTALL)


def invoke_sim_request(request: ConcreteInvoke, identity: Sequence[Document],
                       resource_policy: Document | None, *, id: str) -> SimRequest:
    """The same execute-api:Invoke for iam-simulate; an anonymous caller as its anonymous
    principal, with no identity policies."""
    context: dict[str, str | list[str]] = {"aws:SecureTransport": request.secure_transport}
    if request.principal_arn is not None:
        context["aws:PrincipalArn"] = request.principal_arn
    return SimRequest(action=INVOKE, resource=request.resource, principal=request.principal,
                      identity_policies=tuple(identity) if request.principal else (),
                      resource_policy=resource_policy, context=context, id=id)


def token_sim_requests(token: ConcreteToken, role_arn: str, trust: Document, *, id: str
                       ) -> list[SimRequest]:
    """AssumeRoleWithWebIdentity with the token's keys, and TagSession when it carries tags."""
    actions = [ASSUME, *([TAG_SESSION] if token.tags else [])]
    return [SimRequest(action=action, resource=role_arn, principal=token.provider_arn,
                       resource_policy=trust, context=token.context(), id=f"{id} [{action}]")
            for action in actions]


@dataclass(frozen=True)
class Replay:
    """What the second engine made of one counterexample."""

    counterexample: Counterexample
    engine: str  # "iam-simulate" or the live target's name
    outcome: str  # "agrees", "disagrees" or "not replayed"
    detail: str = ""

    def describe(self) -> str:
        return f"{self.engine} {self.outcome}" + (f": {self.detail}" if self.detail else "")


def _in_resource_account(request: ConcreteInvoke) -> ConcreteInvoke:
    """The caller moved into the resource's account: an identity policy judged alone, as for a
    caller of that account (iam-simulate would otherwise need the other account's consent)."""
    if request.principal is None:
        return request
    resource_account = request.resource.split(":")[4]
    parts = request.principal.split(":")
    if len(parts) > 4 and parts[4] != resource_account:
        parts[4] = resource_account
        return ConcreteInvoke(request.resource, ":".join(parts), request.principal_arn,
                              request.secure_transport)
    return request


def offline(counterexamples: Sequence[Counterexample]) -> list[Replay]:
    """Every counterexample that carries a request, through iam-simulate in one batch."""
    batch: list[SimRequest] = []
    pending: list[tuple[Counterexample, list[str], list[Decision]]] = []
    replays: list[Replay] = []
    for n, found in enumerate(counterexamples):
        request = found.request
        if isinstance(request, ConcreteInvoke):
            if not REPLAYABLE.match(request.resource):
                replays.append(Replay(found, "iam-simulate", "not replayed",
                                      "iam-simulate knows execute-api:Invoke only on ARNs with "
                                      "a region, account, API, stage, method and path"))
                continue
            if found.resource_policy is None:
                request = _in_resource_account(request)
            identity = [parse_policy(d, f"identity-{i}", "identity")
                        for i, d in enumerate(found.identity)]
            api = (parse_policy(found.resource_policy, "api-policy", "resource")
                   if found.resource_policy is not None else None)
            expected = [InvokeJudge(identity, api).verdict(request)]
            sims = [invoke_sim_request(request, found.identity, found.resource_policy,
                                       id=f"counterexample {n}")]
        elif isinstance(request, ConcreteToken) and found.role_arn and found.resource_policy:
            trust = parse_policy(found.resource_policy, "trust", "trust")
            verdict = trust_verdict(request, trust, found.role_arn)
            expected = [verdict.assume, *([verdict.tag_session] if request.tags else [])]
            sims = token_sim_requests(request, found.role_arn, found.resource_policy,
                                      id=f"counterexample {n}")
        else:
            continue
        batch += sims
        pending.append((found, [str(s.id) for s in sims], expected))  # type: ignore[arg-type]
    if not batch:
        return replays
    decisions = {str(r.id): r.decision for r in simulate(batch)}
    for found, ids, expected in pending:
        got = [decisions[i] for i in ids]
        if got == expected:
            replays.append(Replay(found, "iam-simulate", "agrees", ", ".join(got)))
        else:
            replays.append(Replay(found, "iam-simulate", "disagrees",
                                  f"prover {', '.join(expected)}; iam-simulate "
                                  f"{', '.join(got)}"))
    return replays
