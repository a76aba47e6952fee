"""`python -m devstack prove` on the running stack: the deployed policies, read back.

Each test widens the deployed policies by hand, as a mistake or an intruder would (the
emulator's root key changes them: setup only, never a call meant to be denied), and the proof
must fail naming the class, with a counterexample that iam-simulate (and, where the target
can evaluate it, the live stack) agrees with. The session stack is shared: each test restores
what it changed in a `finally`, and then the deployed documents must be the ones the fresh
stack holds, which test_the_fresh_stack_is_proved proves.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import access
from devstack import clients, paths, probes, proof
from iamsim.deployed import policy_document
from iamsim.synth import Synthesized
from prover.report import ProofReport
from prover.request_shapes import ConcreteInvoke, ConcreteToken
from tests.support.session_stack import Local

Document = dict[str, Any]


def prove(local: Local) -> ProofReport:
    return proof.prove_running(local.outputs, local.target, local.idp)


def _role_name(local: Local, user_class: str) -> str:
    return local.outputs["roles"][user_class].rsplit("/", 1)[-1]


@pytest.fixture
def iam(local: Local) -> Any:
    return clients.client("iam", target=local.target)  # the deploy key: setup only


def _trust(iam: Any, role: str) -> Document:
    return dict(iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def _widened_trust(iam: Any, role: str, change: Callable[[Document], None]) -> Iterator[None]:
    original = _trust(iam, role)
    widened = copy.deepcopy(original)
    change(widened)
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(widened))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(original))


def refuted(report: ProofReport, label: str) -> list:
    results = {r.label: r for r in report.results}
    assert report.exit_code == 1, report.render()
    assert results[label].status == "refuted", report.render()
    assert [r.label for r in report.results if r.status == "refuted"] == [label], report.render()
    assert not report.disagreements, report.render()
    replayed = [r for r in report.replays if r.engine == "iam-simulate"]
    assert replayed and all(r.outcome == "agrees" for r in replayed), report.render()
    return results[label].counterexamples


@pytest.fixture(scope="module")
def as_applied(local: Local) -> Synthesized:
    """The documents the fresh stack holds, read back before any test widens them."""
    return proof.running_subject(local.outputs, local.target).synthesized


def restored(local: Local, as_applied: Synthesized) -> None:
    now = proof.running_subject(local.outputs, local.target).synthesized
    assert now == as_applied, "a widened document was not restored"


def test_the_fresh_stack_is_proved(local: Local, as_applied: Synthesized) -> None:
    report = prove(local)
    assert report.exit_code == 0, report.render()
    assert report.subject.synthesized == as_applied
    assert report.subject.source.startswith(
        f"deployed, read back from {local.target.engine}"), report.subject.source
    assert report.subject.synthesized.api_policy is not None  # the second wall was read back


def test_a_buyer_trust_admitting_auth0_z_star(local: Local, iam: Any,
                                              as_applied: Synthesized) -> None:
    role = _role_name(local, "buyer")

    def widen(trust: Document) -> None:
        statement = next(s for s in trust["Statement"] if s.get("Sid") == "MembersBySubPattern")
        [key] = statement["Condition"]["StringLike"]
        statement["Condition"]["StringLike"][key] = [*statement["Condition"]["StringLike"][key],
                                                     "auth0|z*"]

    for _ in _widened_trust(iam, role, widen):
        report = prove(local)
        found = refuted(report, "buyer: trust")
        token = found[0].request
        assert isinstance(token, ConcreteToken) and token.sub == "auth0|z"
        live = [r for r in report.replays if r.engine.startswith("live")]
        cannot = probes.trust_evaluated(local.outputs, local.target, local.idp,
                                        report.subject.classes)
        if cannot is None:  # MiniStack: STS itself admits the witness
            assert any(r.outcome == "agrees" and "STS admitted" in r.detail for r in live), (
                report.render())
        else:  # LocalStack: no trust evaluation, and the replay says so
            assert live and all(r.detail == cannot for r in live), report.render()
    restored(local, as_applied)


def test_the_buyer_role_also_granted_put_pets(local: Local, iam: Any,
                                              as_applied: Synthesized) -> None:
    role = _role_name(local, "buyer")
    arn = (f"arn:aws:execute-api:{local.outputs['region']}:{local.target.account_id}:"
           f"{local.outputs['restApiId']}/{local.outputs['stage']}/PUT/pets")
    iam.put_role_policy(RoleName=role, PolicyName="it-put-pets", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arn}]}))
    try:
        found = refuted(prove(local), "buyer: identity")
        request = found[0].request
        assert isinstance(request, ConcreteInvoke) and request.resource == arn
        assert found[0].user_class == "buyer"
    finally:
        iam.delete_role_policy(RoleName=role, PolicyName="it-put-pets")
    restored(local, as_applied)


def test_an_api_policy_without_the_deny_walling_the_buyer_in(local: Local,
                                                           as_applied: Synthesized) -> None:
    apigateway = clients.client("apigateway", target=local.target)
    api_id = local.outputs["restApiId"]
    original = policy_document(apigateway.get_rest_api(restApiId=api_id)["policy"])
    unwalled = {**original, "Statement": [s for s in original["Statement"]
                                          if s.get("Sid") != "DenyBuyerOtherRoutes"]}
    assert len(unwalled["Statement"]) == len(original["Statement"]) - 1

    def put(document: Document) -> None:
        apigateway.update_rest_api(restApiId=api_id, patchOperations=[
            {"op": "replace", "path": "/policy", "value": json.dumps(document)}])

    put(unwalled)
    try:
        found = refuted(prove(local), "buyer: api-policy")
        assert all(c.user_class == "buyer" for c in found)
        assert "no second wall" in found[0].finding
    finally:
        put(original)
    restored(local, as_applied)


def test_an_admin_trust_accepting_any_grant_tag_value(local: Local, iam: Any,
                                                      as_applied: Synthesized) -> None:
    role = _role_name(local, "admin")

    def loosen(trust: Document) -> None:
        statement = next(s for s in trust["Statement"] if s.get("Sid") == "MembersBySessionTag")
        statement["Condition"]["StringEquals"].pop(f"aws:RequestTag/{access.GRANT_TAG_KEY}")
        statement["Condition"]["StringLike"] = {f"aws:RequestTag/{access.GRANT_TAG_KEY}": "*"}

    for _ in _widened_trust(iam, role, loosen):
        report = prove(local)
        found = refuted(report, "admin: trust")
        token = found[0].request
        assert isinstance(token, ConcreteToken) and token.tags
        # MiniStack ignores the tags claim: the live replay says so instead of guessing.
        live = [r for r in report.replays if r.engine.startswith("live")]
        assert live and all(r.outcome == "not replayed" for r in live), report.render()
    restored(local, as_applied)


def test_the_cli_exits_0_on_the_running_stack(local: Local, running_stack: Any) -> None:
    """`python -m devstack prove` itself, pointed at the session stack."""
    if running_stack.outputs_file is None:
        pytest.skip("the session stack wrote no outputs file")
    env = {**os.environ, "AWS_ENDPOINT_URL": local.target.endpoint_url}
    result = subprocess.run([sys.executable, "-m", "devstack", "prove", "--outputs",
                             str(running_stack.outputs_file), "--idp-name",
                             running_stack.idp_name], cwd=paths.REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: the deployed policies give each class exactly its access" in result.stdout
