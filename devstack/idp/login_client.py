"""Headless logins at the local identity provider, as the browser and the site do them.

The client's part is Authlib's OAuth2Session: authorization code + PKCE (S256) for a public
client (no secret), refresh and revocation (RFC 7009). The person's part (follow redirects,
answer the dev login and consent pages) is a separate requests.Session, the user agent,
which holds the provider's cookies; the client never sees them, as in a browser.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc6749.errors import MismatchingStateException

from devstack.errors import DevstackError
from devstack.idp import demo_users, idp_process
from devstack.idp.idp_process import HTTP_TIMEOUT, Idp
from devstack.idp.tokens import unverified_claims


class LoginRefused(DevstackError):
    """The identity provider refused the login (e.g. an unknown demo user)."""


class TokenRefused(DevstackError):
    """The provider refused a token; `error` is its OAuth error code (invalid_grant...)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"the identity provider refused the token: {error}: {description} "
                         "(log in again for fresh tokens)")
        self.error, self.description = error, description


def _trusting_only(session: requests.Session, idp: Idp) -> requests.Session:
    # A session's `verify` loses to REQUESTS_CA_BUNDLE unless the environment is ignored
    # (nothing else from it applies to a provider on loopback: no proxy, no netrc).
    session.trust_env = False
    session.verify = idp.verify
    return session


def _client(idp: Idp, client_id: str | None = None, **settings: Any) -> OAuth2Session:
    # A public client: it has no secret and authenticates with its client_id alone.
    client = OAuth2Session(client_id or idp.client_id, code_challenge_method="S256",
                           token_endpoint_auth_method="none",  # noqa: S106 (a method, no secret)
                           default_timeout=HTTP_TIMEOUT, **settings)
    return _trusting_only(client, idp)


def login(
    user: str,
    *,
    idp: Idp | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    scope: str | None = None,
) -> dict[str, Any]:
    """Log `user` in headlessly with authorization code + PKCE; return the token response.

    scope: default the registered one (with offline_access: the answer has a refresh token).

    Drives the same HTTP exchange a browser would: authorize -> dev login form -> consent
    -> redirect carrying the code -> token endpoint (public client, code_verifier, no secret).
    Raises LoginRefused if the provider refuses the user or the client.
    """
    idp = idp_process.require(idp)
    redirect_uri = redirect_uri or idp.redirect_uris[0]
    meta = idp.discovery()
    client = _client(idp, client_id, redirect_uri=redirect_uri,
                     scope=scope or str(idp.registration["scope"]))
    verifier, nonce = generate_token(64), generate_token(22)  # RFC 7636: 43..128 characters
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    agent = _trusting_only(requests.Session(), idp)  # a fresh browser: no cookies yet
    first = agent.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
    callback = follow_to_callback(agent, first, user, redirect_uri)
    query = {k: v[0] for k, v in parse_qs(urlsplit(callback).query).items()}
    if "error" in query:
        raise LoginRefused(
            f"authorization failed: {query['error']}: {query.get('error_description', '')}")
    if query.get("iss") not in (None, idp.issuer):  # RFC 9207 mix-up defence
        raise DevstackError(f"authorization response iss {query['iss']!r} is not {idp.issuer!r}")
    try:  # Authlib checks the state before it redeems the code
        tokens = dict(client.fetch_token(meta["token_endpoint"], state=state,
                                         authorization_response=callback,
                                         code_verifier=verifier))
    except MismatchingStateException:
        raise DevstackError("authorization response state does not match the one sent") from None
    except OAuthError as err:
        raise LoginRefused(f"token endpoint refused the code: {err.error}: "
                           f"{err.description}") from None
    # A sanity check of our own flow, not token validation (the API must do that itself).
    claims = unverified_claims(tokens["id_token"])
    if claims.get("nonce") != nonce:
        raise DevstackError("ID token nonce does not match the one sent")
    # The provider does single sign-on: a session cookie for another user would skip the
    # login form and return THAT user's token. Each login has a fresh user agent, but check.
    expected = demo_users.users()[user].sub
    if claims.get("sub") != expected:
        raise DevstackError(f"logged in as {claims.get('sub')!r}, expected {expected!r}")
    return tokens


def id_token(user: str, *, idp: Idp | None = None, **options: str | None) -> str:
    """A real ID token for demo user `user` from the code + PKCE flow (options: login's)."""
    return str(login(user, idp=idp, **options)["id_token"])


def refresh(refresh_token: str, *, idp: Idp | None = None) -> dict[str, Any]:
    """The token endpoint's answer to a refresh_token grant (as the site's silent renew sends it).

    Authlib adds `expires_at`. Raises TokenRefused (with the OAuth error code) when the
    provider refuses the token.
    """
    idp = idp_process.require(idp)
    try:
        return dict(_client(idp).refresh_token(idp.discovery()["token_endpoint"],
                                               refresh_token=refresh_token))
    except OAuthError as err:
        raise TokenRefused(str(err.error), str(err.description or "")) from None


def revoke(refresh_token: str, *, idp: Idp | None = None) -> None:
    """Revoke a refresh token (RFC 7009), as the site's logout does."""
    idp = idp_process.require(idp)
    response = _client(idp).revoke_token(
        idp.discovery()["revocation_endpoint"], token=refresh_token,
        token_type_hint="refresh_token")  # noqa: S106 (a token kind, no password)
    if response.status_code != 200:  # RFC 7009: 200 even for an unknown token
        body = response.json()  # oidc-provider answers every refusal with an OAuth error
        raise TokenRefused(body["error"], body.get("error_description", ""))


# --- the user agent's part: redirects, the dev login and consent pages ----------------------


# oidc-provider's dev login and consent pages: one form, its prompt a hidden input.
_PROMPT_FORM = re.compile(r'<form[^>]*\baction="([^"]*)".*?name="prompt" value="(login|consent)"',
                          re.DOTALL)


def follow_to_callback(agent: requests.Session, response: requests.Response, user: str,
                       redirect_uri: str) -> str:
    """Follow redirects and answer the login and consent pages as `user` until the provider
    redirects to `redirect_uri`; return that URL (it carries the code, or an error)."""
    for _ in range(12):  # authorize, login, resume, consent, resume, callback: ~6 hops
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.split("?", 1)[0] == redirect_uri.split("?", 1)[0]:
                return location
            response = agent.get(location, allow_redirects=False, timeout=HTTP_TIMEOUT)
            continue
        if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
            raise LoginRefused(
                f"identity provider refused the login of {user!r} ({response.status_code}): "
                f"{_text_of(response.text)}"
            )
        form = _PROMPT_FORM.search(response.text)
        if form is None:
            raise LoginRefused(f"unexpected page at {response.url}: {_text_of(response.text)}")
        action, prompt = html.unescape(form[1]), form[2]
        data = {"prompt": prompt}
        if prompt == "login":
            data |= {"login": user, "password": "unused"}  # the dev form checks no password
        response = agent.post(urljoin(response.url, action), data=data,
                              allow_redirects=False, timeout=HTTP_TIMEOUT)
    raise DevstackError("login did not reach the redirect URI within 12 steps: is the "
                        "redirect URI one the client registered?")


def _text_of(page: str) -> str:
    """The readable text of an HTML page (for error messages): no tags, styles or scripts."""
    text = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()[:400]
