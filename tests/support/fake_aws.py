"""A stand-in for STS and the pets API, for browser tests of the app before the stack runs.

Strict where the app could be wrong: STS gets the form the app must send; every API
call must carry a SigV4 signature that botocore recomputes with the issued secret (a
wrong signature is 403, as API Gateway answers); each class may call only its routes
of access.py; purchases need the ID token in X-Id-Token; a cross-origin preflight asking
for a header the API's CORS settings (components/api.py) do not allow is refused. Lenient
where only the real stack can judge: the ID token's signature is not checked (MiniStack's
STS does not either) and the trust policy is the model's membership rule
(access.Membership.admits) applied to the token's sub and its session tags claim.

It keeps the API's word on retries: an add with an Idempotency-Key seen before is answered
as the first time (another body: 422); a buyer buying their own pet again gets the same
sale; a listing names the buyer (soldTo, buyerSub) only to admins and to the buyer, known by
the ID token in X-Id-Token. And it fails on demand: `inject(route id, *faults)` makes the
next calls of a route throttled, unavailable, failing, unreadable or dropped (Fault).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import access
from components import oidc_client
from components.api_models import BAD_BODY_MESSAGE
from components.cors import CORS_ALLOW_HEADERS
from components.site_content import app_config
from devstack.idp.tokens import unverified_claims
from handlers import pages, shapes
from tests.support.site_server import NO_ANSWER, SiteServer, serving

REGION = "us-east-1"
ACCOUNT = "000000000000"
API_PREFIX = "/api"  # apiUrl = <origin>/api
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<akid>[^/]+)/(?P<scope>[^,]+), "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)

Answer = tuple[int, dict[str, str], bytes]


def role_arn(class_name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/pets-fake-{class_name}"


def fake_config(origin: str, issuer: str, scope: str = oidc_client.SCOPE, *,
                api_origin: str | None = None) -> dict[str, Any]:
    """config.json as the stack writes it, pointing at the fake services (the API at
    api_origin when given: another origin than the site's, as on AWS)."""
    return app_config(
        region=REGION,
        api_url=f"{api_origin or origin}{API_PREFIX}",
        issuer=issuer,
        client_id="pets-local",
        sts_endpoint=origin,
        roles={c.name: role_arn(c.name) for c in access.USER_CLASSES},
        user_classes=access.USER_CLASSES,
        scope=scope,
    )


# Every API answer carries these, as the gateway's responses do; Retry-After is exposed so
# the site can read it cross-origin.
_CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
_ALLOWED_HEADERS = frozenset(h.strip().lower() for h in CORS_ALLOW_HEADERS.split(","))


@dataclass(frozen=True)
class Fault:
    """What the fake answers instead of a route's answer, for one call.

    status 0 is no answer: the connection is closed without one (fetch rejects). cors=False
    answers without CORS headers, which a browser cannot read cross-origin (MiniStack's
    Lambda-error 502). applied=True carries the call out first and then loses its answer.
    """

    status: int
    message: str = ""
    retry_after: str | None = None
    cors: bool = True
    applied: bool = False

    def answer(self) -> Answer:
        if self.status == 0:
            return NO_ANSWER, {}, b""
        headers = {"Content-Type": "application/json", **(_CORS if self.cors else {})}
        if self.retry_after is not None:
            headers["Retry-After"] = self.retry_after
        return self.status, headers, json.dumps({"message": self.message}).encode()

    @property
    def label(self) -> str:
        if self.status == 0:
            return "dropped after it was carried out" if self.applied else "dropped"
        return f"{self.status}{'' if self.cors else ' without CORS'}"


def throttled(retry_after: str | None = None) -> Fault:
    """API Gateway's stage throttle (its 429 carries no Retry-After unless one is given)."""
    return Fault(429, "Too Many Requests", retry_after)


def unavailable(retry_after: str = "1") -> Fault:
    """The function's 503: the table throttled or unavailable, or the issuer's keys."""
    return Fault(503, "the pets table is busy; try again shortly", retry_after)


def gateway_failure(status: int = 502, *, cors: bool = True) -> Fault:
    """A function that crashed (502) or timed out (504), as API Gateway answers it."""
    message = "Endpoint request timed out" if status == 504 else "Internal server error"
    return Fault(status, message, cors=cors)


DROPPED = Fault(0)
ANSWER_LOST = Fault(0, applied=True)


@dataclass(frozen=True)
class ApiCall:
    """One call that reached the fake's API (after its signature and IAM checks)."""

    class_name: str
    route: str  # the route id, `POST /pets`
    status: str  # the status answered, or the fault's label
    akid: str
    amz_date: str
    idempotency_key: str | None
    body: bytes
    at: float  # time.monotonic() when it arrived


def _now() -> str:
    """A timestamp as the API writes createdAt (milliseconds, Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _order(pet: dict[str, Any]) -> str:
    return pages.order_key(pet["createdAt"], pet["petId"])


def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json", **_CORS}, json.dumps(body).encode()


def _sts_error(status: int, code: str, message: str) -> Answer:
    xml = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
           f"<Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
           f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return status, {"Content-Type": "text/xml"}, xml.encode()


@dataclass
class Session:
    class_name: str
    secret: str
    token: str
    expires: datetime


@dataclass
class FakeAws:
    sessions: dict[str, Session] = field(default_factory=dict)  # by access key id
    pets: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "class METHOD path -> status"
    issued: list[tuple[str, str]] = field(default_factory=list)  # (sub, access key id) per STS call
    signers: list[str] = field(default_factory=list)  # access key id of each signed API call
    page_requests: list[dict[str, list[str]]] = field(default_factory=list)  # GET /pets queries
    api_calls: list[ApiCall] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)  # by route id, next first
    refused_preflights: list[str] = field(default_factory=list)  # "METHOD path: why"
    # Idempotency-Key -> (the add's body, its answer), as the API keeps them.
    added_by_key: dict[str, tuple[Any, tuple[int, Any]]] = field(default_factory=dict)
    session_seconds: int = 3600
    # Tests that run the page's clock ahead move the fake's clock along, so expiry agrees.
    clock_offset: timedelta = timedelta()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def inject(self, route_id: str, *faults: Fault) -> None:
        """The next calls of this route (`GET /pets`) get these faults, one each, in order."""
        if route_id not in {r.id for r in access.ROUTES}:
            raise ValueError(f"no route {route_id!r}; routes: {[r.id for r in access.ROUTES]}")
        with self._lock:
            self.faults.setdefault(route_id, []).extend(faults)

    def calls_of(self, route_id: str, class_name: str | None = None) -> list[ApiCall]:
        return [c for c in self.api_calls if c.route == route_id
                and class_name in (None, c.class_name)]

    def reset_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            if method == "POST" and path == "/":
                return self._sts(body)
            if method == "OPTIONS" and path.startswith(API_PREFIX + "/"):
                return self._preflight(path, headers)
            if path.startswith(API_PREFIX + "/"):
                return self._api(method, path, headers, body)
            return 404, {"Content-Type": "text/plain"}, b"not found"

    def _preflight(self, path: str, headers: dict[str, str]) -> Answer:
        """A CORS preflight, answered as the API's OPTIONS methods are configured; what they
        do not allow is refused without CORS headers, so the browser blocks the call."""
        lower = {k.lower(): v for k, v in headers.items()}
        method = lower.get("access-control-request-method", "")
        requested = lower.get("access-control-request-headers", "").split(",")
        asked = {h.strip().lower() for h in requested if h.strip()}
        route = _route(method, urlsplit(path).path[len(API_PREFIX):])
        why = ("no such route" if route is None
               else f"headers not allowed: {sorted(asked - _ALLOWED_HEADERS)}"
               if asked - _ALLOWED_HEADERS else "")
        if why:
            self.refused_preflights.append(f"{method} {path}: {why}")
            return 403, {"Content-Type": "text/plain"}, why.encode()
        methods = ",".join(sorted({r.method for r in access.ROUTES} | {"OPTIONS"}))
        return 200, {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": methods,
                     "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS,
                     "Access-Control-Max-Age": "600"}, b""

    # --- STS ---------------------------------------------------------------------

    def _sts(self, body: bytes) -> Answer:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        expected = {"Action", "Version", "RoleArn", "RoleSessionName", "WebIdentityToken",
                    "DurationSeconds"}
        if set(form) != expected or form["Action"] != "AssumeRoleWithWebIdentity" \
                or form["Version"] != "2011-06-15":
            return _sts_error(400, "InvalidAction", f"unexpected form {sorted(form)}")
        if not re.fullmatch(r"[\w+=,.@-]{2,64}", form["RoleSessionName"]):
            return _sts_error(400, "ValidationError", "bad RoleSessionName")
        by_arn = {role_arn(c.name): c for c in access.USER_CLASSES}
        user_class = by_arn.get(form["RoleArn"])
        claims = unverified_claims(form["WebIdentityToken"])
        sub = claims.get("sub", "")
        # Session tags as IAM reads them from the tags claim (one value per key).
        principal_tags = claims.get(access.TAGS_CLAIM, {}).get("principal_tags", {})
        tags = {k: v[0] for k, v in principal_tags.items()}
        if user_class is None or not user_class.members.admits(
            access.TokenClaims("browser", sub, session_tags=tags)
        ):
            return _sts_error(403, "AccessDenied",
                              "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        akid = "ASIA" + secrets.token_hex(8).upper()
        session = Session(user_class.name, secrets.token_urlsafe(30), secrets.token_urlsafe(60),
                          self.now() + timedelta(seconds=self.session_seconds))
        self.sessions[akid] = session
        self.issued.append((sub, akid))
        xml = f"""<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>{akid}</AccessKeyId>
      <SecretAccessKey>{session.secret}</SecretAccessKey>
      <SessionToken>{session.token}</SessionToken>
      <Expiration>{session.expires.strftime("%Y-%m-%dT%H:%M:%SZ")}</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"""
        return 200, {"Content-Type": "text/xml"}, xml.encode()

    # --- SigV4, as API Gateway checks it -----------------------------------------------

    def _caller(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Session:
        lower = {k.lower(): v for k, v in headers.items()}
        match = _AUTH.match(lower.get("authorization", ""))
        if not match:
            raise PermissionError("Missing Authentication Token")
        self.signers.append(match["akid"])
        session = self.sessions.get(match["akid"])
        if session is None or lower.get("x-amz-security-token") != session.token:
            raise PermissionError("The security token included in the request is invalid")
        if self.now() >= session.expires:
            raise PermissionError("The security token included in the request is expired")
        if match["scope"].split("/")[1:] != [REGION, "execute-api", "aws4_request"]:
            raise PermissionError(f"Credential should be scoped correctly: {match['scope']}")
        signed = match["signed"].split(";")
        # The host the request came to: the site's origin, or the API's own.
        request = AWSRequest(method=method, url=f"http://{lower['host']}{path}", data=body,
                             headers={h: lower[h] for h in signed if h != "host"})
        request.context["timestamp"] = lower["x-amz-date"]
        auth = SigV4Auth(Credentials(match["akid"], session.secret, session.token),
                         "execute-api", REGION)
        canonical = auth.canonical_request(request)
        expected = auth.signature(auth.string_to_sign(request, canonical), request)
        if not secrets.compare_digest(expected, match["sig"]):
            raise PermissionError("The request signature we calculated does not match the "
                                  "signature you provided.")
        return session

    # --- the API ---------------------------------------------------------------------

    def _api(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        route_path = urlsplit(path).path[len(API_PREFIX):]
        try:
            caller = self._caller(method, path, headers, body)
        except PermissionError as err:
            return _json(403, {"message": str(err)})
        route = _route(method, route_path)
        if route is None:
            return _json(403, {"message": "Missing Authentication Token"})
        user_class = next(c for c in access.USER_CLASSES if c.name == caller.class_name)
        lower = {k.lower(): v for k, v in headers.items()}

        def log(status: str) -> None:
            self.calls.append(f"{caller.class_name} {method} {route_path} -> {status}")
            self.api_calls.append(ApiCall(
                caller.class_name, route.id, status, self.signers[-1], lower.get("x-amz-date", ""),
                lower.get("idempotency-key"), body, time.monotonic()))

        if not user_class.may_call(route):
            log("403")
            return _json(403, {"Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/"
                                          f"pets-fake-{caller.class_name}/x is not authorized "
                                          "to perform: execute-api:Invoke"})
        queued = self.faults.get(route.id)
        fault = queued.pop(0) if queued else None
        if fault is not None and not fault.applied:
            log(fault.label)
            return fault.answer()
        status, result = self._route_call(route, caller, path, lower, body)
        if fault is not None:
            log(f"{status}, {fault.label}")
            return fault.answer()
        log(str(status))
        return _json(status, result)

    def _route_call(self, route: access.Route, caller: Session, url: str,
                    headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        path = urlsplit(url).path
        if route is access.LIST_PETS:
            return self._page(parse_qs(urlsplit(url).query, keep_blank_values=True),
                              self._reader(caller, headers))
        if route is access.ADD_PET:
            return self._add(headers.get("idempotency-key"), body)
        if route is access.REMOVE_PET:
            pet = self.pets.get(path.rsplit("/", 1)[1])
            if pet is None:
                return 404, {"error": "no such pet"}
            if "soldTo" in pet:
                return 409, {"error": "a sold pet cannot be removed"}
            return 200, self.pets.pop(pet["petId"])
        token = headers.get("x-id-token")
        if not token:
            return 401, {"error": "no ID token; send the user's ID token in X-Id-Token"}
        pet = self.pets.get(json.loads(body or b"{}").get("petId", ""))
        if pet is None:
            return 404, {"error": "no such pet"}
        claims = unverified_claims(token)
        if "soldTo" in pet:
            # The buyer asking again (a retry whose answer was lost) gets the same sale.
            if pet["buyerSub"] == claims["sub"]:
                return 200, pet
            return 409, {"error": "pet already sold"}
        pet.update(sold=True, soldTo=claims.get("email") or claims["sub"], buyerSub=claims["sub"],
                   soldAt=_now())
        return 200, pet

    def _add(self, key: str | None, body: bytes) -> tuple[int, Any]:
        data = json.loads(body or b"{}")
        if key is not None and key in self.added_by_key:
            first_body, first_answer = self.added_by_key[key]
            if first_body != data:
                return 422, {"error": "Idempotency-Key was used with another request body"}
            return first_answer
        price = data.get("price")
        if not isinstance(price, int | float) or isinstance(price, bool) or price <= 0:
            return 400, {"error": BAD_BODY_MESSAGE}  # as API Gateway's validator answers
        pet = {"petId": str(uuid.uuid4()), "type": data.get("type"), "price": price,
               "createdAt": _now()}
        self.pets[pet["petId"]] = pet
        if key is not None:
            self.added_by_key[key] = (data, (201, pet))
        return 201, pet

    @staticmethod
    def _reader(caller: Session, headers: dict[str, str]) -> tuple[bool, str | None]:
        """Who lists: (an admin?, the sub of the ID token sent, if any)."""
        token = headers.get("x-id-token")
        return caller.class_name == access.ADMIN.name, (
            unverified_claims(token).get("sub") if token else None)

    def _page(self, query: dict[str, list[str]], reader: tuple[bool, str | None]
              ) -> tuple[int, Any]:
        """GET /pets as the API pages it: newest first, `limit` 1 to 100, and a cursor that
        is a page's nextCursor (the pets strictly before that page's last). Who bought a
        sold pet is told to admins and to the buyer only."""
        if set(query) - {"limit", "cursor"} or any(len(v) != 1 for v in query.values()):
            return 400, {"error": f"unexpected query {query}"}
        limit = query.get("limit", [str(shapes.DEFAULT_PAGE_SIZE)])[0]
        if not limit.isdigit() or not 1 <= int(limit) <= shapes.MAX_PAGE_SIZE:
            return 400, {"error": f"limit must be an integer from 1 to {shapes.MAX_PAGE_SIZE}"}
        try:
            before = pages.decode(query["cursor"][0]) if "cursor" in query else None
        except pages.BadCursor:
            return 400, {"error": "cursor is not one this API returned"}
        listed = sorted((p for p in self.pets.values() if before is None or _order(p) < before),
                        key=_order, reverse=True)
        page: dict[str, Any] = {"pets": [_as_read(p, *reader) for p in listed[:int(limit)]]}
        if len(listed) > int(limit):
            page["nextCursor"] = pages.encode(_order(page["pets"][-1]))
        self.page_requests.append(query)
        return 200, page


def _as_read(pet: dict[str, Any], admin: bool, sub: str | None) -> dict[str, Any]:
    """A listed pet as this reader may see it: sold, and by whom only to admins and the buyer."""
    if "soldTo" not in pet or admin or pet["buyerSub"] == sub:
        return pet
    return {k: v for k, v in pet.items() if k not in ("soldTo", "buyerSub")}


def _route(method: str, path: str) -> access.Route | None:
    for route in access.ROUTES:
        pattern = re.sub(r"\\\{[A-Za-z0-9]+\\\}", "[^/]+", re.escape(route.path))
        if route.method == method and re.fullmatch(pattern, path):
            return route
    return None


# A login without a refresh token (the program's registration without the refresh_token
# grant): it ends with its ID token. Renewal is tested with renewing=True (fake_shop).
NO_REFRESH_SCOPE = "openid email profile"


def registration(site_url: str, *, renewing: bool, id_token_lifetime_seconds: int = 3600
                 ) -> dict[str, Any]:
    """The site's registration as the program declares it (components/oidc_client.py); without
    renewing, without the refresh_token grant."""
    declared = oidc_client.registration_for(
        site_url, id_token_lifetime_seconds=id_token_lifetime_seconds,
        refresh_token_lifetime_seconds=8 * 3600)
    if renewing:
        return declared.to_output()
    return replace(declared, grant_types=("authorization_code",),
                   scope=NO_REFRESH_SCOPE).to_output()


@dataclass
class FakeShop:
    """The site, the fake STS and API, and the real local identity provider."""

    site: SiteServer  # the site's files, STS and (same-origin, as on the local stack) the API
    api: SiteServer  # the same fake API alone, on an origin of its own (as on AWS)
    fake: FakeAws
    issuer: str
    scope: str

    def config(self, *, cross_origin: bool = False) -> dict[str, Any]:
        return fake_config(self.site.origin, self.issuer, self.scope,
                           api_origin=self.api.origin if cross_origin else None)


@contextmanager
def fake_shop(label: str, *, renewing: bool = False, id_token_lifetime_seconds: int = 3600
              ) -> Iterator[FakeShop]:
    """Starts a FakeShop whose identity provider registers the site as the program does
    (renewing: with refresh tokens; id_token_lifetime_seconds: how long its ID tokens live);
    skips the test when the identity provider cannot run here (no node, no npm packages)."""
    import pytest

    from devstack.errors import DevstackError
    from devstack.idp import idp_process
    from devstack.processes import procs

    name = f"idp-{label}-{os.getpid()}"  # one per pytest worker
    fake = FakeAws()
    with serving(SiteServer(backend=fake)) as site, \
            serving(SiteServer(backend=fake, files=False)) as api:
        try:
            idp = idp_process.start(
                procs.free_port(),
                registration=registration(site.url, renewing=renewing,
                                          id_token_lifetime_seconds=id_token_lifetime_seconds),
                class_grants=oidc_client.class_grants("pets-local", access.USER_CLASSES),
                name=name)
        except DevstackError as err:
            pytest.skip(f"local identity provider unavailable: {err}")
        try:
            shop = FakeShop(site, api, fake, idp.issuer,
                            oidc_client.SCOPE if renewing else NO_REFRESH_SCOPE)
            site.config = shop.config()
            yield shop
        finally:
            idp_process.stop(name)
