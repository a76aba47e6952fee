"""GET /pets pages: limit, cursor, order (newest first), concurrent adds, forged cursors."""

from __future__ import annotations

import base64
import json
import random
import string
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import app
import pages
import pet_store
from tests.support.handler_calls import Context, add, event

pytestmark = pytest.mark.usefixtures("wired")


def list_call(query: dict[str, Any] | None = None) -> tuple[int, Any]:
    """GET /pets with query parameters as API Gateway passes them (every value a list)."""
    raw = event("GET", "/pets")
    multi = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
    raw["multiValueQueryStringParameters"] = multi or None
    raw["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    response = app.handler(raw, Context())
    return response["statusCode"], json.loads(response["body"])


def walk(limit: int, between_pages: Any = None) -> list[dict]:
    listed, cursor = [], None
    while True:
        status, body = list_call({"limit": str(limit)} | ({"cursor": cursor} if cursor else {}))
        assert status == 200, body
        assert len(body["pets"]) <= limit
        listed += body["pets"]
        cursor = body.get("nextCursor")
        if cursor is None:
            return listed
        if between_pages:
            between_pages()


def test_default_page_is_50_and_points_to_the_next():
    for i in range(51):
        add(price=i + 1)
    status, body = list_call()
    assert status == 200 and len(body["pets"]) == 50
    status, rest = list_call({"cursor": body["nextCursor"]})
    assert status == 200 and len(rest["pets"]) == 1 and "nextCursor" not in rest


@pytest.fixture
def ticking(monkeypatch) -> None:
    """Each pet added gets its own millisecond, so the order by createdAt is the order added
    (two adds in one millisecond are ordered by their random petIds)."""
    start = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    clock = (start + timedelta(milliseconds=i) for i in range(10**6))
    monkeypatch.setattr(pet_store, "_now", lambda: next(clock).isoformat(
        timespec="milliseconds").replace("+00:00", "Z"))


def _newest_first(pets: list[dict]) -> list[dict]:
    return sorted(pets, key=lambda p: pages.order_key(p["createdAt"], p["petId"]), reverse=True)


@pytest.mark.usefixtures("ticking")
def test_pages_list_every_pet_once_newest_first():
    added = [add(price=i + 1) for i in range(7)]
    for limit in (1, 2, 3, 7, 100):
        listed = walk(limit)
        assert [p["petId"] for p in listed] == [p["petId"] for p in reversed(added)], limit
        assert listed == added[::-1]  # the pets as the API returned them: no index attributes


def test_the_first_page_shows_the_pet_added_last():
    for i in range(5):
        add(price=i + 1)
    newest = add(kind="the newest")
    status, body = list_call({"limit": "1"})
    assert status == 200 and body["pets"] == [newest] and "nextCursor" in body


def test_same_millisecond_pets_are_ordered_by_pet_id(monkeypatch):
    monkeypatch.setattr(pet_store, "_now", lambda: "2026-12-01T18:30:00.000Z")
    added = [add(price=i + 1) for i in range(5)]
    for limit in (1, 2, 5):
        assert walk(limit) == _newest_first(added), limit


def test_a_full_last_page_has_no_next_cursor():
    for _ in range(4):
        add()
    status, body = list_call({"limit": "4"})
    assert status == 200 and len(body["pets"]) == 4 and "nextCursor" not in body


def test_pets_added_while_paging_neither_skip_nor_repeat_a_pet():
    before = {add(price=i + 1)["petId"] for i in range(6)}
    during: list[str] = []
    listed = walk(2, between_pages=lambda: during.append(add()["petId"]))
    ids = [p["petId"] for p in listed]
    assert len(ids) == len(set(ids)), "a pet was listed twice"
    assert before <= set(ids), "a pet that existed before the first page was skipped"
    assert len(during) >= 2, "the test proved nothing"
    # Newer than the first page: they sort before the cursor, so the listing under way never
    # reaches them; the next first page starts with them.
    assert not set(ids) & set(during), "a pet added while paging came on a later page"
    assert listed == _newest_first(listed)
    status, first = list_call({"limit": str(len(during))})
    assert status == 200 and {p["petId"] for p in first["pets"]} == set(during)


def test_removed_pets_do_not_break_a_cursor():
    pets = [add() for _ in range(5)]
    status, first = list_call({"limit": "2"})
    assert status == 200
    # The pet the cursor points at goes away: its position still orders the rest.
    app.store().remove(first["pets"][-1]["petId"])
    status, rest = list_call({"limit": "10", "cursor": first["nextCursor"]})
    assert status == 200
    assert rest["pets"] == _newest_first(pets)[2:]


@pytest.mark.parametrize("limit", ["0", "101", "-3", "ten", "", "2.5", " 7"])
def test_a_limit_outside_1_to_100_is_400_json(limit):
    assert list_call({"limit": limit}) == (
        400, {"error": f"limit must be an integer from 1 to 100; got {limit!r}"})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


FORGED = [
    "", "x", "!!!!", "a" * 129,
    _b64(b"2026-12-01T18:30:00.123Z"),  # no pet id
    _b64(b"2026-12-01T18:30:00.123Z#not-a-uuid"),
    _b64(b"2026-13-41T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"),  # no such day
    _b64(b"2026-12-01T18:30:00Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"),  # not the API's form
    _b64(b"2026-12-01T18:30:00.123Z#0B4C1F7E-59A3-4F43-9D4C-3F7D7C0E2A11"),
    _b64(b"2026-12-01T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11\n"),
    _b64(b"\xff\xfe"),
    _b64(json.dumps({"petId": {"S": "x"}}).encode()),  # a DynamoDB key, as if LastEvaluatedKey
    pages.encode("2026-12-01T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11") + "=",
]


@pytest.mark.parametrize("cursor", FORGED)
def test_a_forged_cursor_is_400_json(cursor):
    status, body = list_call({"cursor": cursor})
    assert status == 400 and "cursor is not one this API returned" in body["error"], body


def test_a_non_canonical_encoding_of_a_real_position_is_400():
    """Base64 has spare bits in the last character: only the API's own spelling counts."""
    order = "2026-12-01T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
    real = pages.encode(order)
    assert len(order) % 3  # so the last character has spare bits
    alphabet = string.ascii_letters + string.digits + "-_"
    twins = [real[:-1] + c for c in alphabet
             if c != real[-1] and _decodes_to(real[:-1] + c, order)]
    assert twins, "no alternative spelling found; the test proves nothing"
    for twin in twins:
        assert list_call({"cursor": twin})[0] == 400


def _decodes_to(cursor: str, order: str) -> bool:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)) == order.encode()
    except ValueError:
        return False


