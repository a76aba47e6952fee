"""The whole application, wired from the stack's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components import site as site_component
from components.alarms import AlarmTarget, StackAlarms, StackAlarmsArgs
from components.api import ApiInvoker, PetsApi, PetsApiArgs, RouteTarget
from components.config import Settings
from components.function import (
    DependencyLayer,
    DependencyLayerArgs,
    LambdaPackage,
    RouteFunction,
    RouteFunctionArgs,
    lambda_package,
)
from components.identity import UserIdentity, UserIdentityArgs
from components.site import PetsSite, PetsSiteArgs, SiteHosting, SiteHostingArgs
from components.table import PetsTable, PetsTableArgs
from components.waf import ApiFirewall, ApiFirewallArgs


@dataclass
class PetsApp:
    settings: Settings
    table: PetsTable
    functions: dict[str, RouteFunction]  # by route id
    api: PetsApi
    identity: UserIdentity
    hosting: SiteHosting
    site: PetsSite
    alarms: StackAlarms
    firewall: ApiFirewall | None

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


def _failed(error: BaseException) -> pulumi.Output[str]:
    """An Output that fails with `error`: what waits on it fails instead of waiting forever."""
    future: asyncio.Future[str] = asyncio.get_event_loop().create_future()
    future.set_exception(error)
    return pulumi.Output.from_input(future)


def build(settings: Settings) -> PetsApp:
    # What can fail on the operator's input fails before anything is registered.
    package = lambda_package(settings.lambda_package)
    site_files = site_component.site_files()
    index_html = (site_component.SITE_DIR / site_component.INDEX).read_text()
    # The API's CORS origin: the configured one, else (CloudFront) the site's own origin,
    # known only once the hosting exists, which itself needs the API's id for its CSP.
    if settings.cors_allow_origin is not None or not settings.site_cdn:
        return _build(settings, package, site_files, index_html,
                      settings.cors_allow_origin or "*", None)
    cors_origin, resolve = pulumi.deferred_output()
    resolved: list[bool] = []

    def resolve_once(origin: pulumi.Output[str]) -> None:
        resolved.append(True)
        resolve(origin)

    try:
        return _build(settings, package, site_files, index_html, cors_origin, resolve_once)
    except BaseException as error:
        if not resolved:
            resolve(_failed(error))
        raise


def _build(
    settings: Settings,
    package: LambdaPackage,
    site_files: list[site_component.SiteFile],
    index_html: str,
    cors_origin: pulumi.Input[str],
    resolve_cors_origin: Callable[[pulumi.Output[str]], None] | None,
) -> PetsApp:
    prefix = settings.prefix
    region = aws.get_region_output().region
    table = PetsTable(prefix, PetsTableArgs(
        table_name=f"{prefix}-pets",
        deletion_protection=settings.protections.data_protection,
    ))
    dependencies = DependencyLayer(
        prefix, DependencyLayerArgs(f"{prefix}-dependencies", package.dependencies)
    )
    environment = {
        "TABLE_NAME": table.name,
        "OIDC_ISSUER": settings.oidc_issuer,
        "OIDC_CLIENT_ID": settings.oidc_client_id,
        "CORS_ALLOW_ORIGIN": cors_origin,
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
            cors_allow_origin=cors_origin,
            log_retention_days=settings.log_retention_days,
            throttle=settings.throttle,
            manage_account_logging_role=settings.manage_api_gateway_account,
        ),
    )
    sts_endpoint = (pulumi.Output.from_input(settings.sts_endpoint) if settings.sts_endpoint
                    else region.apply(site_component.default_sts_endpoint))
    hosting = SiteHosting(
        f"{prefix}-site",
        SiteHostingArgs(
            name_prefix=prefix,
            region=region,
            keys=[f.key for f in site_files] + [site_component.CONFIG_KEY],
            cdn=settings.site_cdn,
            api_origin=pulumi.Output.all(api.rest_api_id, region).apply(
                lambda v: site_component.api_origin(v[0], v[1])),
            sts_origin=sts_endpoint.apply(site_component.origin_of),
            issuer_origin=site_component.origin_of(settings.oidc_issuer),
            script_hashes=site_component.inline_script_hashes(index_html),
            domain=settings.protections.site_domain,
            certificate_arn=settings.protections.site_certificate_arn,
        ),
    )
    if resolve_cors_origin is not None:
        resolve_cors_origin(hosting.origin)
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
    firewall = None
    if settings.protections.waf:
        firewall = ApiFirewall(f"{prefix}-waf", ApiFirewallArgs(
            name_prefix=prefix,
            stage_arn=api.stage.arn,
            rate_limit=settings.protections.waf_rate_limit,
        ))
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
    site = PetsSite(
        f"{prefix}-site",
        PetsSiteArgs(
            bucket=hosting.bucket.bucket,
            region=region,
            api_url=api.invoke_url,
            issuer=settings.oidc_issuer,
            client_id=settings.oidc_client_id,
            user_classes=settings.user_classes,
            role_arns={name: role.arn for name, role in identity.roles.items()},
            sts_endpoint=sts_endpoint,
            url=hosting.url,
        ),
    )
    return PetsApp(settings, table, functions, api, identity, hosting, site, alarms, firewall)
