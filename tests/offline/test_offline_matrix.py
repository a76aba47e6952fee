"""The offline access matrices of what the program would deploy (iamsim.offline_matrix), and
their report.

The program runs under Pulumi mocks with the unit-test stack config; its synthesized policies are
evaluated by @cloud-copilot/iam-simulate in one Node batch per computation. The broken-program
tests patch components.policies in-test and check that the matrices notice: the check can fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import access
from components import policies
from devstack.__main__ import main
from iamsim.offline_matrix import (
    DEMO_IDENTITIES,
    OfflineMatrices,
    compute_offline_matrices,
    concrete_path,
    expected_trust_matrix,
    forbidden_arns,
    offline_matrices,
)
from iamsim.report import compare_matrices
from tests.support.programs import BASE_CONFIG, synthesized

STACK = "unit"
# What the brief asks for, written out: the membership matcher must derive exactly this.
EXPECTED_TRUST = {
    "alice": {"admin": True, "buyer": False},
    "bob": {"admin": False, "buyer": True},
    "dave": {"admin": False, "buyer": True},
    "mallory": {"admin": False, "buyer": False},
    "eve": {"admin": False, "buyer": False},
    "bob wrong aud": {"admin": False, "buyer": False},
    "alice wrong aud": {"admin": False, "buyer": False},
}


def compute() -> OfflineMatrices:
    """The matrices of the program as it is now (a test may have patched it)."""
    return offline_matrices(STACK, config=BASE_CONFIG)


@pytest.fixture(scope="module")
def offline() -> OfflineMatrices:
    """The matrices of the program as committed, from the session's shared recording."""
    return compute_offline_matrices(synthesized(STACK, tuple(sorted(BASE_CONFIG.items()))),
                                    DEMO_IDENTITIES)


# --------------------------------------------------------------------------- the real program


def test_invoke_matrix_equals_the_model(offline: OfflineMatrices) -> None:
    assert offline.invoke == access.access_matrix(), offline.invoke_report()
    assert offline.invoke_report() is None
    # Every cell came from the engine (no public or missing routes in this model).
    assert offline.notes == []
    assert len([k for k in offline.results if k.startswith("invoke ")]) == 8


def test_invoke_matrix_equals_access_md(offline: OfflineMatrices) -> None:
    """The reviewed document and the second engine's reading of the program agree."""
    from policy.access_doc import access_matrix_from_doc

    documented = access_matrix_from_doc(Path(access.__file__).with_name("ACCESS.md"))
    assert offline.invoke == documented, offline.render()


def test_invoke_requests_use_mock_values_and_a_concrete_path(offline: OfflineMatrices) -> None:
    request = offline.results["invoke admin DELETE /pets/{petId}"].request
    assert request.resource == (
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/v1/DELETE/pets/abc123"
    )
    assert request.principal == (
        "arn:aws:sts::123456789012:assumed-role/pets-unit-admin/offline-matrix"
    )
    assert concrete_path("/pets/{petId}/toys/{toyId}") == "/pets/abc123/toys/abc123"


def test_forbidden_arns_are_denied_for_every_class(offline: OfflineMatrices) -> None:
    labels = set(offline.forbidden)
    for route in access.ROUTES:
        for kind in ("other stage", "other API id", "API id extending ours", "other region",
                     "other account", "lowercase method", "* as method", "* as stage"):
            assert any(label.startswith(f"{route.id}: {kind}") for label in labels), (route, kind)
    assert {"POST /pets: trailing slash", "GET /*: * as path"} <= labels
    assert any(arn.endswith("/v1/POST/pets/") for arn in offline.forbidden.values())
    assert any(arn.endswith("/v1/get/pets") for arn in offline.forbidden.values())
    for name in ("admin", "buyer"):
        decisions = {offline.results[f"forbidden {name} {label}"].decision
                     for label in offline.forbidden}
        assert decisions == {"ImplicitlyDenied"}, name
    assert offline.forbidden_allowed == []


def test_trust_matrix_matches_the_membership_rules(offline: OfflineMatrices) -> None:
    assert offline.expected_trust == EXPECTED_TRUST
    assert offline.trust == EXPECTED_TRUST, offline.trust_report()
    assert offline.trust_report() is None
    assert offline.other_roles_assumable == []
    assert len(offline.synthesized.other_roles) == len(access.ROUTES)  # Lambda execution roles
    alice = offline.results["trust alice -> admin [sts:AssumeRoleWithWebIdentity]"]
    context = alice.request.context
    assert context == {"pets-test.eu.auth0.com/:sub": "auth0|alice",
                       "pets-test.eu.auth0.com/:aud": "test-client-id",
                       "aws:RequestTag/pets-class": "admin", "aws:TagKeys": ["pets-class"]}
    # A token with tags also needs sts:TagSession, which only the grant statement allows.
    tag_session = offline.results["trust alice -> admin [sts:TagSession]"]
    assert tag_session.allowed


