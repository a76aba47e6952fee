"""Item 5 (issue 15): GET /pets at 100 and 10,000 pets, one page against the old whole-table
list. Last on the main stack (it fills the table); alone: `python -m bench.run --only pages`.

- one page through API Gateway, signed as the buyer (limit 50, the default, and 100);
- every page, following nextCursor with limit 100 (a client that wants the whole list; the
  site shows one page of 50 and the next only on "More pets");
- the list function invoked directly with one page, and the old list function (the handlers of
  OLD_LIST_COMMIT, which scanned the whole table, sorted it and answered it whole), deployed
  beside it with the same layer and a role that may Scan: same emulator, same table, same
  event, so the difference is the design.
Latency (seconds) and response size (bytes of the JSON body). The table is filled with the
deploy key (BatchWriteItem), items shaped as the API writes them.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import access
from bench.calls import callers
from bench.common import Json, med_range, spread, table, timed
from components import policies
from devstack import clients, paths, stack
from handlers import pages

OLD_LIST_COMMIT = "3eb8ec3"  # the last commit whose GET /pets read the whole table with Scan
OLD_FUNCTION = "bench-old-list-pets"
SIZES = (100, 10_000)
Answer = tuple[int, int]  # (HTTP status, bytes of the JSON body)
# GET /pets as API Gateway's proxy integration hands it to the function.
EVENT = {"resource": "/pets", "path": "/pets", "httpMethod": "GET", "headers": {},
         "multiValueHeaders": {}, "queryStringParameters": None,
         "multiValueQueryStringParameters": None, "pathParameters": None, "body": None,
         "isBase64Encoded": False,
         "requestContext": {"requestId": "bench", "stage": "local", "httpMethod": "GET",
                            "path": "/local/pets", "identity": {"userArn": "bench"}}}


def deploy_old_function(local: stack.Stack, like: str) -> None:
    """OLD_LIST_COMMIT's handlers as a function beside `like`, with its runtime, layer and
    environment, and a role built as the program builds one (components/policies.py) that may
    Scan; the code zip is `git archive` of that commit's handlers/ folder."""
    lam, iam = (clients.client(s, target=local.target) for s in ("lambda", "iam"))
    current = lam.get_function_configuration(FunctionName=like)
    table_arn = clients.client("dynamodb", target=local.target).describe_table(
        TableName=local.outputs["tableName"])["Table"]["TableArn"]
    log_group = (f"arn:aws:logs:{local.outputs['region']}:{clients.account_id(local.target)}"
                 f":log-group:/aws/lambda/{OLD_FUNCTION}")
    role = iam.create_role(RoleName=OLD_FUNCTION, AssumeRolePolicyDocument=json.dumps(
        policies.service_trust_policy("lambda.amazonaws.com")))["Role"]
    iam.put_role_policy(RoleName=OLD_FUNCTION, PolicyName="scan", PolicyDocument=json.dumps(
        policies.function_policy(table_arn, ["dynamodb:Scan"], log_group)))
    code = subprocess.run(["git", "archive", "--format=zip", f"{OLD_LIST_COMMIT}:handlers"],
                          cwd=paths.REPO, capture_output=True, check=True).stdout
    lam.create_function(FunctionName=OLD_FUNCTION, Runtime=current["Runtime"],
                        Handler=current["Handler"], Role=role["Arn"], Code={"ZipFile": code},
                        Timeout=60, MemorySize=512,
                        Layers=[layer["Arn"] for layer in current.get("Layers", [])],
                        Environment={"Variables": current["Environment"]["Variables"]})
    lam.get_waiter("function_active_v2").wait(FunctionName=OLD_FUNCTION)


def invoke(lam: Any, function: str) -> Answer:
    """One direct invocation. The old function answers every attribute, the page index's
    included, which its own table never had: its size is counted without them."""
    answer = json.loads(lam.invoke(FunctionName=function,
                                   Payload=json.dumps(EVENT).encode())["Payload"].read())
    body = answer.get("body", "")
    if function == OLD_FUNCTION and answer.get("statusCode") == 200:
        body = json.dumps({"pets": [{k: v for k, v in pet.items()
                                     if k not in pages.INDEX_ATTRIBUTES}
                                    for pet in json.loads(body)["pets"]]})
    return answer.get("statusCode", 0), len(body.encode())


