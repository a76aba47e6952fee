"""The browser app's content and the pure values its hosting is built from.

No Pulumi here: which files of site/ are the app and the type each is served with, the
generated config.json (`app_config`), the site's URL and bucket name, and the
Content-Security-Policy CloudFront adds. components/site.py declares the resources.

`config.json` is the app's only input besides the user: the API URL, the issuer and client,
each user class's role and membership rules and the routes it may call (from access.py, so
the app never duplicates them), the route each of the site's actions calls (`actions`), and
the STS endpoint the browser calls.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import access
from components import oidc_client

SITE_DIR = Path(__file__).resolve().parent.parent / "site"
INDEX = "index.html"
CONFIG_KEY = "config.json"
# Written by `node site/vendor.mjs` from the pinned npm packages (site/package-lock.json).
VENDORED = ("vendor/oidc-client-ts.js", "vendor/jwt-decode.js", "vendor/aws4fetch.js")
# In site/ but tooling, not app: never uploaded.
_TOOLING_FILES = frozenset({"package.json", "package-lock.json", "vendor.mjs"})
_TOOLING_DIRS = frozenset({"node_modules"})
# Module scripts are refused unless served with a JavaScript type, so the type of every
# file is decided here; an unknown extension fails the deployment instead of guessing.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
# File names carry no content hash, so browsers (and CloudFront, down to its minimum
# TTL) must revalidate: a stale app.js beside a new config.json would break the app.
CACHE_CONTROL = "no-cache"
_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class SiteFile:
    key: str  # object key, relative to the site root
    path: Path
    content_type: str


def content_type(key: str) -> str:
    suffix = Path(key).suffix.lower()
    if suffix not in CONTENT_TYPES:
        raise ValueError(f"site/{key}: no content type for {suffix or 'files without extension'}; "
                         "add it to components/site_content.py CONTENT_TYPES")
    return CONTENT_TYPES[suffix]


def site_files(site_dir: Path = SITE_DIR) -> list[SiteFile]:
    """Every file of the app under site_dir (tooling left out), sorted by key.

    Fails when the vendored libraries are missing: the app would deploy and
    then fail in every browser on its first import.
    """
    missing = [v for v in VENDORED if not (site_dir / v).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{site_dir}: vendored libraries missing ({', '.join(missing)}): run "
            "`npm --prefix site ci && node site/vendor.mjs`"
        )
    files = []
    for path in sorted(site_dir.rglob("*")):
        relative = path.relative_to(site_dir)
        if not path.is_file() or relative.parts[0] in _TOOLING_DIRS:
            continue
        if str(relative) in _TOOLING_FILES or any(p.startswith(".") for p in relative.parts):
            continue
        key = relative.as_posix()
        if key == CONFIG_KEY:
            raise ValueError(f"site/{CONFIG_KEY} must not exist: the stack generates it")
        files.append(SiteFile(key, path, content_type(key)))
    return files


def bucket_name(prefix: str, account_id: str) -> str:
    """`{prefix}-site-{accountId}`: globally unique, and the same on every run."""
    name = f"{prefix}-site-{account_id}".lower()
    if not _BUCKET_NAME.match(name):
        raise ValueError(f"site bucket name {name!r} is not a valid S3 bucket name "
                         "(3-63 lowercase letters, digits, hyphens): use a shorter stack name")
    return name


def default_sts_endpoint(region: str) -> str:
    """The regional STS endpoint (AWS recommends regional over the global one)."""
    return f"https://sts.{region}.amazonaws.com"


def site_url(host: str, *, https: bool) -> str:
    """The URL users open, which is also the app's OIDC redirect URI.

    host: the CloudFront domain (https), or the bucket's `websiteEndpoint`
    (plain http): on AWS `<bucket>.s3-website-<region>.amazonaws.com`; for the
    emulator, which has no website endpoint, `127.0.0.1:<port>/<bucket>`.
    `index.html` is explicit because the emulator serves no index document.
    """
    return f"{'https' if https else 'http'}://{host}/{INDEX}"


def class_rules(user_classes: Sequence[access.UserClass]) -> dict[str, dict[str, list[str]]]:
    """What the app needs to know about each class, in the model's order.

    subPatterns/subjects/sessionTags: the trust policy's rules, so the app can pick
    the role to ask for (the trust policy is what enforces). routes: the route ids
    the class may call, so the app offers only those controls.
    """
    return {
        c.name: {
            "subPatterns": list(c.members.sub_patterns),
            "subjects": list(c.members.subjects),
            "sessionTags": dict(c.members.session_tags),
            "routes": [r.id for r in c.routes],
        }
        for c in user_classes
    }


# What the site does, by the handler of the route that does it (access.Route.handler):
# config.json's `actions` gives each its route id, so the site keeps no copy of one
# (site/main.js asks whether a class may call `config.actions.add`).
SITE_ACTIONS: Mapping[str, str] = MappingProxyType({
    "list": "list_pets",
    "add": "add_pet",
    "remove": "remove_pet",
    "buy": "purchase_pet",
})


def action_routes(routes: Sequence[access.Route] | None = None,
                  actions: Mapping[str, str] = SITE_ACTIONS) -> dict[str, str]:
    """config.json's `actions`: {action: route id} under the model's routes (default:
    access.ROUTES as they are now). Refuses an action whose handler no route has: the
    site would offer a control that no class may use."""
    by_handler = {r.handler: r for r in (access.ROUTES if routes is None else routes)}
    missing = sorted(set(actions.values()) - set(by_handler))
    if missing:
        raise ValueError(f"the site's actions name handler(s) {missing} that no route of "
                         f"access.ROUTES has; the handlers are {sorted(by_handler)}")
    return {action: by_handler[handler].id for action, handler in actions.items()}


action_routes()  # checked at import, as access.py checks its model


def app_config(
    *,
    region: str,
    api_url: str,
    issuer: str,
    client_id: str,
    sts_endpoint: str,
    roles: Mapping[str, str],
    user_classes: Sequence[access.UserClass],
    scope: str = oidc_client.SCOPE,
) -> dict[str, Any]:
    """The content of config.json (the browser app's only input besides the user)."""
    return {
        "region": region,
        "apiUrl": api_url.rstrip("/"),
        "issuer": issuer,
        "clientId": client_id,
        "scope": scope,
        "stsEndpoint": sts_endpoint,
        "roles": dict(roles),
        "classes": class_rules(user_classes),
        "actions": action_routes(),
    }


def inline_script_hashes(html: str) -> list[str]:
    """CSP hash sources (`'sha256-...'`) of the inline scripts of a page (its import map).

    Only these exact bodies may run inline; `'unsafe-inline'` is never needed.
    """
    hashes = []
    for match in _INLINE_SCRIPT.finditer(html):
        if re.search(r"\bsrc\s*=", match["attrs"]):
            continue
        digest = hashlib.sha256(match["body"].encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return sorted(set(hashes))


def content_security_policy(
    *, api_origin: str, sts_origin: str, issuer_origin: str, script_hashes: Sequence[str]
) -> str:
    """The site may load only itself and talk only to the API, STS and the issuer."""
    connect = " ".join(["'self'", *sorted({api_origin, sts_origin, issuer_origin})])
    scripts = " ".join(["'self'", *script_hashes])
    directives = [
        "default-src 'none'",
        f"script-src {scripts}",
        "style-src 'self'",
        "img-src 'self' data:",
        f"connect-src {connect}",
        f"form-action 'self' {issuer_origin}",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
    return "; ".join(directives)


def api_origin(rest_api_id: str, region: str) -> str:
    """The REST API's own execute-api origin (the stage URL's origin, known before the
    stage exists)."""
    return f"https://{rest_api_id}.execute-api.{region}.amazonaws.com"
