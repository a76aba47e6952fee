"""The model's side of the trust theorems (theorems.model_admits, a z3 formula) says what
access.Membership.admits says, for every stack's classes and many tokens; and the overlap of two
memberships (access.shared_members) is what the solver finds."""

from __future__ import annotations

import itertools

import pytest
import z3

import access
from policy.access_doc import stack_settings
from prover.request_shapes import ConcreteToken
from prover.subject import ROOT, Subject
from prover.theorems import model_admits
from prover.verdicts import fixed_token
from tests.support import programs

SUBS = ("auth0|alice", "google-oauth2|1", "github|", "auth0|eve", "samlp|x", "", "GitHub|x",
        "google-oauth2|")
TAGS: tuple[tuple[tuple[str, str], ...], ...] = (
    (), (("pets-class", "admin"),), (("PETS-CLASS", "admin"),), (("pets-class", "Admin"),),
    (("team", "x"),), (("pets-class", "admin"), ("team", "x")))


@pytest.fixture(scope="module", params=[s.stack for s in stack_settings(ROOT)])
def subject(request: pytest.FixtureRequest) -> Subject:
    return programs.subject(request.param)


def test_the_encoded_membership_is_access_py_s(subject: Subject) -> None:
    model_tags = {k for c in subject.classes for k in c.members.session_tags}
    checked = 0
    for own_issuer, own_client, sub, tags in itertools.product(
            (True, False), (True, False), SUBS, TAGS):
        claims = access.TokenClaims("t", sub, own_issuer=own_issuer, own_client=own_client,
                                    session_tags=dict(tags))
        provider = (subject.provider_arn if own_issuer
                    else f"arn:aws:iam::{subject.account}:oidc-provider/elsewhere/")
        token = ConcreteToken(provider, subject.client_id if own_client else "other", sub, None,
                              tags)
        fixed = fixed_token(token, [], model_tags)
        for user_class in subject.classes:
            encoded = z3.simplify(model_admits(subject, user_class, fixed))
            assert z3.is_true(encoded) == user_class.members.admits(claims), (
                subject.stack, user_class.name, claims)
            checked += 1
    assert checked > 300


def test_a_tag_key_matches_in_any_case_as_in_iam() -> None:
    admin = access.Membership(session_tags={"pets-class": "admin"})
    assert admin.admits(access.TokenClaims("t", "x", session_tags={"PETS-Class": "admin"}))
    assert not admin.admits(access.TokenClaims("t", "x", session_tags={"pets-class": "Admin"}))


@pytest.mark.parametrize(("a", "b", "shared"), [
    (access.ADMIN.members, access.BUYER.members, ()),
    (access.Membership(subjects=("google-oauth2|1",)), access.BUYER.members,
     ("sub = google-oauth2|1 and sub like google-oauth2|*",)),
    (access.Membership(sub_patterns=("auth0|z*",)), access.Membership(sub_patterns=("*|zed",)),
     ("sub like auth0|z* and sub like *|zed",)),
    (access.Membership(sub_patterns=("a?c",)), access.Membership(subjects=("abd",)), ()),
    (access.Membership(session_tags={"pets-class": "admin"}),
     access.Membership(session_tags={"PETS-CLASS": "admin", "team": "x"}),
     ("session tags {'pets-class': 'admin'} and {'PETS-CLASS': 'admin', 'team': 'x'}",)),
    (access.Membership(session_tags={"pets-class": "admin"}),
     access.Membership(session_tags={"pets-class": "buyer"}), ()),
])
def test_shared_members(a: access.Membership, b: access.Membership, shared: tuple[str, ...]
                        ) -> None:
    assert access.shared_members(a, b) == shared


@pytest.mark.parametrize(("p", "q", "overlap"), [
    ("auth0|z*", "auth0|*", True), ("a?c", "abd", False), ("*x", "y*", True), ("ab", "a", False),
    ("a*b*c", "*bb*", True), ("?", "", False), ("*", "", True), ("a|*", "b|*", False),
])
def test_patterns_overlap_as_the_solver_finds(p: str, q: str, overlap: bool) -> None:
    from prover.encoding import glob

    value = z3.String("v")
    solver = z3.Solver()
    solver.add(z3.InRe(value, glob(p)), z3.InRe(value, glob(q)))
    assert (solver.check() == z3.sat) == overlap
    assert access.patterns_overlap(p, q) == overlap
