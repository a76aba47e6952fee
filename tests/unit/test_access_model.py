"""The access model says what the product promises; these pin the promise.

The expected tables are written out on purpose: deleting or adding a grant in
access.py must fail here until someone changes this file too, in review.
"""

import dataclasses

import pytest

import access


def test_admin_may_list_add_remove_and_not_buy():
    assert access.access_matrix()["admin"] == {
        "GET /pets": True,
        "POST /pets": True,
        "DELETE /pets/{petId}": True,
        "POST /pets/purchase": False,
    }


def test_buyer_may_list_and_buy_only():
    assert access.access_matrix()["buyer"] == {
        "GET /pets": True,
        "POST /pets": False,
        "DELETE /pets/{petId}": False,
        "POST /pets/purchase": True,
    }


def test_no_route_is_public():
    assert [r.id for r in access.ROUTES if r.public] == []


def test_admins_are_recognised_by_a_grant_only():
    assert access.ADMIN.members == access.Membership(session_tags={"pets-class": "admin"})


def test_buyers_are_social_logins_and_not_database_users():
    assert "google-oauth2|*" in access.BUYER.members.sub_patterns
    patterns = access.BUYER.members.sub_patterns
    assert not any(access.string_like(p, "auth0|someone") for p in patterns)


def test_only_reading_and_buying_are_open_to_strangers():
    open_routes = [r.id for r in access.ROUTES if not r.manages_shop]
    assert open_routes == ["GET /pets", "POST /pets/purchase"]
    assert access.ADMIN.manages_shop and not access.BUYER.manages_shop


@pytest.mark.parametrize("pattern", ["auth0|*", "google-oauth2|*", "auth0|?lice"])
def test_a_managing_class_refuses_a_pattern_strangers_can_meet(pattern):
    with pytest.raises(ValueError, match="explicit grant"):
        dataclasses.replace(access.ADMIN, members=access.Membership(sub_patterns=(pattern,)))


def test_a_managing_class_accepts_exact_subjects_and_wildcard_free_patterns():
    members = access.Membership(sub_patterns=("auth0|alice",), subjects=("auth0|bob",))
    assert dataclasses.replace(access.ADMIN, members=members).members == members


def test_a_new_route_manages_the_shop_until_it_says_otherwise():
    assert access.Route("GET", "/orders", "list_orders", ()).manages_shop


@pytest.mark.parametrize(
    ("label", "classes"),
    [
        ("self-registered database user", []),
        ("social-login user", ["buyer"]),
        ("admin by grant tag", ["admin"]),
        ("token for another client", []),
        ("token from another issuer", []),
        ("admin by grant tag, wrong audience", []),
        ("admin by grant tag, another issuer", []),
    ],
)
def test_who_becomes_which_class_by_default(label, classes):
    kinds = {t.label: t for t in access.token_kinds()}
    assert len(kinds) == 7
    assert access.classes_of(kinds[label]) == classes


def test_a_listed_subject_is_a_grant_of_its_own():
    admin = dataclasses.replace(access.ADMIN, members=access.Membership(
        subjects=("auth0|alice",), session_tags={"pets-class": "admin"}))
    kinds = {t.label: t for t in access.token_kinds((admin, access.BUYER))}
    assert access.classes_of(kinds["admin by listed subject"], (admin,)) == ["admin"]
    assert access.classes_of(kinds["admin by listed subject, wrong audience"], (admin,)) == []


def test_a_token_with_tags_is_judged_by_its_tags_alone():
    """STS needs sts:TagSession for a token with tags; only the tag rule grants it."""
    tagged = access.TokenClaims("x", "auth0|alice", session_tags={"team": "ops"})
    members = access.Membership(subjects=("auth0|alice",))
    assert not members.admits(tagged)
    assert members.admits(dataclasses.replace(tagged, session_tags={}))


@pytest.mark.parametrize(
    ("pattern", "value", "like"),
    [("a*", "abc", True), ("a?c", "abc", True), ("a?c", "ac", False), ("[a]", "a", False),
     ("[a]", "[a]", True), ("A*", "abc", False)],
)
def test_string_like_is_iam_not_fnmatch(pattern, value, like):
    assert access.string_like(pattern, value) is like


@pytest.mark.parametrize(
    ("route", "suffix"),
    [
        (access.LIST_PETS, "GET/pets"),
        (access.REMOVE_PET, "DELETE/pets/*"),
        (access.PURCHASE_PET, "POST/pets/purchase"),
    ],
)
def test_arn_suffix_wildcards_only_path_parameters(route, suffix):
    assert route.arn_suffix == suffix


@pytest.mark.parametrize("pattern", ["", "*"])
def test_membership_refuses_patterns_that_admit_everyone(pattern):
    with pytest.raises(ValueError, match="admit everyone"):
        access.Membership(sub_patterns=(pattern,))


def test_membership_needs_a_rule():
    with pytest.raises(ValueError, match="at least one rule"):
        access.Membership()


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/pets"), ("GET", "pets"), ("GET", "/pets/"), ("GET", "/p ts")]
)
def test_route_rejects_malformed_method_or_path(method, path):
    with pytest.raises(ValueError):
        access.Route(method, path, "x", ())


def test_only_the_add_takes_an_idempotency_key_with_the_utilitys_actions():
    assert {r.id: r.idempotency_actions for r in access.ROUTES if r.idempotency_actions} == {
        "POST /pets": ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem",
                       "dynamodb:UpdateItem")}


@pytest.mark.parametrize("action", ["dynamodb:*", "dynamodb:Get*", "s3:GetObject", "PutItem"])
def test_route_refuses_anything_but_one_dynamodb_action(action):
    with pytest.raises(ValueError, match="not one DynamoDB action"):
        access.Route("POST", "/orders", "add_order", (), idempotency_actions=(action,))


def test_what_each_class_reads_of_a_pet():
    everyone = ("petId", "type", "price", "createdAt", "sold", "soldAt")
    assert access.readable_fields("admin") == (*everyone, "soldTo", "buyerSub")
    assert access.readable_fields("buyer") == everyone
    assert access.readable_fields("buyer", own_purchase=True) == (*everyone, "soldTo", "buyerSub")
    assert access.readable_fields("nobody-knows") == everyone


def test_only_fields_naming_the_buyer_are_withheld_from_anyone():
    withheld = [f.name for f in access.PET_FIELDS if access.EVERY_CLASS not in f.readers]
    assert withheld == [f.name for f in access.PET_FIELDS if f.names_the_buyer]


def test_a_field_naming_the_buyer_is_refused_to_a_class_anyone_can_join():
    leaky = access.PetField("soldTo", ("admin", "buyer"), names_the_buyer=True)
    with pytest.raises(ValueError, match="class buyer does not manage the shop"):
        access.check_pet_fields((leaky,), access.USER_CLASSES)


def test_a_field_naming_the_buyer_is_refused_to_every_class():
    with pytest.raises(ValueError, match="names the buyer, so not every class"):
        access.PetField("soldTo", (access.EVERY_CLASS,), names_the_buyer=True)


def test_a_field_reader_must_be_a_class():
    with pytest.raises(ValueError, match="reader 'staff' is not a user class"):
        access.check_pet_fields((access.PetField("soldTo", ("staff",)),), access.USER_CLASSES)


def test_a_field_nobody_reads_is_refused():
    with pytest.raises(ValueError, match="nobody may read it"):
        access.PetField("secret", ())
