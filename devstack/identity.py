"""Local OpenID Connect identity provider for the dev stack, and ID tokens from it.

The provider is npm `oidc-provider` (devstack/idp/server.mjs) on 127.0.0.1, issuer
`http://127.0.0.1:<port>`, with one public client (code + PKCE S256, refresh tokens that
rotate) registered as the program declares it (stack outputs `oidcClient` and `classGrants`,
see components/oidc_client.py), and the demo users of devstack/idp/users.json. Its RS256
signing key is generated here (jwcrypto) and handed to the provider, so `mint_token` can
sign deliberately bad tokens with the very key the provider's JWKS publishes.

    python -m devstack.identity start|stop|status|token <user>
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import html
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws, jwt

from devstack import paths, procs
from devstack.procs import DevstackError

NAME = "idp"
DEFAULT_PORT = 9443
PORT_ENV = "PETS_IDP_PORT"
DEFAULT_CLIENT_ID = "pets-local"
# Only `python -m devstack.identity start` (no stack) uses these; the stack registers what
# the program declares. The harness never follows the redirect URI: the headless login reads
# the code off the redirect's Location header.
DEFAULT_REDIRECT_URI = "http://127.0.0.1/callback"
STANDALONE_STACK = "local"
MIN_NODE_MAJOR = 20
_HTTP_TIMEOUT = 5.0

# The stack output `oidcClient` (ClientRegistration.to_output()): what the provider registers.
Registration = Mapping[str, Any]
# The stack output `classGrants`: {identity provider role name: {tag key: value}}.
ClassGrants = Mapping[str, Mapping[str, str]]
_REGISTRATION_LISTS = ("redirectUris", "postLogoutRedirectUris", "webOrigins", "grantTypes")
_REGISTRATION_SECONDS = ("idTokenLifetimeSeconds", "refreshTokenLifetimeSeconds")


class LoginRefused(DevstackError):
    """The identity provider refused the login (e.g. an unknown demo user)."""


class TokenRefused(DevstackError):
    """The token endpoint refused a grant; `error` is its OAuth error code (invalid_grant...)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"token endpoint answered {status} {error}: {description}")
        self.status, self.error, self.description = status, error, description


# --- users -------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    login: str  # what is typed on the login form
    sub: str
    email: str
    email_verified: bool
    name: str
    roles: tuple[str, ...]  # identity provider roles; classGrants says what each grants


def users() -> dict[str, User]:
    """The demo users, from the same users.json the Node server reads."""
    table = json.loads(paths.USERS_FILE.read_text())["users"]
    return {
        login: User(
            login=login,
            sub=u["sub"],
            email=u["email"],
            email_verified=u["email_verified"],
            name=u["name"],
            roles=tuple(u["roles"]),
        )
        for login, u in table.items()
    }


# --- signing key -------------------------------------------------------------------------


def signing_key() -> jwk.JWK:
    """The provider's private RS256 key; generated (RSA 2048) on first use."""
    path = paths.IDP_PRIVATE_JWKS
    with procs.file_lock("idp-key"):
        if not path.exists():
            key = jwk.JWK.generate(kty="RSA", size=2048, alg="RS256", use="sig")
            # A content-derived kid: stable for the key's life, changes with a new key.
            key = jwk.JWK(**{**json.loads(key.export_private()), "kid": key.thumbprint()})
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"keys": [json.loads(key.export_private())]}, indent=2))
            tmp.chmod(0o600)  # a private key, even if only a local one
            tmp.replace(path)
    return jwk.JWK(**json.loads(path.read_text())["keys"][0])


# --- the registration ----------------------------------------------------------------------


def checked_registration(registration: Registration) -> dict[str, Any]:
    """The registration as plain JSON data, or a DevstackError naming what is wrong.

    server.mjs checks it again; checking here names the problem before a process starts.
    """
    problems = [k for k in _REGISTRATION_LISTS if not isinstance(registration.get(k), list | tuple)
                or not all(isinstance(v, str) and v for v in registration[k])]
    problems += [k for k in _REGISTRATION_SECONDS
                 if not isinstance(registration.get(k), int) or registration[k] <= 0]
    if not isinstance(registration.get("scope"), str) or "openid" not in registration[
            "scope"].split():
        problems.append("scope")
    if not problems and not registration["redirectUris"]:
        problems.append("redirectUris (empty)")
    if problems:
        raise DevstackError(f"client registration: bad or missing {', '.join(problems)} "
                            "(expected the stack output oidcClient)")
    return {
        **{k: list(registration[k]) for k in _REGISTRATION_LISTS},
        "scope": registration["scope"],
        **{k: int(registration[k]) for k in _REGISTRATION_SECONDS},
    }


