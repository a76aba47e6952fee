"""The whole application, wired from the stack's settings."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

import access
from components import site_content
from components.alarms import AlarmTarget, StackAlarms, StackAlarmsArgs
from components.api import PetsApi, PetsApiArgs, RouteTarget
from components.api_stage import ApiInvoker, ApiStage, ApiStageArgs
from components.auth0 import Auth0Tenant, Auth0TenantArgs
from components.config import Settings
from components.environment import pet_readers
from components.function import (
    DependencyLayer,
    DependencyLayerArgs,
    LambdaPackage,
    RouteFunction,
    RouteFunctionArgs,
    lambda_package,
)
from components.identity import (
    TrustedIssuer,
    UserIdentity,
    UserIdentityArgs,
    find_provider,
    require_listed_client_id,
)
from components.naming import function_name, idempotency_table_name, table_name
from components.oidc_client import ClientRegistration, class_grants, origin_of, registration_for
from components.site import PetsSite, PetsSiteArgs, SiteHosting, SiteHostingArgs
from components.table import IdempotencyTable, IdempotencyTableArgs, PetsTable, PetsTableArgs
from components.waf import ApiFirewall, ApiFirewallArgs
from handlers import idempotency


@dataclass
class PetsApp:
    settings: Settings
    table: PetsTable
    idempotency_table: IdempotencyTable
    functions: dict[str, RouteFunction]  # by route id
    api: PetsApi
    api_stage: ApiStage
    identity: UserIdentity
    hosting: SiteHosting
    site: PetsSite
    alarms: StackAlarms
    firewall: ApiFirewall | None
    auth0: Auth0Tenant | None
    client_id: pulumi.Output[str]
    registration: pulumi.Output[ClientRegistration]

    def outputs(self) -> dict[str, pulumi.Input[object]]:
        """What users and the local harness read from the stack."""
        return {
            "apiUrl": self.api_stage.invoke_url,
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
            "idempotencyTableName": self.idempotency_table.name,
            "siteUrl": self.site.url,
        }


def _failed(error: BaseException) -> pulumi.Output[str]:
    """An Output that fails with `error`: what waits on it fails instead of waiting forever."""
    future: asyncio.Future[str] = asyncio.get_event_loop().create_future()
    future.set_exception(error)
    return pulumi.Output.from_input(future)


Defer = Callable[[], tuple[pulumi.Output[str], Callable[[pulumi.Input[str]], None]]]


def build(settings: Settings) -> PetsApp:
    # What can fail on the operator's input fails before anything is registered.
    package = lambda_package(settings.lambda_package)
    site_files = site_content.site_files()
    index_html = (site_content.SITE_DIR / site_content.INDEX).read_text()
    # The account's OIDC provider is the account baseline's (account/): a stack that would
    # fail at its first login fails here instead, saying what to deploy first.
    trusted = find_provider(settings.oidc_issuer)
    if settings.oidc_client_id is not None:
        require_listed_client_id(trusted, settings.oidc_client_id)
    # Values known only once the site's hosting exists, which itself needs the API's id for
    # its CSP: the API's CORS origin, and a managed Auth0 application's client id (its
    # callbacks are the site's URL). Every one still unresolved when the program raises is
    # failed with that error, so nothing waiting on it hangs.
    pending: list[Callable[[pulumi.Input[str]], None]] = []

    def defer() -> tuple[pulumi.Output[str], Callable[[pulumi.Input[str]], None]]:
        output, resolve = pulumi.deferred_output()

        def resolve_once(value: pulumi.Input[str]) -> None:
            pending.remove(resolve_once)
            resolve(pulumi.Output.from_input(value))

        pending.append(resolve_once)
        return output, resolve_once

    try:
        return _build(settings, trusted, package, site_files, index_html, defer)
    except BaseException as error:
        for resolve in list(pending):
            resolve(_failed(error))
        raise


def _build(
    settings: Settings,
    trusted: TrustedIssuer,
    package: LambdaPackage,
    site_files: list[site_content.SiteFile],
    index_html: str,
    defer: Defer,
) -> PetsApp:
    resolve_cors_origin = resolve_client_id = None
    cors_origin: pulumi.Input[str]
    if settings.cors_allow_origin is not None or not settings.site_cdn:
        cors_origin = settings.cors_allow_origin or "*"
    else:
        cors_origin, resolve_cors_origin = defer()
    client_id: pulumi.Output[str]
    if settings.oidc_client_id is not None:
        client_id = pulumi.Output.from_input(settings.oidc_client_id)
    else:
        client_id, resolve_client_id = defer()
    prefix = settings.prefix
    region = aws.get_region_output().region
    table = PetsTable(prefix, PetsTableArgs(
        table_name=table_name(prefix),
        deletion_protection=settings.data_protection,
    ))
    idempotency_table = IdempotencyTable(prefix, IdempotencyTableArgs(
        table_name=idempotency_table_name(prefix),
        deletion_protection=settings.data_protection,
    ))
    dependencies = DependencyLayer(
        prefix, DependencyLayerArgs(f"{prefix}-dependencies", package.dependencies)
    )
    environment = {
        "TABLE_NAME": table.name,
        "OIDC_ISSUER": settings.oidc_issuer,
        "OIDC_CLIENT_ID": client_id,
        "CORS_ALLOW_ORIGIN": cors_origin,
        "POWERTOOLS_SERVICE_NAME": "pets",
        # What each class may read of a pet (access.PET_FIELDS), by the role of its class.
        "PET_READERS": pet_readers(prefix, settings.user_classes),
    }
    # Only a route that takes an Idempotency-Key is told where the records are.
    keyed = {idempotency.TABLE_ENV: idempotency_table.name}
    functions = {
        route.id: RouteFunction(
            function_name(prefix, route),
            RouteFunctionArgs(
                route=route,
                function_name=function_name(prefix, route),
                code=package.code,
                layers=[dependencies.arn],
                table_arn=table.arn,
                idempotency_table_arn=(idempotency_table.arn if route.idempotency_actions
                                       else None),
                environment={**environment, **(keyed if route.idempotency_actions else {})},
                log_retention_days=settings.log_retention_days,
                reserved_concurrency=settings.reserved_concurrency.get(route.handler),
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
        ),
    )
    sts_endpoint = (pulumi.Output.from_input(settings.sts_endpoint) if settings.sts_endpoint
                    else region.apply(site_content.default_sts_endpoint))
    hosting = SiteHosting(
        f"{prefix}-site",
        SiteHostingArgs(
            name_prefix=prefix,
            region=region,
            keys=[f.key for f in site_files] + [site_content.CONFIG_KEY],
            cdn=settings.site_cdn,
            api_origin=pulumi.Output.all(api.rest_api_id, region).apply(
                lambda v: site_content.api_origin(v[0], v[1])),
            sts_origin=sts_endpoint.apply(origin_of),
            issuer_origin=origin_of(settings.oidc_issuer),
            script_hashes=site_content.inline_script_hashes(index_html),
            domain=settings.site_domain,
            certificate_arn=settings.site_certificate_arn,
        ),
    )
    if resolve_cors_origin is not None:
        resolve_cors_origin(hosting.origin)
    registration = hosting.url.apply(lambda url: registration_for(
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
    if resolve_client_id is not None:
        if auth0_tenant is None:
            raise ValueError("no client id: set pets:oidcClientId or pets:auth0Tenant")
        resolve_client_id(auth0_tenant.client_id)
    identity = UserIdentity(
        prefix,
        UserIdentityArgs(
            name_prefix=prefix,
            trusted=trusted,
            # A managed tenant's client id is checked (a warning) once its application
            # exists; a plain one was checked in build().
            client_id=(client_id if settings.oidc_client_id is not None
                       else require_listed_client_id(trusted, client_id)),
            user_classes=settings.user_classes,
            execution_arn=api.execution_arn,
            stage=settings.stage,
        ),
    )
    api_stage = ApiStage(
        prefix,
        ApiStageArgs(
            api=api,
            invokers={c.name: ApiInvoker(identity.roles[c.name].arn, c.routes)
                      for c in settings.user_classes},
            log_retention_days=settings.log_retention_days,
            throttle=settings.throttle,
        ),
    )
    firewall = None
    if settings.waf:
        firewall = ApiFirewall(f"{prefix}-waf", ApiFirewallArgs(
            name_prefix=prefix,
            stage_arn=api_stage.stage.arn,
            rate_limit=settings.waf_rate_limit,
        ))
    # The alarms wait for nothing of the API: CloudWatch takes an alarm on metrics that have
    # no data yet, named by plain dimensions (ApiName, Stage), and only the topic they notify.
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
            idempotency_table_name=idempotency_table.name,
            alarm_email=settings.alarm_email,
        ),
    )
    site = PetsSite(
        f"{prefix}-site",
        PetsSiteArgs(
            bucket=hosting.bucket.bucket,
            region=region,
            api_url=api_stage.invoke_url,
            issuer=settings.oidc_issuer,
            client_id=client_id,
            user_classes=settings.user_classes,
            role_arns={name: role.arn for name, role in identity.roles.items()},
            sts_endpoint=sts_endpoint,
            url=hosting.url,
        ),
    )
    return PetsApp(settings, table, idempotency_table, functions, api, api_stage, identity,
                   hosting, site, alarms, firewall, auth0_tenant, client_id, registration)