def test_the_real_program_has_no_problems(offline: OfflineMatrices) -> None:
    assert offline.problems() == []
    assert offline.undeclared_methods == []


def test_cli_prints_the_local_stack_matrices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--offline", "--stack", "local"]) == 0
    out = capsys.readouterr().out
    assert "stage local" in out and "issuer http://127.0.0.1:9443" in out
    assert "DELETE /pets/{petId}  allow    deny" in out
    assert "mallory          deny     deny" in out
    assert "eve              deny     deny" in out
    assert "-> all as the model and the membership rules say" in out
    assert "OK:" in out


# --------------------------------------------------------------------------- the membership matcher


def test_expected_trust_matrix_follows_stack_overrides() -> None:
    buyer = dataclasses.replace(
        access.BUYER, members=access.Membership(subjects=("samlp|mallory",))
    )
    matrix = expected_trust_matrix(DEMO_IDENTITIES, (access.ADMIN, buyer))
    assert matrix["mallory"] == {"admin": False, "buyer": True}
    assert matrix["bob"] == {"admin": False, "buyer": False}


# --------------------------------------------------------------------------- a broken program


def _patch(monkeypatch: pytest.MonkeyPatch, name: str, wrap: Callable[..., Any]) -> None:
    original = getattr(policies, name)
    monkeypatch.setattr(policies, name, lambda *a, **k: wrap(original, *a, **k))


def widen_buyer_to_everything(original: Callable[..., Any], execution_arn: str, stage: str,
                              routes: Any) -> Any:
    routes = tuple(routes)
    document = original(execution_arn, stage, routes)
    if routes == access.BUYER.routes:
        document["Statement"][0]["Resource"] = [f"{execution_arn}/*"]
    return document


def drop_admin_delete(original: Callable[..., Any], execution_arn: str, stage: str,
                      routes: Any) -> Any:
    routes = tuple(routes)
    if routes == access.ADMIN.routes:
        routes = tuple(r for r in routes if r is not access.REMOVE_PET)
    return original(execution_arn, stage, routes)


def any_connection_is_a_buyer(original: Callable[..., Any], provider_arn: str, issuer: str,
                              client_id: str, members: access.Membership) -> Any:
    if members == access.BUYER.members:
        members = dataclasses.replace(members, sub_patterns=("*|*",))  # passes Membership's check
    return original(provider_arn, issuer, client_id, members)


def forget_the_audience(original: Callable[..., Any], *args: Any) -> Any:
    document = original(*args)
    for statement in document["Statement"]:
        equals = statement["Condition"]["StringEquals"]
        for key in [k for k in equals if k.endswith(":aud")]:
            del equals[key]
        if not equals:
            del statement["Condition"]["StringEquals"]
    return document


def execution_role_open_to_anyone(original: Callable[..., Any], service: str) -> Any:
    document = original(service)
    document["Statement"].append({"Effect": "Allow", "Principal": "*",
                                  "Action": "sts:AssumeRoleWithWebIdentity"})
    return document


BROKEN: dict[str, tuple[str, Callable[..., Any], list[str]]] = {
    # id: (policies function, wrapper, disagreeing cells the report must name)
    "buyer widened to /*": ("invoke_policy", widen_buyer_to_everything,
                            ["(buyer, POST /pets): model says deny, offline says allow",
                             "(buyer, DELETE /pets/{petId}): model says deny, offline says allow"]),
    "admin lost DELETE": ("invoke_policy", drop_admin_delete,
                          ["(admin, DELETE /pets/{petId}): model says allow, offline says deny"]),
    "buyer membership *|*": ("trust_policy", any_connection_is_a_buyer,
                             ["(eve, buyer): membership says deny, offline says allow",
                              "(mallory, buyer): membership says deny, offline says allow"]),
    "audience not checked": ("trust_policy", forget_the_audience,
                             ["(bob wrong aud, buyer): membership says deny, offline says allow"]),
    "Lambda role open": ("service_trust_policy", execution_role_open_to_anyone,
                         ["mallory assuming non-class role pets-unit-remove-pet-fn"]),
}


@pytest.fixture(params=list(BROKEN))
def broken(request: pytest.FixtureRequest,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[OfflineMatrices, list[str]]]:
    name, wrapper, cells = BROKEN[request.param]
    _patch(monkeypatch, name, wrapper)
    yield compute(), cells


