"""The live access matrix: every user class calls every route, as real users would.

Each caller logs in at the local identity provider, assumes a role with the ID token, and
calls each route with SigV4. Each call gets a fresh pet to act on, so an allowed call returns
2xx and a refused one 403, nothing in between. `measure` has a row per class (its demo user);
`measure_people` goes one step back, person -> class -> route: every demo user asks STS for
every class's role with their own ID token, and the trust policies decide.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tabulate import tabulate

import access
from components.config import parse_settings
from devstack import calls, clients, paths
from devstack.clients import Target
from devstack.idp import demo_users, idp_process, login_client, tokens
from harness_core.stack_files import stack_file_config

UNSIGNED = "(unsigned)"
PROBE_TYPE = "matrix-probe"
NO_CREDENTIALS = "-"  # STS refused every class role: nothing to sign with


def demo_user_for(user_class: access.UserClass) -> demo_users.User:
    """A demo user the local stack admits to this class by sub (what every target reads)."""
    members = {c.name: c.members for c in stack_classes()}[user_class.name]
    for user in demo_users.users().values():
        # By sub alone, as every target's STS reads it (MiniStack ignores the tags claim).
        if members.admits(access.TokenClaims(user.login, user.sub)):
            return user
    raise LookupError(f"no demo user in devstack/idp/users.json belongs to {user_class.name}")


@dataclass(frozen=True)
class Caller:
    """Who makes the calls of one matrix row."""

    label: str
    api: calls.Api
    id_token: str | None = None


def caller_for(
    user_class: access.UserClass,
    outputs: Mapping[str, Any],
    target: Target | None = None,
    idp: idp_process.Idp | None = None,
) -> Caller:
    user = demo_user_for(user_class)
    token = login_client.id_token(user.login, idp=idp)
    credentials = calls.assume_role(
        outputs["roles"][user_class.name], token, session_name=f"matrix-{user.login}", target=target
    )
    return Caller(user_class.name, api_of(outputs, credentials), token)


def api_of(outputs: Mapping[str, Any], credentials: Mapping[str, Any] | None = None) -> calls.Api:
    return calls.Api(outputs["apiUrl"], outputs["region"], credentials)


class PetFixtures:
    """Fresh pets written straight to the table (setup, with the deploy key) and removed after.

    Used from several threads at once (one per route, see `measure`)."""

    def __init__(self, table_name: str, target: Target | None = None):
        self._table = table_name
        self._ddb = clients.client("dynamodb", target=target)
        self._created: list[str] = []
        self._lock = threading.Lock()

    def new_pet(self) -> str:
        pet_id = str(uuid.uuid4())
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self._ddb.put_item(
            TableName=self._table,
            Item={
                "petId": {"S": pet_id},
                "type": {"S": PROBE_TYPE},
                "price": {"N": "1"},
                "createdAt": {"S": now},
            },
        )
        self.forget(pet_id)
        return pet_id

    def forget(self, pet_id: str) -> None:
        with self._lock:
            self._created.append(pet_id)

    def clean(self) -> None:
        with self._lock:
            created, self._created = self._created, []
        for start in range(0, len(created), 25):  # BatchWriteItem takes 25 requests at most
            batch = [{"DeleteRequest": {"Key": {"petId": {"S": pet_id}}}}
                     for pet_id in created[start : start + 25]]
            unprocessed = {self._table: batch}
            while unprocessed:  # DynamoDB may hand part of a batch back; send that again
                answer = self._ddb.batch_write_item(RequestItems=unprocessed)
                unprocessed = answer.get("UnprocessedItems") or {}


def call_route(caller: Caller, route: access.Route, pets: PetFixtures) -> int:
    """Calls one route as `caller` with a valid request; returns the HTTP status."""
    pet_id = pets.new_pet()
    path = route.path.replace("{petId}", pet_id)
    kwargs: dict[str, Any] = {}
    if route is access.ADD_PET:
        kwargs["json"] = {"type": PROBE_TYPE, "price": 1}
    elif route is access.PURCHASE_PET:
        kwargs["json"] = {"petId": pet_id}
        kwargs["headers"] = {"X-Id-Token": caller.id_token or ""}
    response = caller.api.call(route.method, path, **kwargs)
    if route is access.ADD_PET and response.status_code == 201:
        pets.forget(response.json()["petId"])
    return response.status_code


StatusMatrix = dict[str, dict[str, int]]


def measure(
    outputs: Mapping[str, Any],
    callers: Sequence[Caller] | None = None,
    *,
    target: Target | None = None,
    idp: idp_process.Idp | None = None,
) -> StatusMatrix:
    """{row label: {route id: status}} measured against the running stack, with the unsigned
    row; callers: default one per class (its demo user's login and role)."""
    if callers is None:
        # Each class's login and STS call at once: they wait on the IdP and STS, not the CPU.
        with ThreadPoolExecutor(max_workers=len(access.USER_CLASSES)) as pool:
            callers = list(pool.map(lambda c: caller_for(c, outputs, target, idp),
                                    access.USER_CLASSES))
    callers = [*callers, Caller(UNSIGNED, api_of(outputs))]
    pets = PetFixtures(outputs["tableName"], target)

    def column(route: access.Route) -> list[int]:
        return [call_route(c, route, pets) for c in callers]

    try:
        # One thread per route, calling it for each caller in turn: the routes' functions
        # start (cold, right after `up`) at the same time instead of one after another,
        # and each still gets a single worker, since calls to one route never overlap.
        with ThreadPoolExecutor(max_workers=len(access.ROUTES)) as pool:
            columns = list(pool.map(column, access.ROUTES))
        return {c.label: {r.id: col[i] for r, col in zip(access.ROUTES, columns, strict=True)}
                for i, c in enumerate(callers)}
    finally:
        pets.clean()


def allowed(matrix: StatusMatrix) -> dict[str, dict[str, bool]]:
    """Statuses as allowed (2xx) or not; anything but 2xx and 403 is an error."""
    result: dict[str, dict[str, bool]] = {}
    for label, row in matrix.items():
        for route_id, status in row.items():
            if not (200 <= status < 300 or status == 403):
                raise AssertionError(f"{label} {route_id}: status {status} is neither 2xx nor 403")
        result[label] = {route_id: 200 <= status < 300 for route_id, status in row.items()}
    return result


def render(matrix: Mapping[str, Mapping[str, Any]]) -> str:
    """A plain-text table: one row per caller, one column per route."""
    routes = list(next(iter(matrix.values()))) if matrix else []
    rows = [[label, *row.values()] for label, row in matrix.items()]
    return tabulate(rows, headers=["caller", *routes], tablefmt="plain")


def token_claims(label: str, id_token: str) -> access.TokenClaims:
    """What IAM can see of a real ID token: its sub and the session tags of its tags claim.

    Read without verifying the signature: the token came from our own login just now.
    """
    claims = tokens.unverified_claims(id_token)
    principal_tags = (claims.get(access.TAGS_CLAIM) or {}).get("principal_tags") or {}
    tags = {key: values[0] for key, values in principal_tags.items() if values}
    return access.TokenClaims(label, claims["sub"], session_tags=tags)


@dataclass(frozen=True)
class Person:
    """One demo user's row: who they are, and what each class role STS gave them could call."""

    login: str
    claims: access.TokenClaims
    statuses: Mapping[str, Mapping[str, int]]  # granted class -> route id -> HTTP status

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.statuses)


