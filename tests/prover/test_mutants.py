"""Mutants of the real policies: each one a widening the prover must refute with a readable
counterexample naming the class, which iam-simulate, replaying it, must agree with.

The real documents are the `local` stack's, as the program synthesizes them; each mutant
changes one of them the way a mistake (or an attacker with write access) would. The last tests
mutate the program itself (components/policies.py) and run `python -m prover prove` on it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

import access
from components import policies
from prover import cli
from prover import replay as replays
from prover.request_shapes import ConcreteInvoke, ConcreteToken
from prover.subject import Subject
from prover.theorems import Counterexample, prove
from tests.support import programs

Document = dict[str, Any]


@pytest.fixture(scope="module")
def local() -> Subject:
    return programs.subject("local")


def mutate(subject: Subject, *, role: str | None = None, trust: Callable[[Document], None] |
           None = None, identity: Callable[[Document], None] | None = None,
           api: Callable[[Document], None] | None = None) -> Subject:
    s = subject.synthesized
    roles = dict(s.class_roles)
    if role is not None:
        current = roles[role]
        new_trust = copy.deepcopy(current.trust_policy)
        new_identity = [copy.deepcopy(d) for d in current.identity_policies]
        if trust:
            trust(new_trust)
        if identity:
            identity(new_identity[0])
        roles[role] = dataclasses.replace(current, trust_policy=new_trust,
                                          identity_policies=tuple(new_identity))
    api_policy = copy.deepcopy(s.api_policy)
    if api:
        api(api_policy)
    return Subject(dataclasses.replace(s, class_roles=roles, api_policy=api_policy), "mutant")


def refuted(subject: Subject, label: str) -> list[Counterexample]:
    [result] = prove(subject, only=[label])
    assert result.status == "refuted", f"{label} was {result.status}"
    assert result.counterexamples
    replayed = replays.offline(result.counterexamples)
    assert replayed, "nothing was replayed"
    assert all(r.outcome == "agrees" for r in replayed), [r.describe() for r in replayed]
    return result.counterexamples


def _statement(document: Document, sid: str) -> Document:
    return next(s for s in document["Statement"] if s.get("Sid") == sid)


def _provider_key(document: Document, suffix: str) -> str:
    for statement in document["Statement"]:
        for block in statement.get("Condition", {}).values():
            for key in block:
                if key.endswith(suffix):
                    return key
    raise AssertionError(f"no key ending {suffix}")


# --- four widenings a review could miss -------------------------------------------------------


def test_a_buyer_trust_that_also_admits_a_sub_pattern_no_token_kind_meets(local: Subject):
    def widen(trust: Document) -> None:
        statement = _statement(trust, "MembersBySubPattern")
        key = _provider_key(trust, ":sub")
        statement["Condition"]["StringLike"][key] = [*statement["Condition"]["StringLike"][key],
                                                     "auth0|z*"]

    found = refuted(mutate(local, role="buyer", trust=widen), "buyer: trust")
    first = found[0].request
    assert isinstance(first, ConcreteToken) and first.sub == "auth0|z", found[0].describe()
    assert found[0].user_class == "buyer" and found[0].policies_allow
    assert "no membership rule names sub 'auth0|z'" in found[0].describe()


def test_a_buyer_role_also_granted_a_method_that_does_not_exist(local: Subject):
    def widen(policy: Document) -> None:
        resources = policy["Statement"][0]["Resource"]
        resources.append(resources[0].replace("/GET/pets", "/PUT/pets"))

    found = refuted(mutate(local, role="buyer", identity=widen), "buyer: identity")
    request = found[0].request
    assert isinstance(request, ConcreteInvoke)
    assert request.resource == (f"{local.execution_arn}/local/PUT/pets"), found[0].describe()
    assert "allows what the model does not grant" in found[0].describe()


def test_an_api_policy_without_the_deny_that_walls_the_buyer_in(local: Subject):
    def unwall(policy: Document) -> None:
        policy["Statement"] = [s for s in policy["Statement"]
                               if s.get("Sid") != "DenyBuyerOtherRoutes"]

    found = refuted(mutate(local, api=unwall), "buyer: api-policy")
    assert all(c.user_class == "buyer" for c in found)
    assert "no second wall" in found[0].finding
    request = found[0].request
    assert isinstance(request, ConcreteInvoke)
    assert request.resource.startswith(f"{local.execution_arn}/local/")
    assert request.principal and ":assumed-role/pets-local-buyer/" in request.principal


def test_an_admin_trust_accepting_any_value_of_the_grant_tag(local: Subject):
    def loosen(trust: Document) -> None:
        condition = _statement(trust, "MembersBySessionTag")["Condition"]
        condition["StringEquals"].pop(f"aws:RequestTag/{access.GRANT_TAG_KEY}")
        condition["StringLike"] = {f"aws:RequestTag/{access.GRANT_TAG_KEY}": "*"}

    found = refuted(mutate(local, role="admin", trust=loosen), "admin: trust")
    token = found[0].request
    assert isinstance(token, ConcreteToken)
    [(key, value)] = token.tags
    assert key == access.GRANT_TAG_KEY and value != "admin", found[0].describe()
    assert "are not the grant {'pets-class': 'admin'}" in found[0].describe()


# --- the mutants of the policies' other walls -----------------------------------------------


def test_a_widened_arn_in_the_admin_policy(local: Subject):
    def widen(policy: Document) -> None:
        policy["Statement"][0]["Resource"] = [f"{local.execution_arn}/local/*/pets"]

    found = refuted(mutate(local, role="admin", identity=widen), "admin: identity")
    resources = {c.request.resource for c in found if isinstance(c.request, ConcreteInvoke)}
    assert resources & {f"{local.execution_arn}/local/{m}/pets" for m in ("PUT", "HEAD", "PATCH",
                                                                         "OPTIONS")}


def test_a_dropped_audience_admits_a_token_for_another_client(local: Subject):
    def drop(trust: Document) -> None:
        _statement(trust, "MembersBySubPattern")["Condition"].pop("StringEquals")

    found = refuted(mutate(local, role="buyer", trust=drop), "buyer: trust")
    assert all("a token for another client" in c.describe() for c in found)
    token = found[0].request
    assert isinstance(token, ConcreteToken) and token.aud != local.client_id


def test_a_trust_for_another_issuer(local: Subject):
    """The same rules, keyed to someone else's provider: its tokens get in, ours do not."""
    ours = local.provider_arn.split(":oidc-provider/")[1]

    def elsewhere(trust: Document) -> None:
        text = json.dumps(trust).replace(ours, "someone-else.example.com/")
        trust.clear()
        trust.update(json.loads(text))

    found = refuted(mutate(local, role="admin", trust=elsewhere), "admin: trust")
    assert any("a token from another issuer" in c.describe() for c in found)
    assert any(c.finding == "refuses a token the membership names" for c in found)


