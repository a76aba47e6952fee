"""A stand-in for STS and the pets API, for browser tests of the app before the stack runs.

Strict where the app could be wrong: STS gets the form the app must send; every API
call must carry a SigV4 signature that botocore recomputes with the issued secret (a
wrong signature is 403, as API Gateway answers); each class may call only its routes
of access.py; purchases need the ID token in X-Id-Token. Lenient where only the real
stack can judge: the ID token's signature is not checked (MiniStack's STS does not
either) and the trust policy is the model's membership rule (access.Membership.admits) applied
to the token's sub and its session tags claim.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

import access
from components.api_models import BAD_BODY_MESSAGE
from devstack.tokens import unverified_claims
from handlers import pages, shapes

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




def _now() -> str:
    """A timestamp as the API writes createdAt (milliseconds, Z)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _order(pet: dict[str, Any]) -> str:
    return pages.order_key(pet["createdAt"], pet["petId"])


def _json(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


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
    origin: str = ""  # the site server's origin; the host SigV4 signs
    sessions: dict[str, Session] = field(default_factory=dict)  # by access key id
    pets: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)  # "class METHOD path -> status"
    issued: list[tuple[str, str]] = field(default_factory=list)  # (sub, access key id) per STS call
    signers: list[str] = field(default_factory=list)  # access key id of each signed API call
    page_requests: list[dict[str, list[str]]] = field(default_factory=list)  # GET /pets queries
    session_seconds: int = 3600
    # Tests that run the page's clock ahead move the fake's clock along, so expiry agrees.
    clock_offset: timedelta = timedelta()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            if method == "POST" and path == "/":
                return self._sts(body)
            if path.startswith(API_PREFIX + "/"):
                return self._api(method, path, headers, body)
            return 404, {"Content-Type": "text/plain"}, b"not found"

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
        request = AWSRequest(method=method, url=f"{self.origin}{path}", data=body,
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
        if not user_class.may_call(route):
            self.calls.append(f"{caller.class_name} {method} {route_path} -> 403")
            return _json(403, {"Message": f"User: arn:aws:sts::{ACCOUNT}:assumed-role/"
                                          f"pets-fake-{caller.class_name}/x is not authorized "
                                          "to perform: execute-api:Invoke"})
        status, result = self._route_call(route, path, headers, body)
        self.calls.append(f"{caller.class_name} {method} {route_path} -> {status}")
        return _json(status, result)

    def _route_call(self, route: access.Route, url: str, headers: dict[str, str],
                    body: bytes) -> tuple[int, Any]:
        path = urlsplit(url).path
        if route is access.LIST_PETS:
            return self._page(parse_qs(urlsplit(url).query, keep_blank_values=True))
        if route is access.ADD_PET:
            data = json.loads(body or b"{}")
            price = data.get("price")
            if not isinstance(price, int | float) or isinstance(price, bool) or price <= 0:
                return 400, {"error": BAD_BODY_MESSAGE}  # as API Gateway's validator answers
            pet = {"petId": str(uuid.uuid4()), "type": data.get("type"), "price": price,
                   "createdAt": _now()}
            self.pets[pet["petId"]] = pet
            return 201, pet
        if route is access.REMOVE_PET:
            pet = self.pets.get(path.rsplit("/", 1)[1])
            if pet is None:
                return 404, {"error": "no such pet"}
            if "soldTo" in pet:
                return 409, {"error": "a sold pet cannot be removed"}
            return 200, self.pets.pop(pet["petId"])
        token = {k.lower(): v for k, v in headers.items()}.get("x-id-token")
        if not token:
            return 401, {"error": "no ID token; send the user's ID token in X-Id-Token"}
        pet = self.pets.get(json.loads(body or b"{}").get("petId", ""))
        if pet is None:
            return 404, {"error": "no such pet"}
        if "soldTo" in pet:
            return 409, {"error": "pet already sold"}
        claims = unverified_claims(token)
        pet.update(soldTo=claims.get("email") or claims["sub"], buyerSub=claims["sub"],
                   soldAt=_now())
        return 200, pet

    def _page(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        """GET /pets as the API pages it: newest first, `limit` 1 to 100, and a cursor that
        is a page's nextCursor (the pets strictly before that page's last)."""
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
        page: dict[str, Any] = {"pets": listed[:int(limit)]}
        if len(listed) > int(limit):
            page["nextCursor"] = pages.encode(_order(page["pets"][-1]))
        self.page_requests.append(query)
        return 200, page


def _route(method: str, path: str) -> access.Route | None:
    for route in access.ROUTES:
        pattern = re.sub(r"\\\{[A-Za-z0-9]+\\\}", "[^/]+", re.escape(route.path))
        if route.method == method and re.fullmatch(pattern, path):
            return route
    return None
