"""The identities the offline engine asks about, and which roles the membership rules expect.

Identities are access.TokenClaims: the demo users of the local identity provider, and the
token kinds of a review (access.token_kinds). The expectation comes from the membership rules
(access.Membership.admits), which share no code with components/policies.py, so a bug in how
the program writes trust policies cannot hide in both.
"""

from __future__ import annotations

from collections.abc import Sequence

import access
from access import TokenClaims

WRONG_AUDIENCE = "some-other-client"  # a token minted for another app of the same issuer
OTHER_ISSUER = "https://someone-else.example.com/"  # a provider IAM was never told to trust
ADMIN_GRANT = {access.GRANT_TAG_KEY: "admin"}

# The local identity provider's demo users (devstack/idp/users.json) as IAM sees their tokens.
DEMO_IDENTITIES: tuple[TokenClaims, ...] = (
    TokenClaims("alice", "auth0|alice", session_tags=ADMIN_GRANT),  # admin by grant
    TokenClaims("bob", "google-oauth2|bob"),
    TokenClaims("dave", "github|dave"),
    TokenClaims("mallory", "samlp|mallory"),  # an enterprise connection no class admits
    TokenClaims("eve", "auth0|eve"),  # self-registered database user, no grant
    TokenClaims("bob wrong aud", "google-oauth2|bob", own_client=False),
    TokenClaims("alice wrong aud", "auth0|alice", own_client=False, session_tags=ADMIN_GRANT),
)


def audience(identity: TokenClaims, client_id: str) -> str:
    return client_id if identity.own_client else WRONG_AUDIENCE


def issuer(identity: TokenClaims, own_issuer: str) -> str:
    return own_issuer if identity.own_issuer else OTHER_ISSUER


def expected_trust_matrix(
    identities: Sequence[TokenClaims], user_classes: Sequence[access.UserClass]
) -> dict[str, dict[str, bool]]:
    """{identity label: {user class: may assume its role}} from the membership rules."""
    return {i.label: {c.name: c.members.admits(i) for c in user_classes} for i in identities}
