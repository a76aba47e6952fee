"""The local OpenID Connect identity provider's process: its configuration, start and stop.

The provider is npm `oidc-provider` (devstack/idp/server.mjs) on 127.0.0.1, issuer
`http(s)://127.0.0.1:<port>`, with one public client (code + PKCE S256, refresh tokens that
rotate) registered as the program declares it (stack outputs `oidcClient` and `classGrants`,
see components/oidc_client.py), and the demo users of devstack/idp/users.json. Its RS256
signing key is generated here (jwcrypto) and handed to the provider, so devstack.tokens can
sign deliberately bad tokens with the very key the provider's JWKS publishes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import trustme
from jwcrypto import jwk

from devstack import paths, procs
from devstack.errors import DevstackError

NAME = "idp"
DEFAULT_PORT = 9443
PORT_ENV = "PETS_IDP_PORT"
DEFAULT_CLIENT_ID = "pets-local"
MIN_NODE_MAJOR = 20
HTTP_TIMEOUT = 5.0

# The stack output `oidcClient` (ClientRegistration.to_output()): what the provider registers.
Registration = Mapping[str, Any]
# The stack output `classGrants`: {identity provider role name: {tag key: value}}.
ClassGrants = Mapping[str, Mapping[str, str]]
_REGISTRATION_LISTS = ("redirectUris", "postLogoutRedirectUris", "webOrigins", "grantTypes")
_REGISTRATION_SECONDS = ("idTokenLifetimeSeconds", "refreshTokenLifetimeSeconds")


@dataclass(frozen=True)
class Idp:
    """A running local identity provider. Its fields (but pid and started) are its record."""

    issuer: str  # http(s)://127.0.0.1:<port>, no trailing slash
    port: int
    client_id: str
    registration: Mapping[str, Any]  # what it registered (checked_registration's shape)
    class_grants: Mapping[str, Mapping[str, str]]
    ca_file: str | None = None  # the CA certificate an https provider's certificate is from
    started: bool = False  # True if the call that produced this started the process
    pid: int | None = None

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        return tuple(self.registration["redirectUris"])

    @property
    def verify(self) -> str | bool:
        """`verify=` for requests: exactly the provider's own CA when it serves https."""
        return self.ca_file or True

    @property
    def discovery_url(self) -> str:
        return self.issuer + "/.well-known/openid-configuration"

    def discovery(self) -> dict[str, Any]:
        response = requests.get(self.discovery_url, timeout=HTTP_TIMEOUT, verify=self.verify)
        response.raise_for_status()
        return dict(response.json())

    def jwks(self) -> dict[str, Any]:
        """The JWKS the provider serves (public keys), as fetched from its jwks_uri."""
        response = requests.get(
            self.discovery()["jwks_uri"], timeout=HTTP_TIMEOUT, verify=self.verify
        )
        response.raise_for_status()
        return dict(response.json())


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