def standalone_registration(
    redirect_uris: Sequence[str] = (DEFAULT_REDIRECT_URI,),
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """(registration, grants) for a provider started without a stack: the program's own
    declaration (components.oidc_client) for these redirect URIs and the `local` stack."""
    import access
    from components import oidc_client
    from components.config import NAMESPACE, Settings

    first = oidc_client.registration_for(
        redirect_uris[0],
        id_token_lifetime_seconds=Settings.id_token_lifetime_seconds,
        refresh_token_lifetime_seconds=Settings.refresh_token_lifetime_seconds,
    ).to_output()
    registration = {**first, "redirectUris": list(redirect_uris),
                    "postLogoutRedirectUris": list(redirect_uris),
                    "webOrigins": sorted({oidc_client.origin_of(u) for u in redirect_uris})}
    grants = oidc_client.class_grants(f"{NAMESPACE}-{STANDALONE_STACK}", access.USER_CLASSES)
    return registration, grants


# --- the provider process ------------------------------------------------------------------


@dataclass(frozen=True)
class Idp:
    """A running local identity provider."""

    issuer: str  # http(s)://127.0.0.1:<port>, no trailing slash
    port: int
    client_id: str
    registration: Mapping[str, Any]  # what it registered (checked_registration's shape)
    class_grants: Mapping[str, Mapping[str, str]]
    started: bool  # True if the call that produced this started the process
    pid: int | None = None
    ca_file: str | None = None  # the self-signed certificate an https provider serves

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return tuple(self.registration["redirectUris"])

    @property
    def verify(self) -> str | bool:
        """`verify=` for requests: the provider's own certificate when it serves https."""
        return self.ca_file or True

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        response = requests.get(self.discovery_url, timeout=_HTTP_TIMEOUT, verify=self.verify)
        response.raise_for_status()
        return dict(response.json())

    def jwks(self) -> dict[str, Any]:
        """The JWKS the provider serves (public keys), as fetched from its jwks_uri."""
        response = requests.get(
            self.discovery()["jwks_uri"], timeout=_HTTP_TIMEOUT, verify=self.verify
        )
        response.raise_for_status()
        return dict(response.json())


def _node_major(node: str) -> int:
    out = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"v(\d+)", out.strip())
    return int(match.group(1)) if match else 0


def _pinned_provider_version() -> str:
    return json.loads((paths.IDP_SOURCE / "package.json").read_text())["dependencies"][
        "oidc-provider"
    ]


