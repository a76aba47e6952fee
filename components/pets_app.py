"""The whole application, wired from the stack's settings."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components.alarms import AlarmTarget, StackAlarms, StackAlarmsArgs
from components.api import ApiInvoker, PetsApi, PetsApiArgs, RouteTarget
from components.config import Settings
from components.function import (
    DependencyLayer,
    DependencyLayerArgs,
    RouteFunction,
    RouteFunctionArgs,
    lambda_package,
)
from components.identity import UserIdentity, UserIdentityArgs
from components.site import PetsSite, PetsSiteArgs
from components.table import PetsTable, PetsTableArgs


@dataclass
class PetsApp:
    settings: Settings
    table: PetsTable
    functions: dict[str, RouteFunction]  # by route id
    api: PetsApi
    identity: UserIdentity
    site: PetsSite
    alarms: StackAlarms

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """What users and the local harness read from the stack."""
        return {
            "apiUrl": self.api.invoke_url,
            "restApiId": self.api.rest_api_id,
            "stage": self.settings.stage,
            "region": aws.get_region_output().region,
            "roles": {name: role.arn for name, role in self.identity.roles.items()},
            "oidcIssuer": self.settings.oidc_issuer,
            "oidcClientId": self.settings.oidc_client_id,
            "tableName": self.table.name,
            "siteUrl": self.site.url,
        }


def build(settings: Settings) -> PetsApp:
    prefix = settings.prefix
    table = PetsTable(prefix, PetsTableArgs(
        table_name=f"{prefix}-pets",
        deletion_protection=settings.protections.data_protection,
    ))
    package = lambda_package(settings.lambda_package)
    dependencies = DependencyLayer(
        prefix, DependencyLayerArgs(f"{prefix}-dependencies", package.dependencies)
    )
    environment = {
        "TABLE_NAME": table.name,
        "OIDC_ISSUER": settings.oidc_issuer,
        "OIDC_CLIENT_ID": settings.oidc_client_id,
        "CORS_ALLOW_ORIGIN": settings.cors_allow_origin,
        "POWERTOOLS_SERVICE_NAME": "pets",
    }
    functions = {
        route.id: RouteFunction(
            f"{prefix}-{route.handler.replace('_', '-')}",
            RouteFunctionArgs(
                route=route,
                function_name=f"{prefix}-{route.handler.replace('_', '-')}",
                code=package.code,
                layers=[dependencies.arn],
                table_arn=table.arn,
                environment=environment,
                log_retention_days=settings.log_retention_days,
                reserved_concurrency=settings.protections.reserved_concurrency.get(route.handler),
            ),
        )
        for route in access.ROUTES
    }
    api = PetsApi(
        prefix,
        PetsApiArgs(
            api_name=prefix,
            stage=settings.stage,
            routes=access.ROUTES,
            targets={
                route_id: RouteTarget(fn.function.invoke_arn, fn.function.name)
                for route_id, fn in functions.items()
            },
            cors_allow_origin=settings.cors_allow_origin,
            log_retention_days=settings.log_retention_days,
            throttle=settings.throttle,
            manage_account_logging_role=settings.manage_api_gateway_account,
        ),
    )
    identity = UserIdentity(
        prefix,
        UserIdentityArgs(
            name_prefix=prefix,
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            user_classes=settings.user_classes,
            execution_arn=api.execution_arn,
            stage=settings.stage,
            thumbprints=settings.oidc_thumbprints,
        ),
    )
    api.publish({
        c.name: ApiInvoker(identity.roles[c.name].arn, c.routes) for c in settings.user_classes
    })
    alarms = StackAlarms(
        f"{prefix}-alarms",
        StackAlarmsArgs(
            name_prefix=prefix,
            api_name=prefix,
            stage=settings.stage,
            functions={
                route.id: AlarmTarget(route, functions[route.id].function.name)
                for route in access.ROUTES
            },
            table_name=table.name,
            alarm_email=settings.protections.alarm_email,
        ),
        opts=pulumi.ResourceOptions(depends_on=[api.stage]),
    )
    region = aws.get_region_output().region
    site = PetsSite(
        f"{prefix}-site",
        PetsSiteArgs(
            name_prefix=prefix,
            region=region,
            api_url=api.invoke_url,
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            user_classes=settings.user_classes,
            role_arns={name: role.arn for name, role in identity.roles.items()},
            sts_endpoint=settings.sts_endpoint,
            cdn=settings.site_cdn,
        ),
    )
    return PetsApp(settings, table, functions, api, identity, site, alarms)
