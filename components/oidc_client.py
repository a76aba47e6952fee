"""The browser app's registration at the identity provider, derived from the site's URL.

One declaration for every provider: the managed Auth0 application (components/auth0.py)
is built from it, the stack exports it (`oidcClient`), and the local identity provider
registers exactly what it says. Nothing is typed into a provider's console after a deploy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import access
from components.naming import class_role_name

# A browser app cannot keep a secret: code + PKCE, then refresh tokens that rotate on use.
GRANT_TYPES = ("authorization_code", "refresh_token")
# offline_access asks for a refresh token; email and name say who is logged in.
SCOPE = "openid email profile offline_access"


@dataclass(frozen=True)
class ClientRegistration:
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    web_origins: tuple[str, ...]  # origins that call the token endpoint from the page
    id_token_lifetime_seconds: int
    refresh_token_lifetime_seconds: int  # absolute: a rotated token does not extend it
    grant_types: tuple[str, ...] = GRANT_TYPES
    scope: str = SCOPE

    def __post_init__(self) -> None:
        if not self.redirect_uris:
            raise ValueError("a client registration needs a redirect URI")
        if self.refresh_token_lifetime_seconds < self.id_token_lifetime_seconds:
            raise ValueError("refresh tokens must outlive the ID token they renew")

    def to_output(self) -> dict[str, Any]:
        """The stack output `oidcClient` (what the local identity provider registers)."""
        return {
            "redirectUris": list(self.redirect_uris),
            "postLogoutRedirectUris": list(self.post_logout_redirect_uris),
            "webOrigins": list(self.web_origins),
            "grantTypes": list(self.grant_types),
            "scope": self.scope,
            "idTokenLifetimeSeconds": self.id_token_lifetime_seconds,
            "refreshTokenLifetimeSeconds": self.refresh_token_lifetime_seconds,
        }


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"{url!r} is not an absolute URL")
    return f"{parts.scheme}://{parts.netloc}"


def registration_for(
    site_url: str, *, id_token_lifetime_seconds: int, refresh_token_lifetime_seconds: int
) -> ClientRegistration:
    """The site's URL is its redirect URI (site/auth.js redirectUri) and where logout returns."""
    return ClientRegistration(
        redirect_uris=(site_url,),
        post_logout_redirect_uris=(site_url,),
        web_origins=(origin_of(site_url),),
        id_token_lifetime_seconds=id_token_lifetime_seconds,
        refresh_token_lifetime_seconds=refresh_token_lifetime_seconds,
    )


def grant_role_name(prefix: str, user_class: access.UserClass) -> str:
    """The identity provider's role (Auth0: a tenant role) that grants a class."""
    return class_role_name(prefix, user_class)  # the same name as the IAM role it leads to


def class_grants(
    prefix: str, user_classes: Sequence[access.UserClass]
) -> dict[str, dict[str, str]]:
    """{provider role name: session tags it grants}, for every class recognised by tags.

    The post-login Action (auth0/post-login.js, secret CLASS_GRANTS) turns a user's roles
    into the token's https://aws.amazon.com/tags claim with exactly these tags.
    """
    return {grant_role_name(prefix, c): dict(c.members.session_tags)
            for c in user_classes if c.members.session_tags}