def test_every_one_character_tampering_is_400_or_a_position_in_the_same_list():
    """A well-formed forgery names a position in the list everyone sees: never a 500,
    never anything but pets before that position, newest first."""
    pets = [add(price=i + 1) for i in range(4)]
    status, first = list_call({"limit": "1"})
    cursor = first["nextCursor"]
    rng = random.Random(15)  # noqa: S311 (a reproducible sample, not a secret)
    alphabet = string.ascii_letters + string.digits + "-_"
    outcomes = set()
    for _ in range(200):
        i = rng.randrange(len(cursor))
        forged = cursor[:i] + rng.choice(alphabet) + cursor[i + 1:]
        status, body = list_call({"cursor": forged})
        outcomes.add(status)
        assert status in (200, 400), (forged, status, body)
        if status == 200:
            before = pages.decode(forged)
            assert all(pages.order_key(p["createdAt"], p["petId"]) < before
                       for p in body["pets"])
            assert body["pets"] == _newest_first(body["pets"])
            assert {p["petId"] for p in body["pets"]} <= {p["petId"] for p in pets}
    assert 400 in outcomes


def test_limit_or_cursor_given_twice_is_400():
    assert list_call({"limit": ["1", "100"]})[0] == 400
    real = pages.encode("2026-12-01T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11")
    assert list_call({"cursor": [real, real]})[0] == 400


def test_a_real_cursor_decodes_to_its_position():
    order = "2026-12-01T18:30:00.123Z#0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"
    assert pages.decode(pages.encode(order)) == order


def test_pets_from_before_the_index_are_listed_after_the_backfill(table):
    """A table deployed before pages holds pets without the index attributes."""
    from scripts.backfill_list_index import backfill

    new = add()
    table.put_item(Item={"petId": "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11", "type": "cat",
                         "price": 5, "createdAt": "2026-01-01T00:00:00.000Z"})
    assert [p["petId"] for p in walk(10)] == [new["petId"]]  # invisible to the index
    assert backfill(table) == 1
    assert backfill(table) == 0  # idempotent
    assert [p["petId"] for p in walk(10)] == [new["petId"],
                                              "0b4c1f7e-59a3-4f43-9d4c-3f7d7c0e2a11"]