def ensure_node_modules() -> str:
    """Check node/npm and run `npm ci` when oidc-provider is missing or not the pinned version.

    Returns the node binary's path.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise DevstackError(
            f"the local identity provider needs Node.js >= {MIN_NODE_MAJOR} with npm on PATH "
            "(missing: "
            + ", ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
            + "). "
            "Install it, e.g. `apt-get install -y nodejs npm` or from nodejs.org, then retry."
        )
    major = _node_major(node)
    if major < MIN_NODE_MAJOR:
        raise DevstackError(
            f"Node.js {major} found at {node}; the identity provider needs >= {MIN_NODE_MAJOR}"
        )
    with procs.file_lock("idp-node-modules"):
        _npm_ci_if_stale(npm)
    return node


def _npm_ci_if_stale(npm: str) -> None:
    installed = paths.IDP_SOURCE / "node_modules" / "oidc-provider" / "package.json"
    want = _pinned_provider_version()
    if not installed.exists() or json.loads(installed.read_text())["version"] != want:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=paths.IDP_SOURCE,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise DevstackError(
                f"`npm ci` in {paths.IDP_SOURCE} failed:\n{result.stdout}{result.stderr}"
            )


def tls_files() -> tuple[Path, Path]:
    """(certificate, key) PEM files for an https provider on 127.0.0.1, made on first use.

    Self-signed, for the IP address 127.0.0.1 only; clients trust exactly this file.
    """
    cert_path, key_path = paths.IDP_STATE / "tls-cert.pem", paths.IDP_STATE / "tls-key.pem"
    with procs.file_lock("idp-tls"):
        if not (cert_path.exists() and key_path.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pets dev stack IdP")])
            now = datetime.datetime.now(datetime.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=365))
                .add_extension(
                    x509.SubjectAlternativeName(
                        [x509.IPAddress(ipaddress.ip_address(procs.LOOPBACK))]
                    ),
                    critical=False,
                )
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256())
            )
            paths.IDP_STATE.mkdir(parents=True, exist_ok=True)
            key_path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            key_path.chmod(0o600)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _discovery_ok(issuer: str, verify: str | bool = True) -> bool:
    try:
        response = requests.get(
            issuer + "/.well-known/openid-configuration", timeout=1, verify=verify
        )
        return response.status_code == 200 and response.json().get("issuer") == issuer
    except (requests.RequestException, ValueError):
        return False


def _from_record(managed: procs.Managed, *, started: bool) -> Idp:
    info = managed.info
    return Idp(
        issuer=info["issuer"],
        port=info["port"],
        client_id=info["client_id"],
        # A record written before registrations were recorded: what it said, so that a
        # start with a registration refuses it ("stop it first") instead of crashing.
        registration=info.get("registration", {"redirectUris": info.get("redirect_uris", [])}),
        class_grants=info.get("class_grants", {}),
        started=started,
        pid=managed.pid,
        ca_file=info.get("ca_file"),
    )


def running(name: str = NAME) -> Idp | None:
    managed = procs.running(name)
    return _from_record(managed, started=False) if managed else None


def start(
    port: int | None = None,
    *,
    registration: Registration,
    class_grants: ClassGrants | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    name: str = NAME,
    reuse: bool = True,
    timeout: float = 20.0,
    tls: bool = False,
) -> Idp:
    """Start the identity provider on 127.0.0.1 and wait until discovery answers.

    registration: the client registration the program declares (stack output `oidcClient`,
    ClientRegistration.to_output()): redirect and post-logout URIs, web origins, grant types,
    scope, ID and refresh token lifetimes. class_grants: the stack output `classGrants`;
    a user's roles (users.json) become the ID token's session tags claim through them.

    tls: serve https with a self-signed certificate (tls_files()); real AWS and LocalStack
    accept only https OIDC provider URLs, MiniStack takes http.

    port: argument, else $PETS_IDP_PORT, else 9443. If one is already running under `name`
    with the same client settings it is returned (started=False) when `reuse`; a running
    one with other settings is an error (stop it first), never silently reconfigured.
    """
    client = checked_registration(registration)
    grants = {role: dict(tags) for role, tags in (class_grants or {}).items()}
    existing = running(name)
    if existing is not None:
        same = (existing.client_id == client_id and existing.registration == client
                and existing.class_grants == grants
                and existing.issuer.startswith("https:") == tls)
        if reuse and same and (port is None or port == existing.port):
            return existing
        raise DevstackError(
            f"identity provider {name} already runs at {existing.issuer} for client "
            f"{existing.client_id} with redirect URIs {list(existing.redirect_uris)} "
            f"(and maybe other lifetimes, grant types or grants than asked for); "
            "stop it first (python -m devstack.identity stop)"
        )
    if port is None:
        port = int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    procs.check_port_free(port, f"identity provider {name}")
    node = ensure_node_modules()
    signing_key()  # make sure the key file exists before the server reads it
    issuer = f"{'https' if tls else 'http'}://{procs.LOOPBACK}:{port}"
    ca_file = None
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(paths.STATE)),
        "IDP_PORT": str(port),
        "IDP_CLIENT_ID": client_id,
        "IDP_CLIENT": json.dumps(client),
        "IDP_CLASS_GRANTS": json.dumps(grants),
        "IDP_JWKS_FILE": str(paths.IDP_PRIVATE_JWKS),
        "IDP_USERS_FILE": str(paths.USERS_FILE),
    }
    if tls:
        cert, key = tls_files()
        ca_file = str(cert)
        env |= {"IDP_TLS_CERT": str(cert), "IDP_TLS_KEY": str(key)}
    info = {
        "issuer": issuer,
        "port": port,
        "client_id": client_id,
        "registration": client,
        "class_grants": grants,
        "ca_file": ca_file,
    }
    proc = procs.spawn(name, [node, "server.mjs"], env=env, info=info, cwd=paths.IDP_SOURCE)
    idp = Idp(
        issuer=issuer,
        port=port,
        client_id=client_id,
        registration=client,
        class_grants=grants,
        started=True,
        pid=proc.pid,
        ca_file=ca_file,
    )
    procs.wait_ready(name, proc, lambda: _discovery_ok(issuer, idp.verify), timeout)
    return idp


def stop(name: str = NAME, timeout: float = 5.0) -> bool:
    """Stop the identity provider; False if it was not running."""
    return procs.stop(name, timeout=timeout)


# --- headless login ----------------------------------------------------------------------


class _FormParser(HTMLParser):
    """Collects the first <form>'s action and its hidden inputs (the dev pages' prompt)."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.hidden: dict[str, str] = {}
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action, self._in_form = a.get("action", ""), True
        elif tag == "input" and self._in_form and a.get("type") == "hidden":
            self.hidden[a.get("name", "")] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _require_idp(idp: Idp | None) -> Idp:
    idp = idp or running()
    if idp is None:
        raise DevstackError(
            "the identity provider is not running; "
            "start it with `python -m devstack.identity start`"
        )
    return idp


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
    idp = _require_idp(idp)
    client_id = client_id or idp.client_id
    redirect_uri = redirect_uri or idp.redirect_uris[0]
    scope = scope or str(idp.registration["scope"])
    meta = idp.discovery()
    verifier = secrets.token_urlsafe(48)  # 64 chars, within RFC 7636's 43..128
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    session = requests.Session()
    # A session's `verify` loses to REQUESTS_CA_BUNDLE unless the environment is ignored
    # (nothing else from it applies to a provider on loopback: no proxy, no netrc).
    session.trust_env = False
    session.verify = idp.verify
    response = session.get(
        meta["authorization_endpoint"],
        params={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=_HTTP_TIMEOUT,
    )
    code = _follow_to_code(session, response, user, redirect_uri, state, idp.issuer)
    token_response = session.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "code_verifier": verifier,
        },
        timeout=_HTTP_TIMEOUT,
    )
    if token_response.status_code != 200:
        raise LoginRefused(
            f"token endpoint answered {token_response.status_code}: {token_response.text}"
        )
    tokens = dict(token_response.json())
    # A sanity check of our own flow, not token validation (the API must do that itself).
    claims = unverified_claims(tokens["id_token"])
    if claims.get("nonce") != nonce:
        raise DevstackError("ID token nonce does not match the one sent")
    # The provider does single sign-on: a session cookie for another user would skip the
    # login form and return THAT user's token. Each call has a fresh Session, but check.
    expected = users()[user].sub
    if claims.get("sub") != expected:
        raise DevstackError(f"logged in as {claims.get('sub')!r}, expected {expected!r}")
    return tokens


