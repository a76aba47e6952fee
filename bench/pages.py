"""GET /pets at 100 and 10,000 pets: one page against the old whole-table list.

    .venv/bin/python -m bench.pages [--repeats 5]      # alone, on a stack of its own
    (make bench runs it on its main stack as item 6)

- one page through API Gateway, signed as the buyer (limit 50, the default, and 100);
- every page, following nextCursor with limit 100 (what the site does to show all);
- the list function invoked directly with one page, and the old list function (the code of
  OLD_LIST_COMMIT, which scanned the whole table, sorted it and returned it in one
  response), deployed beside it with the same layer and a role that may Scan the table:
  same emulator, same table, same event, so the difference is the design.
Latency (seconds, median [min-max]) and response size (bytes of the JSON body).
The table is filled with the deploy key (BatchWriteItem), items shaped as the API writes them.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from bench.common import Json, med_range, spread, table
from devstack import clients, paths, procs, stack
from handlers import pages

# The last commit whose GET /pets read the whole table with Scan (before pages).
OLD_LIST_COMMIT = "3eb8ec3"
OLD_FUNCTION = "bench-old-list-pets"
SIZES = (100, 10_000)
NAMES = {"emulator_name": "bench-pages-emulator", "idp_name": "bench-pages-idp"}


def _old_code() -> bytes:
    """The handlers of OLD_LIST_COMMIT, zipped as the Lambda package's code part."""
    files = subprocess.run(["git", "ls-tree", "--name-only", OLD_LIST_COMMIT, "handlers/"],
                           cwd=paths.REPO, capture_output=True, text=True, check=True).stdout
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in files.split():
            if name.endswith(".py"):
                source = subprocess.run(["git", "show", f"{OLD_LIST_COMMIT}:{name}"],
                                        cwd=paths.REPO, capture_output=True, check=True).stdout
                archive.writestr(name.split("/", 1)[1], source)
    return buffer.getvalue()


def _deploy_old_function(local: stack.Stack, new_function: str, table_arn: str) -> None:
    lam = clients.client("lambda", target=local.target)
    iam = clients.client("iam", target=local.target)
    current = lam.get_function_configuration(FunctionName=new_function)
    role = iam.create_role(RoleName=OLD_FUNCTION, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]
    iam.put_role_policy(RoleName=OLD_FUNCTION, PolicyName="scan", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": table_arn},
            {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": "*"}]}))
    lam.create_function(
        FunctionName=OLD_FUNCTION, Runtime=current["Runtime"], Handler=current["Handler"],
        Role=role["Arn"], Code={"ZipFile": _old_code()}, Timeout=60, MemorySize=512,
        Layers=[layer["Arn"] for layer in current.get("Layers", [])],
        Environment={"Variables": current["Environment"]["Variables"]})
    deadline = time.monotonic() + 30
    while lam.get_function_configuration(FunctionName=OLD_FUNCTION)["State"] != "Active":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{OLD_FUNCTION} not Active after 30 s")
        time.sleep(0.2)


def _event(query: dict[str, str] | None = None) -> dict[str, Any]:
    """GET /pets as API Gateway's proxy integration passes it to the function."""
    return {
        "resource": "/pets", "path": "/pets", "httpMethod": "GET", "headers": {},
        "multiValueHeaders": {}, "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"requestId": "bench", "stage": "local", "httpMethod": "GET",
                           "path": "/local/pets", "identity": {"userArn": "bench"}},
    }


def _invoke(lam: Any, function: str, event: dict[str, Any]) -> tuple[float, int, int]:
    """(seconds, status, body bytes) of one direct invocation.

    The old function returns every attribute, the index's two included, which its own
    table never had: its size is counted without them, as it answered then.
    """
    started = time.perf_counter()
    answer = json.loads(lam.invoke(FunctionName=function,
                                   Payload=json.dumps(event).encode())["Payload"].read())
    seconds = time.perf_counter() - started
    body = answer.get("body", "")
    if function == OLD_FUNCTION and answer.get("statusCode") == 200:
        old = json.loads(body)
        body = json.dumps({"pets": [{k: v for k, v in p.items() if k not in pages.INDEX_ATTRIBUTES}
                                    for p in old["pets"]]})
    return seconds, answer.get("statusCode", 0), len(body.encode())


def _fill(local: stack.Stack, table_name: str, count: int, start: datetime) -> None:
    ddb = clients.client("dynamodb", target=local.target)
    items = []
    for i in range(count):
        pet_id = str(uuid.uuid4())
        created = (start + timedelta(milliseconds=i)).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        items.append({"PutRequest": {"Item": {
            "petId": {"S": pet_id}, "type": {"S": "bench"}, "price": {"N": str(1 + i % 500)},
            "createdAt": {"S": created},
            pages.PARTITION_ATTRIBUTE: {"S": pages.PARTITION_VALUE},
            pages.ORDER_ATTRIBUTE: {"S": pages.order_key(created, pet_id)}}}})
    for offset in range(0, len(items), 25):
        batch = {table_name: items[offset:offset + 25]}
        while batch:
            batch = ddb.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}