def tls_files() -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate, server key) PEM files for an https provider.

    trustme makes a CA and, from it, a certificate for the IP address 127.0.0.1 only. The
    CA's private key is never written down, so a client that trusts exactly the CA file
    trusts this one certificate and nothing else.
    """
    ca, cert, key = (paths.IDP_STATE / f"tls-{part}.pem" for part in ("ca", "cert", "key"))
    with procs.file_lock("idp-tls"):
        if not (ca.exists() and cert.exists() and key.exists()):
            authority = trustme.CA(organization_name="pets dev stack IdP")
            issued = authority.issue_cert(procs.LOOPBACK)
            paths.IDP_STATE.mkdir(parents=True, exist_ok=True)
            issued.private_key_pem.write_to_path(str(key))
            key.chmod(0o600)
            issued.cert_chain_pems[0].write_to_path(str(cert))
            authority.cert_pem.write_to_path(str(ca))
    return ca, cert, key


def checked_registration(registration: Registration) -> dict[str, Any]:
    """The registration as plain JSON data, or a DevstackError naming what is wrong.

    server.mjs checks it again; checking here names the problem before a process starts.
    """
    problems = [k for k in _REGISTRATION_LISTS if not isinstance(registration.get(k), list | tuple)
                or not all(isinstance(v, str) and v for v in registration[k])]
    problems += [k for k in _REGISTRATION_SECONDS
                 if not isinstance(registration.get(k), int) or registration[k] <= 0]
    scope = registration.get("scope")
    if not isinstance(scope, str) or "openid" not in scope.split():
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


def ensure_node_modules() -> str:
    """Check node/npm and run `npm ci` when oidc-provider is missing or not the pinned version.

    Returns the node binary's path.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = ", ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        raise DevstackError(
            f"the local identity provider needs Node.js >= {MIN_NODE_MAJOR} with npm on PATH "
            f"(missing: {missing}). Install it, e.g. `apt-get install -y nodejs npm` or from "
            "nodejs.org, then retry."
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    match = re.match(r"v(\d+)", version.stdout.strip())
    major = int(match.group(1)) if match else 0
    if major < MIN_NODE_MAJOR:
        raise DevstackError(f"Node.js {major} found at {node}; the identity provider needs "
                            f">= {MIN_NODE_MAJOR}: install a newer one, then retry")
    installed = paths.IDP_SOURCE / "node_modules" / "oidc-provider" / "package.json"
    package = json.loads((paths.IDP_SOURCE / "package.json").read_text())
    want = package["dependencies"]["oidc-provider"]
    with procs.file_lock("idp-node-modules"):
        if not installed.exists() or json.loads(installed.read_text())["version"] != want:
            result = subprocess.run([npm, "ci", "--no-audit", "--no-fund"],
                                    cwd=paths.IDP_SOURCE, capture_output=True, text=True)
            if result.returncode != 0:
                raise DevstackError(f"`npm ci` in {paths.IDP_SOURCE} failed:\n"
                                    f"{result.stdout}{result.stderr}")
    return node


def running(name: str = NAME) -> Idp | None:
    """The identity provider `devstack` started under `name`, if it is still running."""
    managed = procs.running(name)
    return Idp(**managed.info, pid=managed.pid) if managed else None


def require(idp: Idp | None = None) -> Idp:
    """`idp`, else the one running under the default name; a DevstackError if neither."""
    idp = idp or running()
    if idp is None:
        raise DevstackError("the identity provider is not running: start the local stack "
                            "with `make up`")
    return idp


def _discovery_ok(idp: Idp) -> bool:
    try:
        response = requests.get(idp.discovery_url, timeout=1, verify=idp.verify)
        return response.status_code == 200 and response.json().get("issuer") == idp.issuer
    except (requests.RequestException, ValueError):
        return False


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

    tls: serve https with a certificate from tls_files(); real AWS and LocalStack accept
    only https OIDC provider URLs, MiniStack takes http.

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
            "stop it first (`make down`)"
        )
    if port is None:
        port = int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    procs.check_port_free(port, f"identity provider {name}")
    node = ensure_node_modules()
    signing_key()  # make sure the key file exists before the server reads it
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
    ca_file = None
    if tls:
        ca, cert, key = tls_files()
        ca_file = str(ca)
        env |= {"IDP_TLS_CERT": str(cert), "IDP_TLS_KEY": str(key)}
    idp = Idp(issuer=f"{'https' if tls else 'http'}://{procs.LOOPBACK}:{port}", port=port,
              client_id=client_id, registration=client, class_grants=grants, ca_file=ca_file)
    record = {f.name: getattr(idp, f.name) for f in dataclasses.fields(idp)
              if f.name not in ("started", "pid")}
    proc = procs.spawn(name, [node, "server.mjs"], env=env, info=record, cwd=paths.IDP_SOURCE)
    procs.wait_ready(name, proc, lambda: _discovery_ok(idp), timeout)
    return dataclasses.replace(idp, started=True, pid=proc.pid)


def stop(name: str = NAME, timeout: float = 5.0) -> bool:
    """Stop the identity provider; False if it was not running."""
    return procs.stop(name, timeout=timeout)
