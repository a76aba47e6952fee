"""Resource type token -> handler. A type missing here fails the apply by name."""

from __future__ import annotations

from devstack.applier.kinds import ResourceKind
from devstack.applier.services import (
    apigateway,
    apigateway_validation,
    dynamodb,
    iam,
    lambda_,
    logs,
    monitoring,
    s3,
)

KINDS: dict[str, ResourceKind] = {
    kind.resource_type: kind
    for module in (dynamodb, iam, logs, lambda_, apigateway, apigateway_validation, s3,
                   monitoring)
    for kind in module.KINDS
}

# boto3 clients the handlers use; the target makes them all up front.
SERVICES = ("apigateway", "cloudwatch", "dynamodb", "iam", "lambda", "logs", "s3", "sns", "sts")