def _series(work: Any, repeats: int) -> tuple[Json, list[int], list[int]]:
    seconds, statuses, sizes = [], [], []
    for _ in range(repeats):
        elapsed, status, size = work()
        seconds.append(elapsed)
        statuses.append(status)
        sizes.append(size)
    return spread(seconds), statuses, sizes


def measure(local: stack.Stack, buyer: Any, repeats: int) -> Json:
    """`buyer`: a bench.calls.Caller holding the buyer role."""
    outputs = local.outputs
    lam = clients.client("lambda", target=local.target)
    table_name = outputs["tableName"]
    new_function = f"pets-{stack.STACK}-list-pets"
    table_arn = clients.client("dynamodb", target=local.target).describe_table(
        TableName=table_name)["Table"]["TableArn"]
    _deploy_old_function(local, new_function, table_arn)

    def api_page(limit: int | None) -> Any:
        def call() -> tuple[float, int, int]:
            path = "/pets" + (f"?{urlencode({'limit': limit})}" if limit else "")
            started = time.perf_counter()
            response = buyer.api.call("GET", path)
            return time.perf_counter() - started, response.status_code, len(response.content)
        return call

    def all_pages() -> tuple[float, int, int]:
        started, size, query, status = time.perf_counter(), 0, {"limit": "100"}, 0
        while True:
            response = buyer.api.call("GET", f"/pets?{urlencode(query)}")
            status, size = response.status_code, size + len(response.content)
            cursor = response.json().get("nextCursor") if status == 200 else None
            if not cursor:
                return time.perf_counter() - started, status, size
            query = {"limit": "100", "cursor": cursor}

    start = datetime.now(UTC) - timedelta(days=30)
    have = clients.client("dynamodb", target=local.target).scan(
        TableName=table_name, Select="COUNT")["Count"]
    result: Json = {"old_list_commit": OLD_LIST_COMMIT}
    for size in SIZES:
        _fill(local, table_name, max(0, size - have), start + timedelta(seconds=have))
        have = max(size, have)
        # Warm both functions on this table before timing them.
        _invoke(lam, new_function, _event())
        _invoke(lam, OLD_FUNCTION, _event())
        rows: Json = {}
        for label, work, n in (
            ("API: one page (limit 50, default)", api_page(None), repeats * 4),
            ("API: one page (limit 100)", api_page(100), repeats * 4),
            ("API: every page (limit 100)", all_pages, max(1, repeats // 2)),
            ("list function: one page (invoke)", lambda: _invoke(lam, new_function, _event()),
             repeats * 4),
            ("old list function: whole table (invoke)",
             lambda: _invoke(lam, OLD_FUNCTION, _event()), repeats),
        ):
            seconds, statuses, sizes = _series(work, n)
            rows[label] = {"seconds": seconds, "statuses": sorted(set(statuses)),
                           "bytes": max(sizes)}
        result[str(size)] = {"pets": have, "rows": rows}
    return result


def report(r: Json) -> None:
    rows = []
    for size in SIZES:
        block = r.get(str(size))
        if not block:
            continue
        for label, row in block["rows"].items():
            rows.append((f"{block['pets']:>6} pets  {label}", med_range(row["seconds"]),
                         f"{row['bytes']:,}", " ".join(map(str, row["statuses"]))))
    table(f"6. GET /pets: one page vs the old whole-table list ({r['old_list_commit']})",
          ("", "seconds", "bytes", "status"), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from bench import calls

    local = stack.up(**NAMES, idp_port=procs.free_port(), outputs_file=None, engine="ministack")
    try:
        result = measure(local, calls.Caller(local, "buyer"), args.repeats)
    finally:
        stack.down(**NAMES, outputs_file=None)
    report(result)
    (paths.REPO / "bench" / "pages-results.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
