"""The tables: the pets, one item per pet keyed by petId; and the idempotency records of the
routes that take an Idempotency-Key (handlers/idempotency.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.component import Args, Component, Outputs
from handlers import idempotency, pages


@dataclass
class PetsTableArgs:
    table_name: str  # physical name, derived from the stack prefix
    # DynamoDB deletion protection and Pulumi `protect`: a `pulumi destroy`, or a rename that
    # replaces the table, stops instead of deleting every pet. Off only for throwaway stacks.
    deletion_protection: bool = True


def _list_index_attributes() -> list[aws.dynamodb.TableAttributeArgs]:
    return [aws.dynamodb.TableAttributeArgs(name=pages.PARTITION_ATTRIBUTE, type="S"),
            aws.dynamodb.TableAttributeArgs(name=pages.ORDER_ATTRIBUTE, type="S")]


class _OnDemandTable(Component[Args]):
    """What every table of the stack is: on demand, with PITR, KMS encryption and, unless a
    throwaway stack turns it off, deletion protection and Pulumi `protect`."""

    table: aws.dynamodb.Table
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def _table(self, logical_name: str, table_name: str, deletion_protection: bool,
               **schema: Any) -> Outputs:
        self.table = aws.dynamodb.Table(
            logical_name,
            name=table_name,
            billing_mode="PAY_PER_REQUEST",
            **schema,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            deletion_protection_enabled=deletion_protection,
            # Says why this table may be deleted; the policy pack accepts it unprotected.
            tags=None if deletion_protection else {"DataProtection": "off"},
            opts=self.child(protect=deletion_protection),
        )
        self.name, self.arn = self.table.name, self.table.arn
        return {"name": self.name, "arn": self.arn}


class PetsTable(_OnDemandTable[PetsTableArgs]):
    """The pets: owns one on-demand DynamoDB Table, keyed by petId, with point-in-time
    recovery, KMS encryption and the index GET /pets pages through.

    With deletion protection, DynamoDB refuses DeleteTable and Pulumi refuses to delete
    (or replace) the resource; turning it off takes an update first (`pets:dataProtection:
    false`, `pulumi up`), then the destroy.
    """

    def declare(self, name: str, args: PetsTableArgs) -> Outputs:
        return self._table(
            f"{name}-table", args.table_name, args.deletion_protection,
            hash_key="petId",
            attributes=[aws.dynamodb.TableAttributeArgs(name="petId", type="S"),
                        *_list_index_attributes()],
            # GET /pets pages through this index (one Query per page); why: handlers/pages.py.
            global_secondary_indexes=[aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=pages.INDEX_NAME,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=pages.PARTITION_ATTRIBUTE, key_type="HASH"),
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=pages.ORDER_ATTRIBUTE, key_type="RANGE"),
                ],
                projection_type="ALL",
            )],
        )


@dataclass
class IdempotencyTableArgs:
    table_name: str  # physical name, derived from the stack prefix
    deletion_protection: bool = True  # as PetsTableArgs


class IdempotencyTable(_OnDemandTable[IdempotencyTableArgs]):
    """Owns the DynamoDB Table of Powertools' idempotency records: one item per (caller,
    Idempotency-Key), deleted by DynamoDB's TTL once expired (the utility itself treats an
    expired record as absent, so TTL's delay of up to a few days only costs storage).

    Protected like the pets table: losing it in a bad deploy would turn every retry still
    in flight into a second pet.
    """

    def declare(self, name: str, args: IdempotencyTableArgs) -> Outputs:
        return self._table(
            f"{name}-idempotency-table", args.table_name, args.deletion_protection,
            hash_key=idempotency.KEY_ATTRIBUTE,
            attributes=[aws.dynamodb.TableAttributeArgs(name=idempotency.KEY_ATTRIBUTE,
                                                        type="S")],
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=idempotency.EXPIRY_ATTRIBUTE,
                                          enabled=True),
        )
