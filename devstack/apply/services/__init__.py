"""One module per AWS service, each exporting KINDS, the resource types it creates; here
the type token -> its kind. A type missing here fails the apply by name."""

from __future__ import annotations

from devstack.apply.kinds import ResourceKind
from devstack.apply.services import apigateway, dynamodb, iam, lambda_, logs, monitoring, s3

KIND_BY_TYPE: dict[str, ResourceKind] = {
    kind.resource_type: kind
    for module in (dynamodb, iam, logs, lambda_, apigateway, s3, monitoring)
    for kind in module.KINDS
}

# boto3 clients the kinds use; the target makes them all up front.
SERVICES = tuple(sorted({kind.service for kind in KIND_BY_TYPE.values()} | {"sts"}))
