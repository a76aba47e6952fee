"""How `GET /pets` pages through the table, and its cursor.

Table design: a global secondary index on one constant partition (`listPartition`,
always "pet"), sorted by `listOrder` = `<createdAt>#<petId>`, projecting every attribute.
A listing reads it backwards: newest first.
- A page is one Query (ScanIndexForward=False) of `limit + 1` items before the cursor's
  position: its cost is the page, not the table (a Scan reads, and bills, every item, and
  only one page of 1 MB at a time, in hash order, so it cannot be sorted without reading
  everything).
- Newest first, so the first page shows what was just added: a client that shows one page
  (the site) shows a new pet at once, however many pets the shop holds.
- The sort key is unique and never changes after a pet is added, so the order is total
  and stable: a pet is before the cursor or not, whatever is written meanwhile. Each page
  continues strictly before the last one's oldest pet (`listOrder < :before`), so no pet
  comes twice and none that existed at the first page (and was not removed) is skipped.
  Pets added while a listing is in progress sort before its first page (their createdAt
  is now), so later pages do not show them; the next first page does. (One whose write
  was still under way when the first page was read, with an earlier createdAt, may come
  on a later page: at most once, as every pet.)
- The position is the sort key itself, not DynamoDB's LastEvaluatedKey, so the cursor
  carries nothing but a timestamp and a UUID.
- One partition takes about 1,000 writes/s on the index, far above what a shop's staff
  add; the "available only" question could later get its own sparse index.
- ALL projection: a page needs every attribute; KEYS_ONLY would add a BatchGetItem per page.

- A GSI is eventually consistent (no ConsistentRead): on DynamoDB a pet just added may be
  missing from a list for a moment; MiniStack shows it at once.
- A table from before the index needs `scripts/backfill_list_index.py` once: the index holds
  only items with both attributes.

Cursor: base64url (no padding) of the last listed pet's `listOrder` (the page's oldest); the
next page lists the pets strictly before it. It names a position in the one list every
caller sees (no caller has a position of their own), so integrity means strict validation:
anything but a canonical encoding of `<timestamp>#<uuid>` in exactly the API's own form is
refused with 400, never passed to DynamoDB.
Stdlib only: the Pulumi program imports it (as `handlers.pages`) for the index's names.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

INDEX_NAME = "by-created"
PARTITION_ATTRIBUTE = "listPartition"
PARTITION_VALUE = "pet"
ORDER_ATTRIBUTE = "listOrder"
# Attributes that exist for the index only; never part of a pet as the API returns it.
INDEX_ATTRIBUTES = (PARTITION_ATTRIBUTE, ORDER_ATTRIBUTE)

_ORDER = re.compile(
    r"(?P<at>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)#"
    r"(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
)


class BadCursor(ValueError):
    """The cursor is not one this API issued."""


def order_key(created_at: str, pet_id: str) -> str:
    return f"{created_at}#{pet_id}"


def encode(order: str) -> str:
    return base64.urlsafe_b64encode(order.encode("ascii")).rstrip(b"=").decode("ascii")


def decode(cursor: str) -> str:
    """The listOrder a cursor names, or BadCursor."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", cursor):
        raise BadCursor("not base64url")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        order = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor("not base64url") from None
    match = _ORDER.fullmatch(order)
    # Canonical only: one position has one cursor (no alternative paddings or trailing bits).
    if match is None or encode(order) != cursor:
        raise BadCursor("not a position")
    try:
        datetime.strptime(match["at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise BadCursor("not a time") from None
    return order
