"""The live access matrix: every user class calls every route, as real users would.

For each class, a demo user of that class logs in at the local identity
provider, assumes the class's role with the ID token, and calls each route
with SigV4. Each call gets a fresh pet to act on, so an allowed call returns
2xx and a refused one 403 — nothing in between.

`measure_people` goes one step further back, person -> class -> route: every demo user
logs in, asks STS for every class's role with their own ID token (the trust policy
decides, as for a real user), and calls every route with whatever role they got.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import access
from components.config import parse_settings, stack_file_config
from devstack import calls, clients, demo_users, idp_process, login_client, paths, tokens
from devstack.clients import Target

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
    routes: Sequence[access.Route] = access.ROUTES,
    *,
    target: Target | None = None,
    idp: idp_process.Idp | None = None,
    include_unsigned: bool = True,
) -> StatusMatrix:
    """{row label: {route id: status}} measured against the running stack."""
    if callers is None:
        # Each class's login and STS call at once: they wait on the IdP and STS, not the CPU.
        with ThreadPoolExecutor(max_workers=max(len(access.USER_CLASSES), 1)) as pool:
            callers = list(pool.map(lambda c: caller_for(c, outputs, target, idp),
                                    access.USER_CLASSES))
    else:
        callers = list(callers)
    if include_unsigned:
        callers.append(Caller(UNSIGNED, api_of(outputs)))
    pets = PetFixtures(outputs["tableName"], target)

    def column(route: access.Route) -> list[int]:
        return [call_route(c, route, pets) for c in callers]

    try:
        # One thread per route, calling it for each caller in turn: the routes' functions
        # start (cold, right after `up`) at the same time instead of one after another,
        # and each still gets a single worker, since calls to one route never overlap.
        with ThreadPoolExecutor(max_workers=max(len(routes), 1)) as pool:
            columns = dict(zip(routes, pool.map(column, routes), strict=True))
        return {c.label: {r.id: columns[r][i] for r in routes} for i, c in enumerate(callers)}
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


def render(matrix: Mapping[str, Mapping[str, Any]], cell: Callable[[Any], str] = str,
           corner: str = "caller") -> str:
    """A plain-text table: one row per caller, one column per route (or other key)."""
    routes = list(next(iter(matrix.values())).keys()) if matrix else []
    width = max([len(label) for label in matrix] + [len(corner)])
    columns = [max([len(r), 5] + [len(cell(row[r])) for row in matrix.values()]) for r in routes]
    lines = [
        "  ".join(
            [f"{corner:<{width}}", *(f"{r:<{w}}" for r, w in zip(routes, columns, strict=True))]
        ).rstrip()
    ]
    for label, row in matrix.items():
        cells = (f"{cell(row[r]):<{w}}" for r, w in zip(routes, columns, strict=True))
        lines.append("  ".join([f"{label:<{width}}", *cells]).rstrip())
    return "\n".join(lines)


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
    """One demo user's row: who they are, which roles STS gave them, what each could call."""

    login: str
    claims: access.TokenClaims
    classes: tuple[str, ...]  # the classes whose role STS granted this person's token
    statuses: Mapping[str, Mapping[str, int]]  # class -> route id -> HTTP status


def _granted(person: demo_users.User, token: str, outputs: Mapping[str, Any],
             target: Target | None) -> dict[str, Mapping[str, Any]]:
    """{class: credentials} for every class role STS gives this token."""
    granted = {}
    for user_class in access.USER_CLASSES:
        credentials = calls.assume_role_unless_refused(
            outputs["roles"][user_class.name], token,
            session_name=f"people-{person.login}", target=target)
        if credentials is not None:
            granted[user_class.name] = credentials
    return granted


def measure_people(
    outputs: Mapping[str, Any],
    routes: Sequence[access.Route] = access.ROUTES,
    *,
    target: Target | None = None,
    idp: idp_process.Idp | None = None,
) -> list[Person]:
    """Every demo user logs in, asks STS for every class role, and calls every route."""
    people = list(demo_users.users().values())
    with ThreadPoolExecutor(max_workers=max(len(people), 1)) as pool:
        tokens = list(pool.map(lambda u: login_client.id_token(u.login, idp=idp), people))
        grants = list(pool.map(lambda ut: _granted(*ut, outputs, target), zip(people, tokens,
                                                                            strict=True)))
    callers = [Caller(f"{user.login}/{name}", api_of(outputs, credentials), token)
               for user, token, granted in zip(people, tokens, grants, strict=True)
               for name, credentials in granted.items()]
    measured = measure(outputs, callers, routes, target=target)  # with the unsigned row
    unsigned = measured[UNSIGNED]
    rows = [Person(user.login, token_claims(user.login, token), tuple(granted),
                   {name: measured[f"{user.login}/{name}"] for name in granted})
            for user, token, granted in zip(people, tokens, grants, strict=True)]
    rows.append(Person(UNSIGNED, access.TokenClaims(UNSIGNED, "-"), (), {"": unsigned}))
    return rows


def stack_classes(stack: str = "local") -> tuple[access.UserClass, ...]:
    """The user classes with the stack file's membership (Pulumi.<stack>.yaml)."""
    path = paths.REPO / f"Pulumi.{stack}.yaml"
    return parse_settings(stack, stack_file_config(path)).user_classes


def expected_classes(claims: access.TokenClaims, classes: tuple[access.UserClass, ...], *,
                     tags_evaluated: bool) -> list[str]:
    """The classes the membership rules give this token on a target that does (or, like
    MiniStack's STS, does not) read the tags claim."""
    if not tags_evaluated:
        claims = dataclasses.replace(claims, session_tags={})
    return access.classes_of(claims, classes)


def people_problems(people: Sequence[Person], classes: tuple[access.UserClass, ...], *,
                    tags_evaluated: bool) -> list[str]:
    """Where the measured person -> class -> route table differs from access.py."""
    problems = []
    model = access.access_matrix()
    for person in people:
        if person.login == UNSIGNED:
            wrong = [r for r, status in person.statuses[""].items() if status != 403]
            problems += [f"an unsigned {r} answered {person.statuses[''][r]}" for r in wrong]
            continue
        want = expected_classes(person.claims, classes, tags_evaluated=tags_evaluated)
        if list(person.classes) != want:
            problems.append(f"{person.login} ({person.claims.sub}) got {list(person.classes)} "
                            f"from STS; the membership rules say {want}")
        for name, row in person.statuses.items():
            for route_id, ok in allowed({name: row})[name].items():
                if ok != model[name][route_id]:
                    problems.append(f"{person.login} as {name}: {route_id} answered "
                                    f"{row[route_id]}")
    return problems


def render_people(people: Sequence[Person], routes: Sequence[access.Route] = access.ROUTES
                  ) -> str:
    """person  sub  class  <route statuses>, one line per class a person got (or none)."""
    table: dict[str, Mapping[str, str]] = {}
    for person in people:
        if person.login == UNSIGNED:
            table[UNSIGNED] = {"sub": "", "class": "", **{r.id: str(s) for r, s in zip(
                routes, person.statuses[""].values(), strict=True)}}
            continue
        if not person.classes:
            table[person.login] = {"sub": person.claims.sub, "class": "none",
                                   **{r.id: NO_CREDENTIALS for r in routes}}
            continue
        for name in person.classes:
            label = person.login if name == person.classes[0] else ""
            table[label or f"{person.login} ({name})"] = {
                "sub": person.claims.sub, "class": name,
                **{r.id: str(person.statuses[name][r.id]) for r in routes}}
    return render(table, corner="person")
