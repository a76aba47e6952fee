"""Demo identities and an independent expectation of which roles each may assume.

The expectation is derived from the model's membership rules (access.Membership, as the stack's
config resolves them) with a deliberately simple matcher that shares no code with
components/policies.py, so a bug in how the program writes trust policies cannot hide in both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import access

WRONG_AUDIENCE = "some-other-client"  # a token minted for another app of the same issuer


@dataclass(frozen=True)
class DemoIdentity:
    """An ID token's claims, as far as IAM can condition on them."""

    label: str
    sub: str
    aud: str | None = None  # None: the stack's own client id
    # The token's https://aws.amazon.com/tags claim (aws:RequestTag/<key>); empty: no claim.
    session_tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def audience(self, client_id: str) -> str:
        return client_id if self.aud is None else self.aud


DEMO_IDENTITIES: tuple[DemoIdentity, ...] = (
    DemoIdentity("alice", "auth0|alice"),
    DemoIdentity("bob", "google-oauth2|bob"),
    DemoIdentity("dave", "github|dave"),
    DemoIdentity("mallory", "samlp|mallory"),  # an enterprise connection no class admits
    DemoIdentity("bob wrong aud", "google-oauth2|bob", aud=WRONG_AUDIENCE),
)


def iam_string_like(pattern: str, value: str) -> bool:
    """IAM StringLike: case-sensitive, `*` any run of characters (also none), `?` one character.

    Not fnmatch itself: fnmatch also treats `[...]` as a character class, IAM does not.
    """
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def member_of(identity: DemoIdentity, members: access.Membership, client_id: str) -> bool:
    """Would AssumeRoleWithWebIdentity with this token succeed, going by the membership rules?"""
    if identity.audience(client_id) != client_id:
        return False  # every rule also requires our audience
    if identity.session_tags:
        # A token carrying tags needs sts:TagSession too, which only the session-tag rule grants
        # (and that rule's tags must all match).
        return bool(members.session_tags) and all(
            identity.session_tags.get(k) == v for k, v in members.session_tags.items()
        )
    return (
        any(iam_string_like(p, identity.sub) for p in members.sub_patterns)
        or identity.sub in members.subjects
    )


def expected_trust_matrix(
    identities: Sequence[DemoIdentity],
    user_classes: Sequence[access.UserClass],
    client_id: str,
) -> dict[str, dict[str, bool]]:
    """{identity label: {user class: may assume its role}} from the membership rules."""
    return {
        identity.label: {c.name: member_of(identity, c.members, client_id) for c in user_classes}
        for identity in identities
    }