def test_a_removed_deny_of_other_principals(local: Subject):
    def drop(policy: Document) -> None:
        policy["Statement"] = [s for s in policy["Statement"]
                               if s.get("Sid") != "DenyOtherPrincipals"]

    found = refuted(mutate(local, api=drop), "others")
    assert "does not explicitly deny another caller" in found[0].describe()
    assert found[0].user_class is None


def test_a_missing_grant_is_refuted_too(local: Subject):
    """The other direction: a policy that lost a route the model grants."""
    def narrow(policy: Document) -> None:
        policy["Statement"][0]["Resource"] = [r for r in policy["Statement"][0]["Resource"]
                                              if not r.endswith("/POST/pets/purchase")]

    found = refuted(mutate(local, role="buyer", identity=narrow), "buyer: identity")
    assert found[0].finding == "refuses what the model grants"
    assert isinstance(found[0].request, ConcreteInvoke)
    assert found[0].request.resource.endswith("/POST/pets/purchase")


def test_an_unmutated_stack_is_proved(local: Subject):
    """The control every mutant starts from."""
    results = prove(mutate(local))
    assert [r.label for r in results if r.status != "proved"] == []


# --- the program itself widened, through `python -m prover prove` ----------------------------


def test_the_cli_exits_1_naming_the_class_when_the_program_widens_a_trust(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    original = policies.trust_policy

    def every_database_user_is_admin(provider_arn: str, issuer: str, client_id: str,
                                     members: access.Membership) -> Document:
        document = original(provider_arn, issuer, client_id, members)
        if members.session_tags:
            key = policies.oidc_key_prefix(issuer)
            document["Statement"].append({
                "Effect": "Allow", "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{key}:aud": client_id},
                              "StringLike": {f"{key}:sub": "auth0|*"}}})
        return document

    monkeypatch.setattr(policies, "trust_policy", every_database_user_is_admin)
    assert cli.main(["prove", "dev"]) == 1
    out = capsys.readouterr().out
    assert "✘ admin: trust" in out
    assert "counterexample: admin: trust admits a token the membership does not name: a token " \
           "with sub 'auth0|'" in out
    assert "replayed: iam-simulate agrees" in out


def test_the_cli_exits_0_on_a_stack_file_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    """(test_stack_files.py proves every stack file the same way, in-process.)"""
    assert cli.main(["prove", "local"]) == 0
    assert "OK: every theorem proved for every stack file." in capsys.readouterr().out


def test_the_cli_exits_2_when_a_policy_leaves_the_fragment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    original = policies.invoke_policy

    def with_if_exists(execution_arn: str, stage: str, routes: Any) -> Document:
        document = original(execution_arn, stage, routes)
        document["Statement"][0]["Condition"] = {
            "StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}
        return document

    monkeypatch.setattr(policies, "invoke_policy", with_if_exists)
    assert cli.main(["prove", "local"]) == 2
    out = capsys.readouterr().out
    assert "cannot prove: operator StringEqualsIfExists in pets-local-admin/identity-0/" \
           "InvokeAllowedRoutes" in out


def test_the_cli_refuses_an_unknown_stack(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["prove", "nope"])
    assert exited.value.code == 2
    assert "no Pulumi.<stack>.yaml for nope" in capsys.readouterr().err
