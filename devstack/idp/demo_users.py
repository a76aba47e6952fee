"""The local identity provider's demo users (devstack/idp/users.json, read by server.mjs too)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from devstack import paths


@dataclass(frozen=True)
class User:
    login: str  # what is typed on the login form
    sub: str
    email: str
    email_verified: bool
    name: str
    roles: tuple[str, ...]  # identity provider roles; classGrants says what each grants


def users() -> dict[str, User]:
    """The demo users by login name."""
    table = json.loads(paths.USERS_FILE.read_text())["users"]
    return {login: User(login=login, **{**u, "roles": tuple(u["roles"])})
            for login, u in table.items()}
