"""The access model says what the product promises; these pin the promise.

The expected tables are written out on purpose: deleting or adding a grant in
access.py must fail here until someone changes this file too, in review.
"""

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


def test_membership_defaults_follow_auth0_connections():
    assert access.ADMIN.members.sub_patterns == ("auth0|*",)
    assert "google-oauth2|*" in access.BUYER.members.sub_patterns
    assert "auth0|*" not in access.BUYER.members.sub_patterns


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
