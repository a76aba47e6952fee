"""`make access-diff BASE=<rev>`: what a change grants and revokes, class by class, over every
request (as IAM Access Analyzer's CheckNoNewAccess does for one policy).

For every stack file in both trees and every class: execute-api:Invoke requests on the API that
the working tree's policies allow and BASE's did not (new ARNs a role may invoke), and the
other way round; ID tokens the working tree's trust policy admits and BASE's did not (new tokens
a trust admits), and the other way round; the membership rules widened or narrowed (tokens the
model admits now and did not, or the reverse); routes the model grants or stops granting; each
change with a witness. It exits 1 when anything is granted, so CI can require a review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import z3

import access
from harness_core.stack_files import stack_names
from prover import encoding
from prover.request_shapes import InvokeVars, TokenVars
from prover.revision import synthesize_revision
from prover.subject import ROOT, Subject, synthesized_subject
from prover.theorems import (
    Counterexample,
    api_policy,
    api_space,
    identity_policies,
    invoke_witnesses,
    model_admits,
    sessions,
    sts_admits,
    token_witnesses,
    trust_policy,
)

LIMIT = 2  # witnesses per change


@dataclass(frozen=True)
class Change:
    stack: str
    user_class: str
    granted: bool  # False: revoked
    what: str
    witness: Counterexample | None = None

    def describe(self) -> str:
        verb = "GRANTED" if self.granted else "revoked"
        shown = f": {self.witness.request.describe()}" if self.witness and \
            self.witness.request else ""
        note = f" ({self.witness.note})" if self.witness and self.witness.note else ""
        return f"{self.user_class}: {verb} {self.what}{shown}{note}"


def _effective(subject: Subject, user_class: str, v: InvokeVars) -> z3.BoolRef:
    if user_class not in subject.synthesized.class_roles:
        return z3.BoolVal(False)
    return encoding.same_account_invoke(
        encoding.evaluate(identity_policies(subject, user_class), v.request),
        encoding.evaluate(api_policy(subject), v.request))


def _invoke_changes(base: Subject, head: Subject, name: str) -> list[Change]:
    def checks(v: InvokeVars) -> list[tuple[str, z3.BoolRef, bool]]:
        now, before = _effective(head, name, v), _effective(base, name, v)
        return [("granted", z3.And(now, z3.Not(before)), True),
                ("revoked", z3.And(before, z3.Not(now)), False)]

    found = invoke_witnesses(head, sessions(head, name, api_space(head)), checks,
                             theorem="access-diff", user_class=name, limit=LIMIT,
                             identity=head.synthesized.class_roles[name].identity_policies,
                             resource=head.synthesized.api_policy)
    return [Change(head.stack, name, c.finding == "granted", "execute-api:Invoke", c)
            for c in found]


def _trusts(subject: Subject, name: str) -> list:
    role = subject.synthesized.class_roles.get(name)
    return [] if role is None else [trust_policy(subject, role.name, role.trust_policy)]


def _token_changes(base: Subject, head: Subject, name: str) -> list[Change]:
    role = head.synthesized.class_roles[name]
    now_trust, before_trust = _trusts(head, name), _trusts(base, name)
    before_role = base.synthesized.class_roles.get(name)

    def checks(token: TokenVars) -> list[tuple[str, z3.BoolRef, bool]]:
        now = sts_admits(now_trust[0], role.arn, token)
        before = (sts_admits(before_trust[0], before_role.arn, token)
                  if before_trust and before_role else z3.BoolVal(False))
        return [("granted", z3.And(now, z3.Not(before)), True),
                ("revoked", z3.And(before, z3.Not(now)), False)]

    classes = [*head.classes, *base.classes]
    found = token_witnesses(head, [*now_trust, *before_trust], checks, theorem="access-diff",
                            user_class=name, trust_document=role.trust_policy,
                            role_arn=role.arn, limit=LIMIT, classes=classes)
    return [Change(head.stack, name, c.finding == "granted",
                   "a token its trust policy admits" if c.finding == "granted"
                   else "a token its trust policy admitted", c) for c in found]


def _membership_changes(base: Subject, head: Subject, now: access.UserClass,
                        before: access.UserClass) -> list[Change]:
    policies = [*_trusts(head, now.name), *_trusts(base, now.name)]

    def checks(token: TokenVars) -> list[tuple[str, z3.BoolRef, bool]]:
        admits_now = model_admits(head, now, token)
        admits_before = model_admits(base, before, token)
        return [("granted", z3.And(admits_now, z3.Not(admits_before)), True),
                ("revoked", z3.And(admits_before, z3.Not(admits_now)), False)]

    role = head.synthesized.class_roles[now.name]
    found = token_witnesses(head, policies, checks, theorem="access-diff", user_class=now.name,
                            trust_document=role.trust_policy, role_arn=role.arn, limit=1,
                            classes=[now, before])
    return [Change(head.stack, now.name, c.finding == "granted",
                   "membership (widened)" if c.finding == "granted"
                   else "membership (narrowed)",
                   Counterexample(c.theorem, c.user_class, c.finding, c.request))
            for c in found]


def diff_subjects(base: Subject, head: Subject) -> list[Change]:
    """Every change of access between two versions of one stack."""
    changes: list[Change] = []
    before = {c.name: c for c in base.classes}
    for now in head.classes:
        name = now.name
        if name not in before:
            changes.append(Change(head.stack, name, True, f"a new class with routes "
                                  f"{', '.join(r.id for r in now.routes)}"))
        else:
            routes_before = {r.id for r in before[name].routes}
            routes_now = {r.id for r in now.routes}
            changes += [Change(head.stack, name, True, f"the model grants {r}")
                        for r in sorted(routes_now - routes_before)]
            changes += [Change(head.stack, name, False, f"the model no longer grants {r}")
                        for r in sorted(routes_before - routes_now)]
        if name in head.synthesized.class_roles:
            changes += _invoke_changes(base, head, name)
            changes += _token_changes(base, head, name)
            if name in before:
                changes += _membership_changes(base, head, now, before[name])
    for name in sorted(set(before) - {c.name for c in head.classes}):
        changes.append(Change(head.stack, name, False, "the class (removed)"))
    return changes


def access_diff(base_revision: str, *, root: Path = ROOT, lambda_package: Path,
                stacks: Sequence[str] = ()) -> tuple[str, int]:
    """The report and the exit status: 1 when anything is granted, else 0."""
    base = synthesize_revision(base_revision, lambda_package, root, stacks)
    override = {"pets:lambdaPackage": str(lambda_package)}
    names = list(stacks) or stack_names(root)
    lines: list[str] = []
    granted = False
    for stack in names:
        if stack not in base:
            lines.append(f"Stack `{stack}`: new since {base_revision} (nothing to compare)")
            continue
        head = synthesized_subject(stack, root, override)
        changes = diff_subjects(base[stack], head)
        granted = granted or any(c.granted for c in changes)
        lines.append(f"Stack `{stack}`: {base_revision} -> working tree, every request:")
        lines += [f"  {c.describe()}" for c in changes] or ["  no access granted or revoked"]
    if not stacks:
        for stack in sorted(set(base) - set(names)):
            lines.append(f"Stack `{stack}`: removed since {base_revision}")
    lines.append("ACCESS GRANTED: review required." if granted
                 else "No access granted (revocations, if any, are listed).")
    return "\n".join(lines), 1 if granted else 0
