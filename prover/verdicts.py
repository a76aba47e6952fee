"""The prover's verdict on one concrete request: the same encoding with every variable fixed.

Used to replay a counterexample (its verdict must be what the theorem said) and by the
differential test against iam-simulate. A verdict is IAM's decision (iamsim.engine.Decision):
Allowed, ImplicitlyDenied or ExplicitlyDenied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import z3

from iamsim.engine import Decision
from prover import encoding
from prover.encoding import KeyValue, Outcome, RequestPrincipal, SymbolicRequest
from prover.fragment import CannotProve, Policy
from prover.request_shapes import (
    INVOKE,
    TAG_PREFIX,
    ConcreteInvoke,
    ConcreteToken,
    TagVars,
    TokenVars,
    condition_keys,
)

_VERDICTS: tuple[Decision, ...] = ("ImplicitlyDenied", "Allowed", "ExplicitlyDenied")


def _verdict_term(allows: z3.BoolRef, denies: z3.BoolRef) -> z3.ArithRef:
    return z3.If(denies, 2, z3.If(allows, 1, 0))


def _read(term: z3.ArithRef) -> Decision:
    value = z3.simplify(term)
    if not z3.is_int_value(value):
        solver = z3.Solver()
        solver.add(z3.Int("verdict!") == term)
        if solver.check() != z3.sat:
            raise CannotProve(f"the solver could not decide a concrete request "
                              f"({solver.reason_unknown()})")
        value = solver.model().eval(z3.Int("verdict!"))
    return _VERDICTS[value.as_long()]


class InvokeJudge:
    """Verdicts on execute-api:Invoke requests under fixed policies: the decision is encoded
    once over variables, each request substitutes its values (the differential test asks
    thousands)."""

    def __init__(self, identity: Sequence[Policy], resource: Policy | None) -> None:
        self._resource_var, self._principal, self._principal_arn, self._secure = (
            z3.String("resource"), z3.String("principal"), z3.String("principalArn"),
            z3.String("secureTransport"))
        self._anonymous, self._has_arn = z3.Bool("anonymous"), z3.Bool("hasPrincipalArn")
        keys = {"aws:PrincipalArn": KeyValue.single(self._has_arn, self._principal_arn),
                "aws:SecureTransport": KeyValue.single(True, self._secure)}
        request = SymbolicRequest(INVOKE, self._resource_var,
                                  RequestPrincipal(self._principal, self._anonymous),
                                  encoding.key_table(keys))
        own = encoding.evaluate(identity, request)
        api = encoding.evaluate([resource], request) if resource else Outcome(
            z3.BoolVal(False), z3.BoolVal(False))
        signed = _verdict_term(z3.Or(own.allows, api.allows), z3.Or(own.denies, api.denies))
        # An anonymous caller has no identity policies: the resource policy alone decides.
        self._term = z3.If(self._anonymous, _verdict_term(api.allows, api.denies), signed)

    def verdict(self, request: ConcreteInvoke) -> Decision:
        for text in (request.resource, request.principal or "", request.principal_arn or ""):
            encoding.check_printable(text, None, "the request")
        values = [(self._resource_var, z3.StringVal(request.resource)),
                  (self._principal, z3.StringVal(request.principal or "")),
                  (self._principal_arn, z3.StringVal(request.principal_arn or "")),
                  (self._secure, z3.StringVal(request.secure_transport)),
                  (self._anonymous, z3.BoolVal(request.principal is None)),
                  (self._has_arn, z3.BoolVal(request.principal_arn is not None))]
        return _read(z3.substitute(self._term, *values))


def invoke_verdict(request: ConcreteInvoke, identity: Sequence[Policy],
                   resource: Policy | None) -> Decision:
    """execute-api:Invoke by a caller in the API's account (or anonymous: the resource policy
    alone decides, as for an unsigned call to a method without authorization)."""
    return InvokeJudge(identity, resource).verdict(request)


def fixed_token(token: ConcreteToken, policies: Iterable[Policy],
                named_tags: Iterable[str] = ()) -> TokenVars:
    """The token as TokenVars of constants, its tags sorted into those the policies (or
    `named_tags`) name."""
    named = {k.lower().removeprefix(TAG_PREFIX) for k in condition_keys(policies)
             if k.lower().startswith(TAG_PREFIX)} | {k.lower() for k in named_tags}
    by_key = {k.lower(): (k, v) for k, v in token.tags}
    named_tags = {}
    for key in named:
        spelled, value = by_key.get(key, ("", ""))
        named_tags[key] = TagVars(z3.BoolVal(key in by_key), z3.StringVal(spelled),
                                  z3.StringVal(value))
    others = [TagVars(z3.BoolVal(True), z3.StringVal(k), z3.StringVal(v))
              for k, v in token.tags if k.lower() not in named]
    amr = [(z3.BoolVal(True), z3.StringVal(v)) for v in token.amr or ()]
    return TokenVars(token.provider_arn, z3.StringVal(token.aud), z3.StringVal(token.sub),
                     z3.BoolVal(token.amr is not None), amr, named_tags, others, [])


@dataclass(frozen=True)
class TrustVerdict:
    assume: Decision
    tag_session: Decision | None  # None: the token carries no tags, STS does not ask

    @property
    def admitted(self) -> bool:
        return self.assume == "Allowed" and self.tag_session in (None, "Allowed")


def same_account(provider_arn: str, role_arn: str) -> bool:
    """STS uses only providers registered in the role's account (iam-simulate: a principal of
    another account needs an identity policy too, which a provider has not)."""
    return provider_arn.split(":")[4:5] == role_arn.split(":")[4:5]


def trust_verdict(token: ConcreteToken, trust: Policy, role_arn: str) -> TrustVerdict:
    """What STS decides for AssumeRoleWithWebIdentity with this token against `trust`."""
    for text in (token.aud, token.sub, *(token.amr or ()), *[x for t in token.tags for x in t]):
        encoding.check_printable(text, None, "the token")
    fixed = fixed_token(token, [trust])
    assume, tag = fixed.requests(condition_keys([trust]))

    def decide(request: SymbolicRequest) -> Decision:
        decision = encoding.evaluate([trust], request)
        allows = z3.And(decision.allows, same_account(token.provider_arn, role_arn))
        return _read(_verdict_term(allows, decision.denies))

    return TrustVerdict(decide(assume), decide(tag) if token.tags else None)