@dataclass(frozen=True)
class Login:
    """One demo user logged in: their ID token and the credentials of every class role STS
    gave them for it (none: STS refused every role)."""

    login: str
    id_token: str
    credentials: Mapping[str, Mapping[str, Any]]  # class name -> STS credentials


def log_in_everyone(outputs: Mapping[str, Any], *, target: Target | None = None,
                    idp: idp_process.Idp | None = None) -> dict[str, Login]:
    """Every demo user logs in at the identity provider and asks STS for every class role
    with their own ID token; {login: Login}, in users.json's order."""

    def log_in(login: str) -> Login:
        token = login_client.id_token(login, idp=idp)
        offered = {c.name: calls.assume_role_unless_refused(
            outputs["roles"][c.name], token, session_name=f"people-{login}", target=target)
            for c in access.USER_CLASSES}
        return Login(login, token, {name: creds for name, creds in offered.items()
                                    if creds is not None})

    logins = list(demo_users.users())
    # Logins and STS calls wait on the IdP and STS, not the CPU: every user at once.
    with ThreadPoolExecutor(max_workers=len(logins)) as pool:
        return dict(zip(logins, pool.map(log_in, logins), strict=True))


def measure_people(outputs: Mapping[str, Any], *, target: Target | None = None,
                   idp: idp_process.Idp | None = None,
                   logins: Mapping[str, Login] | None = None
                   ) -> tuple[list[Person], dict[str, int]]:
    """Every demo user calls every route with each class role STS gave them.

    logins: log_in_everyone's answer, when the caller has it already (else made here).
    Returns the people and the unsigned row ({route id: status})."""
    if logins is None:
        logins = log_in_everyone(outputs, target=target, idp=idp)
    callers = [Caller(f"{who.login}/{name}", api_of(outputs, credentials), who.id_token)
               for who in logins.values() for name, credentials in who.credentials.items()]
    measured = measure(outputs, callers, target=target)  # with the unsigned row
    people = [Person(who.login, token_claims(who.login, who.id_token),
                     {name: measured[f"{who.login}/{name}"] for name in who.credentials})
              for who in logins.values()]
    return people, measured[UNSIGNED]


