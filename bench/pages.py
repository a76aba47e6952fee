"""GET /pets at 100 and 10,000 pets, signed as the buyer through API Gateway: one
page (limit 50, the default, and 100), and every page following nextCursor (a client that wants
the whole list; the site shows 50 and the next page only on "More pets"). Latency and bytes of
the JSON bodies. The table is filled with the deploy key, items shaped as the API writes them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from boto3.dynamodb.table import BatchWriter

import access
from bench.common import Args, Json, main_stack, med_range, spread, table, timed
from bench.latency import callers
from devstack import clients, stack
from handlers import pages

SIZES = (100, 10_000)
ROWS = {"one page (limit 50, default)": (50, False), "one page (limit 100)": (100, False),
        "every page (limit 100)": (100, True)}


def fill(local: stack.Stack, count: int, start: datetime) -> None:
    """`count` pets, one millisecond apart from `start`, with their page index attributes."""
    ddb = clients.client("dynamodb", target=local.target)
    with BatchWriter(local.outputs["tableName"], ddb) as batch:  # 25 a call, resends the rest
        for i in range(count):
            pet_id = str(uuid.uuid4())
            created = (start + timedelta(milliseconds=i)).isoformat(timespec="milliseconds")
            created = created.replace("+00:00", "Z")
            batch.put_item(Item={
                "petId": {"S": pet_id}, "type": {"S": "bench"}, "price": {"N": str(1 + i % 500)},
                "createdAt": {"S": created},
                pages.PARTITION_ATTRIBUTE: {"S": pages.PARTITION_VALUE},
                pages.ORDER_ATTRIBUTE: {"S": pages.order_key(created, pet_id)}})


def measure(args: Args) -> Json:
    local, repeats = main_stack(), args.repeats
    buyer = callers(local)[access.BUYER.name]

    def api_pages(limit: int, follow: bool) -> tuple[int, int]:
        """(HTTP status, bytes of the JSON bodies) of one page, or of every page."""
        status, size, query = 0, 0, f"?limit={limit}"
        while query:
            response = buyer.api.call("GET", "/pets" + query)
            status, size = response.status_code, size + len(response.content)
            cursor = response.json().get("nextCursor") if status == 200 and follow else None
            query = f"?limit={limit}&cursor={cursor}" if cursor else ""
        return status, size

    result: Json = {}
    filled, start = 0, datetime.now(UTC) - timedelta(days=30)
    for size in SIZES:
        fill(local, size - filled, start + timedelta(seconds=filled))
        filled = size
        api_pages(50, follow=False)  # the list function warm on this table before timing it
        block = {}
        for label, (limit, follow) in ROWS.items():
            # Fewer runs of every page: at 10,000 pets it is 100 calls.
            n = max(1, repeats // 2) if follow else repeats * 4
            answers = [timed(lambda lf=(limit, follow): api_pages(*lf)) for _ in range(n)]
            block[label] = {"seconds": spread([s for s, _ in answers]),
                            "statuses": sorted({status for _, (status, _) in answers}),
                            "bytes": max(body for _, (_, body) in answers)}
        result[str(size)] = block
    return result


def report(r: Json) -> None:
    table("6. GET /pets through API Gateway, signed as the buyer",
          ("", "seconds", "bytes", "status"),
          [(f"{size:>6} pets  {label}", med_range(row["seconds"]), f"{row['bytes']:,}",
            " ".join(map(str, row["statuses"]))) for size in SIZES
           for label, row in r[str(size)].items()])
