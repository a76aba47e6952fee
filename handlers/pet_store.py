"""The pets table: one item per pet, so concurrent writers never overwrite each other.

Every change is a single conditional write; DynamoDB decides the race (a pet is
sold at most once, a sold pet is never removed). A purchase is retry-safe by itself: the
buyer (the verified token's subject, stored as buyerSub) who buys a pet they already
bought gets that sale again, unchanged; anyone else is told it is sold.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

import pages
from errors import Conflict, NotFound

if TYPE_CHECKING:
    from id_tokens import TokenUser
from validation import NewPet

Pet = dict[str, Any]
_UNSOLD = "attribute_exists(petId) AND attribute_not_exists(soldTo)"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json(item: dict[str, Any]) -> Pet:
    """A table item as the API stores it (numbers as JSON numbers, no index keys), every
    field; readers.Reader.view cuts it to what the caller may read."""
    pet = {k: v for k, v in item.items() if k not in pages.INDEX_ATTRIBUTES}
    price = pet.get("price")
    if isinstance(price, Decimal):
        pet["price"] = int(price) if price == price.to_integral_value() else float(price)
    pet["sold"] = "soldTo" in pet
    return pet


def _condition_failed(err: ClientError) -> bool:
    return err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class PetStore:
    def __init__(self, table: Any):  # a boto3 DynamoDB Table resource
        self._table = table

    def page(self, limit: int, before: str | None = None) -> tuple[list[Pet], str | None]:
        """Up to `limit` pets strictly before the position `before` (a listOrder), newest
        first, and the position to continue from, None on the last page (see pages.py)."""
        condition = Key(pages.PARTITION_ATTRIBUTE).eq(pages.PARTITION_VALUE)
        if before is not None:
            condition &= Key(pages.ORDER_ATTRIBUTE).lt(before)
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"IndexName": pages.INDEX_NAME,
                                  "KeyConditionExpression": condition,
                                  "ScanIndexForward": False}
        # One more than asked tells whether another page follows, so the last page
        # never points to an empty one. Query stops at 1 MB: read on until enough.
        while len(items) <= limit:
            response = self._table.query(Limit=limit + 1 - len(items), **kwargs)
            items += response.get("Items", [])
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        more = len(items) > limit
        items = items[:limit]
        return [to_json(i) for i in items], items[-1][pages.ORDER_ATTRIBUTE] if more else None

    def add(self, new: NewPet) -> Pet:
        pet_id, created_at = str(uuid.uuid4()), _now()
        item = {"petId": pet_id, "type": new.type, "price": new.price, "createdAt": created_at,
                pages.PARTITION_ATTRIBUTE: pages.PARTITION_VALUE,
                pages.ORDER_ATTRIBUTE: pages.order_key(created_at, pet_id)}
        # A fresh UUID never collides; the condition makes that a checked fact.
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(petId)")
        except ClientError as err:
            if not _condition_failed(err):
                raise
            # Only this call wrote this id: boto3 retried a put whose answer was lost (a read
            # timeout) after the table had stored it. That is our pet, not a conflict.
            stored = self._table.get_item(Key={"petId": pet_id}, ConsistentRead=True).get("Item")
            if stored is None or stored.get("createdAt") != created_at:
                raise
            return to_json(stored)
        return to_json(item)

    def remove(self, pet_id: str) -> Pet:
        try:
            old = self._table.delete_item(
                Key={"petId": pet_id}, ConditionExpression=_UNSOLD, ReturnValues="ALL_OLD"
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            self._explain_refusal(pet_id, "a sold pet cannot be removed")
        return to_json(old["Attributes"])

    def purchase(self, pet_id: str, buyer: TokenUser) -> tuple[Pet, bool]:
        """The pet sold to `buyer`, and whether this call sold it (False: it repeats the
        buyer's own earlier purchase, whose sale is returned as it was stored)."""
        try:
            new = self._table.update_item(
                Key={"petId": pet_id},
                UpdateExpression="SET soldTo = :to, buyerSub = :sub, soldAt = :at",
                ConditionExpression=_UNSOLD,
                ExpressionAttributeValues={":to": buyer.label, ":sub": buyer.sub, ":at": _now()},
                ReturnValues="ALL_NEW",
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            item = self._refused(pet_id)
            # The write that sold it has completed (the condition saw it), and the read is
            # strongly consistent: buyerSub is the winner's, whoever asks.
            if item.get("buyerSub") == buyer.sub:
                return to_json(item), False
            raise Conflict("pet already sold") from None
        return to_json(new["Attributes"]), True

    def _refused(self, pet_id: str) -> dict[str, Any]:
        """A conditional write failed: the pet is missing (404) or sold (its item)."""
        item = self._table.get_item(Key={"petId": pet_id}, ConsistentRead=True).get("Item")
        if item is None:
            raise NotFound(f"no pet with id {pet_id}")
        return item

    def _explain_refusal(self, pet_id: str, when_sold: str) -> NoReturn:
        """A conditional write failed: the pet is missing or sold. Say which."""
        self._refused(pet_id)
        raise Conflict(when_sold)