def fill(local: stack.Stack, count: int, start: datetime) -> None:
    """`count` pets, one millisecond apart from `start`, with their page index attributes."""
    ddb, table_name = clients.client("dynamodb", target=local.target), local.outputs["tableName"]
    items = []
    for i in range(count):
        pet_id = str(uuid.uuid4())
        created = (start + timedelta(milliseconds=i)).isoformat(timespec="milliseconds")
        created = created.replace("+00:00", "Z")
        items.append({"PutRequest": {"Item": {
            "petId": {"S": pet_id}, "type": {"S": "bench"}, "price": {"N": str(1 + i % 500)},
            "createdAt": {"S": created},
            pages.PARTITION_ATTRIBUTE: {"S": pages.PARTITION_VALUE},
            pages.ORDER_ATTRIBUTE: {"S": pages.order_key(created, pet_id)}}}})
    for offset in range(0, len(items), 25):  # BatchWriteItem takes 25 requests at most
        batch = {table_name: items[offset:offset + 25]}
        while batch:
            batch = ddb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def measure(local: stack.Stack, repeats: int) -> Json:
    lam = clients.client("lambda", target=local.target)
    new_function = f"pets-{stack.STACK}-list-pets"
    deploy_old_function(local, new_function)
    buyer = callers(local)[access.BUYER.name]

    def api_pages(limit: int, follow: bool) -> Answer:
        status, size, query = 0, 0, f"?limit={limit}"
        while query:
            response = buyer.api.call("GET", "/pets" + query)
            status, size = response.status_code, size + len(response.content)
            cursor = response.json().get("nextCursor") if status == 200 and follow else None
            query = f"?limit={limit}&cursor={cursor}" if cursor else ""
        return status, size

    result: Json = {"old_list_commit": OLD_LIST_COMMIT}
    have = clients.client("dynamodb", target=local.target).scan(
        TableName=local.outputs["tableName"], Select="COUNT")["Count"]
    start = datetime.now(UTC) - timedelta(days=30)
    rows: dict[str, Callable[[], Answer]] = {
        "API: one page (limit 50, default)": lambda: api_pages(50, follow=False),
        "API: one page (limit 100)": lambda: api_pages(100, follow=False),
        "API: every page (limit 100)": lambda: api_pages(100, follow=True),
        "list function: one page (invoke)": lambda: invoke(lam, new_function),
        "old list function: whole table (invoke)": lambda: invoke(lam, OLD_FUNCTION)}
    for size in SIZES:
        fill(local, max(0, size - have), start + timedelta(seconds=have))
        have = max(size, have)
        invoke(lam, new_function)  # both functions warm on this table before timing them
        invoke(lam, OLD_FUNCTION)
        block = {}
        for label, work in rows.items():
            # Fewer runs of the slow ones: every page at 10,000 pets is 100 calls.
            n = max(1, repeats // 2) if "every" in label else repeats * (1 if "old" in label else 4)
            answers = [timed(work) for _ in range(n)]
            block[label] = {"seconds": spread([s for s, _ in answers]),
                            "statuses": sorted({status for _, (status, _) in answers}),
                            "bytes": max(body for _, (_, body) in answers)}
        result[str(size)] = {"pets": have, "rows": block}
    return result


def report(r: Json) -> None:
    table(f"5. GET /pets: one page vs the old whole-table list ({r['old_list_commit']})",
          ("", "seconds", "bytes", "status"),
          [(f"{r[str(size)]['pets']:>6} pets  {label}", med_range(row["seconds"]),
            f"{row['bytes']:,}", " ".join(map(str, row["statuses"])))
           for size in SIZES for label, row in r[str(size)]["rows"].items()])
