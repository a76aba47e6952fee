"""Who becomes which class, for every stack file: the offline IAM engine against ACCESS.md.

For each `Pulumi.<stack>.yaml`, the program runs under mocks with that stack's config and
@cloud-copilot/iam-simulate evaluates the synthesized trust policies for the ID tokens anyone
can obtain (access.token_kinds: a self-registered database user, a social login, a granted
staff member, tokens for another client or from another issuer, a grant with the wrong
audience). The result must be what ACCESS.md's "who becomes which class" table says, and no
token without a grant may reach a class that manages the shop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import access
from components import policies
from harness_core.stack_files import stack_names
from iamsim.offline_matrix import ROOT, OfflineMatrices, compute_offline_matrices, offline_matrices
from policy.access_doc import stack_settings, who_becomes_from_doc
from tests.support.programs import synthesized

STACKS = stack_names(ROOT)
SETTINGS = {s.stack: s for s in stack_settings(ROOT)}


def who_becomes(result: OfflineMatrices) -> dict[str, list[str]]:
    return {label: [c for c, allowed in row.items() if allowed]
            for label, row in result.trust.items()}


def evaluate(stack: str) -> OfflineMatrices:
    """The matrices of the program as it is now (a test may have patched it)."""
    classes = SETTINGS[stack].user_classes
    return offline_matrices(stack, identities=access.token_kinds(classes))


@pytest.fixture(scope="module", params=STACKS)
def stack_result(request: pytest.FixtureRequest) -> tuple[str, OfflineMatrices]:
    """The matrices of the committed program, from the session's shared recording."""
    stack = request.param
    identities = access.token_kinds(SETTINGS[stack].user_classes)
    return stack, compute_offline_matrices(synthesized(stack), identities)


def test_every_real_stack_file_is_covered() -> None:
    assert {"dev", "prod", "local"} <= set(STACKS)


def test_offline_engine_agrees_with_access_md(stack_result: tuple[str, OfflineMatrices]) -> None:
    stack, result = stack_result
    documented = who_becomes_from_doc(ROOT / "ACCESS.md")
    assert stack in documented, f"ACCESS.md has no table for stack {stack}: run `make access`"
    assert who_becomes(result) == documented[stack], result.trust_report()
    assert result.problems() == [], "\n".join(result.problems())


def test_no_token_without_a_grant_manages_the_shop(
    stack_result: tuple[str, OfflineMatrices],
) -> None:
    stack, result = stack_result
    managing = {c.name for c in SETTINGS[stack].user_classes if c.manages_shop}
    granted = {t.label for c in SETTINGS[stack].user_classes for t in access.granted_tokens(c)}
    for label, classes in who_becomes(result).items():
        if label not in granted:
            assert not managing & set(classes), f"stack {stack}: {label} becomes {classes}"
    assert who_becomes(result)["self-registered database user"] == [], stack


def test_the_granted_staff_member_is_an_admin(stack_result: tuple[str, OfflineMatrices]) -> None:
    stack, result = stack_result
    becomes = who_becomes(result)
    assert all(becomes[t.label] == ["admin"] for t in access.granted_tokens(
        next(c for c in SETTINGS[stack].user_classes if c.name == "admin"))), becomes


def admit_every_database_user(original: Callable[..., Any], provider_arn: str, issuer: str,
                              client_id: str, members: access.Membership) -> Any:
    """The seed's rule, slipped past the model's check into the synthesized trust policy."""
    document = original(provider_arn, issuer, client_id, members)
    if members.session_tags.get(access.GRANT_TAG_KEY) == "admin":
        key = policies.oidc_key_prefix(issuer)
        document["Statement"].append({
            "Effect": "Allow", "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{key}:aud": client_id},
                          "StringLike": {f"{key}:sub": "auth0|*"}},
        })
    return document


def test_the_engine_sees_a_self_registered_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    original = policies.trust_policy
    monkeypatch.setattr(policies, "trust_policy",
                        lambda *a: admit_every_database_user(original, *a))
    result = evaluate("dev")
    assert who_becomes(result)["self-registered database user"] == ["admin"]
    assert any("self-registered database user" in p for p in result.problems())
