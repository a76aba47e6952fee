"""Resource names. Every physical name derives from the stack's prefix, `pets-<stack>`, here
and nowhere else: the components name resources with these functions, and ACCESS.md, the
harness and the tests find resources by them."""

from __future__ import annotations

import access

PROJECT = "pets"  # Pulumi.yaml's name: the prefix's first word and the config namespace
# account/Pulumi.yaml's name: the account baseline's config namespace and the prefix of the
# account-wide resources it owns (no app stack's prefix, `pets-<stack>`, is followed by the
# words these names use).
ACCOUNT_PROJECT = f"{PROJECT}-account"


def stack_prefix(stack: str) -> str:
    return f"{PROJECT}-{stack}"


def table_name(prefix: str) -> str:
    """The pets table, one item per pet."""
    return f"{prefix}-pets"


def idempotency_table_name(prefix: str) -> str:
    """The idempotency records of the routes that take an Idempotency-Key."""
    return f"{prefix}-idempotency"


def function_name(prefix: str, route: access.Route) -> str:
    """`pets-local-list-pets` for GET /pets (its handler is list_pets)."""
    return f"{prefix}-{route.handler.replace('_', '-')}"


def execution_role_name(function: str) -> str:
    """The role a function runs as: its own, named after it."""
    return f"{function}-fn"


def class_role_name(prefix: str, user_class: access.UserClass) -> str:
    """The IAM role a class's members assume, `pets-local-admin`: it says its class."""
    return f"{prefix}-{user_class.name}"


def api_gateway_logs_role_name(region: str) -> str:
    """API Gateway's CloudWatch role, one per account and region (the baseline's): IAM names
    are account-wide, so the name says its region, `pets-account-apigateway-logs-eu-west-1`."""
    return f"{ACCOUNT_PROJECT}-apigateway-logs-{region}"