def _follow_to_code(
    session: requests.Session,
    response: requests.Response,
    user: str,
    redirect_uri: str,
    state: str,
    issuer: str,
) -> str:
    """Follow redirects and answer the login and consent pages until the code comes back."""
    for _ in range(12):  # authorize, login, resume, consent, resume, callback: ~6 hops
        if response.is_redirect:
            location = urljoin(response.url, response.headers["Location"])
            if location.split("?", 1)[0] == redirect_uri.split("?", 1)[0]:
                return _code_from_callback(location, state, issuer)
            response = session.get(location, allow_redirects=False, timeout=_HTTP_TIMEOUT)
            continue
        if response.status_code != 200 or "html" not in response.headers.get("Content-Type", ""):
            raise LoginRefused(
                f"identity provider refused the login of {user!r} ({response.status_code}): "
                f"{_text_of(response.text)}"
            )
        form = _FormParser()
        form.feed(response.text)
        prompt = form.hidden.get("prompt")
        if form.action is None or prompt not in ("login", "consent"):
            raise LoginRefused(f"unexpected page at {response.url}: {_text_of(response.text)}")
        data = {"prompt": prompt}
        if prompt == "login":
            data |= {"login": user, "password": "unused"}  # the dev form checks no password
        response = session.post(
            urljoin(response.url, form.action),
            data=data,
            allow_redirects=False,
            timeout=_HTTP_TIMEOUT,
        )
    raise DevstackError("login did not reach the redirect URI within 12 steps")


def _code_from_callback(location: str, state: str, issuer: str) -> str:
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if "error" in query:
        raise LoginRefused(
            f"authorization failed: {query['error']}: {query.get('error_description', '')}"
        )
    if query.get("state") != state:
        raise DevstackError("authorization response state does not match the one sent")
    if query.get("iss") not in (None, issuer):  # RFC 9207 mix-up defence
        raise DevstackError(f"authorization response iss {query.get('iss')!r} is not {issuer!r}")
    return query["code"]


def _text_of(page: str) -> str:
    """The readable text of an HTML page (for error messages): no tags, styles or scripts."""
    text = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\s+", " ", text).strip()[:400]