def stack_classes(stack: str = "local") -> tuple[access.UserClass, ...]:
    """The user classes with the stack file's membership (Pulumi.<stack>.yaml)."""
    path = paths.REPO / f"Pulumi.{stack}.yaml"
    return parse_settings(stack, stack_file_config(path)).user_classes


def people_problems(people: Sequence[Person], unsigned: Mapping[str, int],
                    classes: tuple[access.UserClass, ...], *, tags_evaluated: bool) -> list[str]:
    """Where the measured person -> class -> route table differs from access.py: 2xx where a
    class may call a route, 403 elsewhere and unsigned.

    tags_evaluated: whether the target's STS reads the tags claim (MiniStack's does not)."""
    problems = [f"an unsigned {r} answered {status}" for r, status in unsigned.items()
                if status != 403]
    model = access.access_matrix()
    for person in people:
        claims = person.claims
        if not tags_evaluated:
            claims = dataclasses.replace(claims, session_tags={})
        want = access.classes_of(claims, classes)
        if list(person.classes) != want:
            problems.append(f"{person.login} ({claims.sub}) got {list(person.classes)} "
                            f"from STS; the membership rules say {want}")
        for name, row in person.statuses.items():
            problems += [f"{person.login} as {name}: {route_id} answered {status}"
                         for route_id, status in row.items()
                         if not (200 <= status < 300 if model[name][route_id] else status == 403)]
    return problems


def render_people(people: Sequence[Person], unsigned: Mapping[str, int]) -> str:
    """person  sub  class  <route statuses>, one line per class a person got (or none)."""
    rows: list[list[Any]] = []
    for person in people:
        if not person.classes:
            rows.append([person.login, person.claims.sub, "none",
                         *[NO_CREDENTIALS] * len(access.ROUTES)])
        for name, row in person.statuses.items():
            label = person.login if name == person.classes[0] else ""
            rows.append([label, person.claims.sub, name, *row.values()])
    rows.append([UNSIGNED, "", "", *unsigned.values()])
    headers = ["person", "sub", "class", *(r.id for r in access.ROUTES)]
    return tabulate(rows, headers=headers, tablefmt="plain")
