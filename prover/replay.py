"""Counterexamples replayed through a second engine: iam-simulate offline, the emulator live.

A witness the prover found must get, from iam-simulate (iamsim.engine.simulate, one Node process
for the whole batch), the verdict the prover gave it; otherwise the run fails as an engine
disagreement: one of the two engines is wrong, and no proof or refutation is trusted. Live
replay (MiniStack) asks STS with a minted token and calls the API with the role's real
credentials, where the target can evaluate the request (prover/live.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from iamsim.engine import SimRequest
from iamsim.synth import Document
from prover.request_shapes import ASSUME, INVOKE, TAG_SESSION, ConcreteInvoke, ConcreteToken


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