def id_token(
    user: str,
    *,
    idp: Idp | None = None,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    scope: str | None = None,
) -> str:
    """A real ID token for demo user `user`, obtained through the provider's code + PKCE flow."""
    return str(
        login(user, idp=idp, client_id=client_id, redirect_uri=redirect_uri, scope=scope)[
            "id_token"
        ]
    )


def refresh(refresh_token: str, *, idp: Idp | None = None,
            client_id: str | None = None) -> dict[str, Any]:
    """The token endpoint's answer to a refresh_token grant (as the site's silent renew sends it).

    Raises TokenRefused (with the OAuth error code) when the provider refuses the token.
    """
    idp = _require_idp(idp)
    response = requests.post(
        idp.discovery()["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": refresh_token,
              "client_id": client_id or idp.client_id},
        timeout=_HTTP_TIMEOUT,
        verify=idp.verify,
    )
    return _token_answer(response)


def revoke(token: str, *, idp: Idp | None = None, client_id: str | None = None,
           kind: str = "refresh_token") -> None:
    """Revoke a token at the revocation endpoint (RFC 7009), as the site's logout does.

    kind: the token_type_hint (refresh_token or access_token)."""
    idp = _require_idp(idp)
    response = requests.post(
        idp.discovery()["revocation_endpoint"],
        data={"token": token, "token_type_hint": kind,
              "client_id": client_id or idp.client_id},
        timeout=_HTTP_TIMEOUT,
        verify=idp.verify,
    )
    if response.status_code != 200:  # RFC 7009: 200 even for an unknown token
        _token_answer(response)


def _token_answer(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise TokenRefused(response.status_code, str(body.get("error", "")),
                           str(body.get("error_description", response.text[:200])))
    return dict(body)


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's claims read WITHOUT checking its signature: only to know what a token says
    that our own login or our own tests produced, never to trust one."""
    signed = jws.JWS()
    signed.deserialize(token)
    return dict(json.loads(signed.objects["payload"]))


# --- forged tokens (negative tests only) -------------------------------------------------


def mint_token(
    overrides: Mapping[str, Any] | None = None,
    *,
    user: str = "alice",
    idp: Idp | None = None,
    lifetime: int = 300,
    key: jwk.JWK | None = None,
    header: Mapping[str, Any] | None = None,
) -> str:
    """FOR NEGATIVE TESTS ONLY: sign an ID token directly, bypassing the login flow.

    Starts from the claims a real login of `user` carries (iss, aud, sub, email,
    email_verified, name, iat, exp; no nonce) and applies `overrides`; an override of
    None removes that claim. Signed RS256 with the provider's own key unless `key` is
    given; the header is the provider's ({alg, kid}) updated by `header` (None removes).
    So:
        mint_token({"exp": int(time.time()) - 60})     expired, valid signature
        mint_token({"aud": "someone-else"})            wrong audience
        mint_token({"iss": "http://127.0.0.1:1"})      wrong issuer
        mint_token(key=jwk.JWK.generate(kty="RSA", size=2048))  bad signature, same kid
    Anything a test expects to be ACCEPTED must use id_token() instead.
    """
    idp = _require_idp(idp)
    who = users()[user]
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": idp.issuer,
        "aud": idp.client_id,
        "sub": who.sub,
        "email": who.email,
        "email_verified": who.email_verified,
        "name": who.name,
        "iat": now,
        "exp": now + lifetime,
    }
    for claim, value in (overrides or {}).items():
        if value is None:
            claims.pop(claim, None)
        else:
            claims[claim] = value
    own = signing_key()
    key = key or own
    head = {"alg": "RS256", "kid": own.kid, **(header or {})}
    token = jwt.JWT(header={k: v for k, v in head.items() if v is not None}, claims=claims)
    token.make_signed_token(key)
    return str(token.serialize())


# --- CLI -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.identity", description=__doc__.splitlines()[0]
    )
    parser.add_argument("command", choices=["start", "stop", "status", "token"])
    parser.add_argument("user", nargs="?", default="alice")
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--redirect-uri", action="append", dest="redirect_uris", default=None)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            registration, grants = standalone_registration(
                tuple(args.redirect_uris or (DEFAULT_REDIRECT_URI,)))
            idp = start(args.port, client_id=args.client_id, registration=registration,
                        class_grants=grants)
            print(f"identity provider {idp.issuer} client {idp.client_id}")
        elif args.command == "stop":
            print("stopped" if stop() else "not running")
        elif args.command == "status":
            idp = running()
            print(f"running {idp.issuer} (pid {idp.pid})" if idp else "not running")
            return 0 if idp else 3
        else:
            print(id_token(args.user))
    except DevstackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
