"""The whole application, wired from the stack's settings."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components.api import PetsApi, PetsApiArgs, RouteTarget
from components.auth0 import Auth0Tenant, Auth0TenantArgs
from components.config import Settings
from components.function import (
    DependencyLayer,
    DependencyLayerArgs,
    RouteFunction,
    RouteFunctionArgs,
    lambda_package,
)
from components.identity import UserIdentity, UserIdentityArgs
from components.oidc_client import ClientRegistration, class_grants, registration_for
from components.site import PetsSite, PetsSiteArgs, SiteContentArgs
from components.table import PetsTable, PetsTableArgs


@dataclass
class PetsApp:
    settings: Settings
    table: PetsTable
    functions: dict[str, RouteFunction]  # by route id
    api: PetsApi
    identity: UserIdentity
    site: PetsSite
    client_id: pulumi.Output[str]
    registration: pulumi.Output[ClientRegistration]

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """What users and the local harness read from the stack."""
        return {
            "apiUrl": self.api.invoke_url,
            "restApiId": self.api.rest_api_id,
            "stage": self.settings.stage,
            "region": aws.get_region_output().region,
            "roles": {name: role.arn for name, role in self.identity.roles.items()},
            "oidcIssuer": self.settings.oidc_issuer,
            "oidcClientId": self.client_id,
            # What the identity provider must know about the site (the local one registers it).
            "oidcClient": self.registration.apply(lambda r: r.to_output()),
            "classGrants": class_grants(self.settings.prefix, self.settings.user_classes),
            "tableName": self.table.name,
            "siteUrl": self.site.url,
        }


def build(settings: Settings) -> PetsApp:
    prefix = settings.prefix
    # The site's URL first: the identity provider's registration and client id come from it.
    site = PetsSite(f"{prefix}-site", PetsSiteArgs(name_prefix=prefix, cdn=settings.site_cdn))
    registration = site.url.apply(lambda url: registration_for(
        url,
        id_token_lifetime_seconds=settings.id_token_lifetime_seconds,
        refresh_token_lifetime_seconds=settings.refresh_token_lifetime_seconds,
    ))
    auth0_tenant = None
    if settings.auth0_tenant is not None:
        auth0_tenant = Auth0Tenant(prefix, Auth0TenantArgs(
            name_prefix=prefix,
            tenant=settings.auth0_tenant,
            registration=registration,
            class_grants=class_grants(prefix, settings.user_classes),
        ))
        client_id = auth0_tenant.client_id
    else:
        client_id = pulumi.Output.from_input(settings.oidc_client_id)
    table = PetsTable(prefix, PetsTableArgs(table_name=f"{prefix}-pets"))
    package = lambda_package(settings.lambda_package)
    dependencies = DependencyLayer(
        prefix, DependencyLayerArgs(f"{prefix}-dependencies", package.dependencies)
    )
    environment = {
        "TABLE_NAME": table.name,
        "OIDC_ISSUER": settings.oidc_issuer,
        "OIDC_CLIENT_ID": client_id,
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
            client_id=client_id,
            user_classes=settings.user_classes,
            execution_arn=api.execution_arn,
            stage=settings.stage,
            thumbprints=settings.oidc_thumbprints,
        ),
    )
    site.publish(SiteContentArgs(
        region=aws.get_region_output().region,
        api_url=api.invoke_url,
        issuer=settings.oidc_issuer,
        client_id=client_id,
        user_classes=settings.user_classes,
        role_arns={name: role.arn for name, role in identity.roles.items()},
        sts_endpoint=settings.sts_endpoint,
    ))
    return PetsApp(settings, table, functions, api, identity, site, client_id, registration)

