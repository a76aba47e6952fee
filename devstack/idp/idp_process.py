"""The local OpenID Connect identity provider's process: its configuration, start and stop.

The provider is npm `oidc-provider` (devstack/idp/server.mjs) on 127.0.0.1, issuer
`http(s)://127.0.0.1:<port>`, with one public client (code + PKCE S256, refresh tokens that
rotate) registered as the program declares it (stack outputs `oidcClient` and `classGrants`,
see components/oidc_client.py), and the demo users of devstack/idp/users.json. Its RS256
signing key is generated here (jwcrypto) and handed to the provider, so devstack.idp.tokens can
sign deliberately bad tokens with the very key the provider's JWKS publishes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
import trustme
from jwcrypto import jwk

from devstack import paths
from devstack.errors import DevstackError
from devstack.processes import procs
from harness_core.node import ensure_packages

NAME = "idp"
DEFAULT_PORT = 9443
PORT_ENV = "PETS_IDP_PORT"
DEFAULT_CLIENT_ID = "pets-local"
HTTP_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class Idp:
    """A running local identity provider. Its fields (but pid) are its record."""

    issuer: str  # http(s)://127.0.0.1:<port>, no trailing slash
    port: int
    client_id: str
    registration: Mapping[str, Any]  # what it registered (the stack output oidcClient)
    class_grants: Mapping[str, Mapping[str, str]]
    ca_file: str | None = None  # the CA certificate an https provider's certificate is from
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


def signing_key() -> jwk.JWK:
    """The provider's private RS256 key; generated (RSA 2048) on first use."""
    path = paths.IDP_PRIVATE_JWKS
    with procs.file_lock("idp-key"):
        if not path.exists():
            key = jwk.JWK.generate(kty="RSA", size=2048, alg="RS256", use="sig")
            # A content-derived kid: stable for the key's life, changes with a new key.
            key["kid"] = key.thumbprint()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(jwk.JWKSet(keys=key).export(private_keys=True))
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


def running(name: str = NAME) -> Idp | None:
    """The identity provider `devstack` started under `name`, if it is still running."""
    managed = procs.running(name)
    return Idp(**managed.info, pid=managed.pid) if managed else None


def require(idp: Idp | None = None, *, name: str = NAME) -> Idp:
    """`idp`, else the one running under `name`; a DevstackError if neither."""
    idp = idp or running(name)
    if idp is None:
        raise DevstackError("the identity provider is not running: start the local stack "
                            "with `make up`")
    return idp


def _discovery_ok(idp: Idp) -> bool:
    try:
        return idp.discovery().get("issuer") == idp.issuer
    except (requests.RequestException, ValueError):
        return False


def start(
    port: int | None = None,
    *,
    registration: Mapping[str, Any],
    class_grants: Mapping[str, Mapping[str, str]] | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    name: str = NAME,
    tls: bool = False,
) -> Idp:
    """Start the identity provider on 127.0.0.1 and wait until discovery answers.

    registration: the client registration the program declares (stack output `oidcClient`,
    ClientRegistration.to_output()); server.mjs refuses a malformed one, and the log tail
    says why. class_grants: the stack output `classGrants`, {identity provider role: {tag
    key: value}}; a user's roles (users.json) become the ID token's session tags claim.

    tls: serve https with a certificate from tls_files(); real AWS and LocalStack accept
    only https OIDC provider URLs, MiniStack takes http.

    port: argument, else $PETS_IDP_PORT, else 9443. One already running under `name` is an
    error (stop it first), never silently reconfigured.
    """
    existing = running(name)
    if existing is not None:
        raise DevstackError(f"identity provider {name} already runs at {existing.issuer} for "
                            f"client {existing.client_id}; stop it first (`make down`)")
    if port is None:
        port = int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    procs.check_port_free(port, f"identity provider {name}")
    node = ensure_packages(paths.IDP_SOURCE)
    signing_key()  # make sure the key file exists before the server reads it
    grants = {role: dict(tags) for role, tags in (class_grants or {}).items()}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(paths.STATE)),
        "IDP_PORT": str(port),
        "IDP_CLIENT_ID": client_id,
        "IDP_CLIENT": json.dumps(registration),
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
              client_id=client_id, registration=dict(registration), class_grants=grants,
              ca_file=ca_file)
    record = {k: v for k, v in dataclasses.asdict(idp).items() if k != "pid"}
    proc = procs.spawn(name, [node, "server.mjs"], env=env, info=record, cwd=paths.IDP_SOURCE)
    procs.wait_ready(name, proc, lambda: _discovery_ok(idp), timeout=20.0)
    return dataclasses.replace(idp, pid=proc.pid)


def stop(name: str = NAME) -> bool:
    """Stop the identity provider; False if it was not running."""
    return procs.stop(name, timeout=5.0)