def test_the_check_notices_a_broken_program(broken: tuple[OfflineMatrices, list[str]]) -> None:
    result, cells = broken
    assert not result.ok
    report = "\n".join(result.problems())
    for cell in cells:
        assert cell in report, report
    # The expectations did not move: only the synthesized policies changed.
    assert result.expected_invoke == access.access_matrix()
    assert result.expected_trust == EXPECTED_TRUST


def test_widened_grant_allows_forbidden_arns(monkeypatch: pytest.MonkeyPatch) -> None:
    _patch(monkeypatch, "invoke_policy", widen_buyer_to_everything)
    result = compute()
    allowed = "\n".join(result.forbidden_allowed)
    assert "(GET /pets: other stage 'prod')" in allowed
    assert "(POST /pets: trailing slash)" in allowed
    assert "(GET /pets: lowercase method)" in allowed
    assert all(v.startswith("buyer invoking arn:") for v in result.forbidden_allowed)
    assert "other account" not in allowed and "other region" not in allowed


def test_cli_exits_non_zero_on_a_broken_program(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _patch(monkeypatch, "invoke_policy", drop_admin_delete)
    assert main(["matrix", "--offline", "--stack", "local"]) == 1
    out = capsys.readouterr().out
    assert "(admin, DELETE /pets/{petId}): model says allow, offline says deny" in out
    assert "FAIL: 1 problem(s)" in out


def test_cli_refuses_a_bad_override(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["matrix", "--offline", "--stack", "local", "--set", "oidcIssuer=http://example.com"]
    assert main(argv) == 2
    assert "pets:oidcIssuer" in capsys.readouterr().err


# --------------------------------------------------------------------------- compare_matrices

MODEL = {
    "admin": {"GET /pets": True, "POST /pets": True, "POST /pets/purchase": False},
    "buyer": {"GET /pets": True, "POST /pets": False, "POST /pets/purchase": True},
}


def test_compare_equal_matrices_is_none() -> None:
    reordered = {c: dict(reversed(list(cells.items()))) for c, cells in reversed(MODEL.items())}
    assert compare_matrices(MODEL, reordered) is None


def test_compare_names_each_disagreement_and_shows_both_tables() -> None:
    measured = {c: dict(cells) for c, cells in MODEL.items()}
    measured["buyer"]["POST /pets"] = True
    measured["admin"]["POST /pets/purchase"] = True
    report = compare_matrices(MODEL, measured)
    assert report is not None
    assert report.splitlines()[:3] == [
        "offline and emulator disagree on 2 of 6 cells:",
        "  (admin, POST /pets/purchase): offline says deny, emulator says allow",
        "  (buyer, POST /pets): offline says deny, emulator says allow",
    ]
    offline_table, emulator_table = report.split("\nemulator:\n")
    assert "offline:\n" in offline_table  # the tables one under the other
    assert "POST /pets/purchase  deny!    allow" in offline_table  # admin marked
    assert "POST /pets/purchase  allow!   allow" in emulator_table
    assert "POST /pets           allow    allow!" in emulator_table  # buyer marked


def test_compare_reports_missing_cells_and_engine_names() -> None:
    measured = {"admin": dict(MODEL["admin"]), "buyer": {"GET /pets": True},
                "guest": {"GET /pets": False}}
    report = compare_matrices(MODEL, measured, engines=("offline", "live"))
    assert report is not None
    assert "(buyer, POST /pets): offline says deny, live has no answer" in report
    assert "(guest, GET /pets): offline has no answer, live says deny" in report
    # A cell both lack (guest, POST /pets) is no disagreement.
    assert "disagree on 3 of 9 cells" in report



def test_a_variant_some_grant_covers_is_not_forbidden(offline: OfflineMatrices) -> None:
    """`GET /pets/` is forbidden only while no route's grant covers it: with a `GET /pets/{petId}`
    route its `GET/pets/*` grant does (`*` matches the empty id), so it is not sampled as
    forbidden; a literal trailing slash no grant covers stays forbidden."""
    synthesized = offline.synthesized
    label = "GET /pets: trailing slash"
    assert label in forbidden_arns(synthesized, access.ROUTES)
    one_pet = access.Route("GET", "/pets/{petId}", "get_pet", ("dynamodb:GetItem",),
                           manages_shop=False)
    widened = forbidden_arns(synthesized, (*access.ROUTES, one_pet))
    assert label not in widened
    assert "POST /pets: trailing slash" in widened
