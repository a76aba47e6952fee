"""What only the AWS account can tell, checked before `pulumi preview` / `pulumi up` creates
anything: each of these otherwise fails late in the first `up`, after most resources exist.

- placeholders left in the stack file (the examples' account, domains, tenants, REPLACE_WITH_...);
- reserved concurrency against the account's Lambda limit;
- the site's certificate in ACM us-east-1 (exists, ISSUED, covers pets:siteDomain, not expired);
- the account baseline this stack relies on: the issuer's IAM OIDC provider listing the stack's
  client id, and API Gateway's CloudWatch role in the stack's region.

The checks are pure functions of the settings and boto3 clients (the operator's credentials);
each problem names the config key it is about and says what to do. The example stack files stay
valid config: refusing their placeholders is the deploy's job, never the parser's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import access
from components.config import ConfigError, Settings
from components.naming import function_name
from components.policies import oidc_key_prefix

# A boto3 client (botocore generates their classes at run time: there is no static type).
Client = Any

# What to deploy first when an account-wide part is missing.
BASELINE = "the account baseline (account/, `pulumi up` there)"
# The account the examples' ARNs use (AWS's documentation account).
EXAMPLE_ACCOUNT = "123456789012"
# Lambda refuses a reservation that leaves fewer unreserved executions than this.
UNRESERVED_MINIMUM = 100
# CloudFront reads its certificates from ACM in this region only.
CERTIFICATE_REGION = "us-east-1"


@dataclass(frozen=True)
class Problem:
    """Something that would fail the deploy: `key` is the config key to change."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass(frozen=True)
class AccountClients:
    """The clients the checks read the account with, in the stack's region."""

    region: str
    lambda_: Client
    iam: Client
    apigateway: Client
    acm: Client  # in us-east-1, whatever the stack's region


def account_clients(region: str | None, profile: str | None) -> AccountClients:
    """Clients with the operator's credentials, as the stack's aws:region / aws:profile say
    (unset: the environment's, as the AWS provider does)."""
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise ConfigError(f"aws:profile: no AWS profile {profile!r} on this machine "
                          "(~/.aws/config): set the stack's aws:profile to one that exists, "
                          "or remove it to use the environment's credentials") from None
    if session.region_name is None:
        raise ConfigError("aws:region is not set: `pulumi config set aws:region <region>` "
                          "(or AWS_REGION in the environment)")
    if session.get_credentials() is None:
        raise ConfigError("aws:profile: no AWS credentials found: set the stack's aws:profile, "
                          "or AWS_PROFILE / AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                          "environment")
    return AccountClients(
        region=session.region_name,
        lambda_=session.client("lambda"),
        iam=session.client("iam"),
        apigateway=session.client("apigateway"),
        acm=session.client("acm", region_name=CERTIFICATE_REGION),
    )


# --- placeholders ------------------------------------------------------------------------

_EXAMPLE_ARN = re.compile(rf"arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:{EXAMPLE_ACCOUNT}:[^\s\"',]*")
_HOST = re.compile(r"(?<![\w.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}(?![\w-])",
                   re.IGNORECASE)
_REPLACE_WITH = re.compile(r"REPLACE_WITH\w*")
# What each key wants instead of its placeholder.
_WANTED = {
    "pets:oidcIssuer": "your identity provider's issuer URL (exactly the ID token's `iss`)",
    "pets:oidcClientId": "the browser app's client id at your identity provider",
    "pets:auth0Tenant": "your Auth0 tenant's domain (one tenant per stack)",
    "pets:siteDomain": "your site's own domain",
    "pets:siteCertificateArn": "the ARN of your certificate for pets:siteDomain in ACM us-east-1",
    "pets:alarmEmail": "the address that should receive the alarms",
    "pets:corsAllowOrigin": "your site's origin",
}


def _is_example_host(host: str) -> bool:
    """example.com / example.org / pets-example.eu.auth0.com: a label with the word `example`."""
    return any("example" in label.split("-") for label in host.lower().split("."))


def _leaves(key: str, value: Any) -> Iterator[tuple[str, str]]:
    """(key path, text) of every string in a value; structured values arrive as JSON text."""
    if isinstance(value, str):
        if value[:1] in "{[":
            try:
                yield from _leaves(key, json.loads(value))
                return
            except json.JSONDecodeError:
                pass
        yield key, value
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _leaves(f"{key}.{name}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(f"{key}[{index}]", item)


def _placeholders_in(text: str) -> list[str]:
    found = [m.group() for m in _EXAMPLE_ARN.finditer(text)]
    found += [m.group() for m in _REPLACE_WITH.finditer(text)]
    found += [m.group() for m in _HOST.finditer(text)
              if _is_example_host(m.group()) and not any(m.group() in f for f in found)]
    return found


def placeholders(raw: Mapping[str, str], stack: str) -> list[Problem]:
    """Values copied from the example stack files and never replaced, by key."""
    problems = []
    for top, value in sorted(raw.items()):
        for key, text in _leaves(top, value):
            found = _placeholders_in(text)
            if found:
                wanted = _WANTED.get(key, "this stack's real value")
                problems.append(Problem(key, (
                    f"{', '.join(repr(f) for f in found)} is a placeholder from the example "
                    f"stack files: set {wanted} in Pulumi.{stack}.yaml")))
    return problems


# --- reserved concurrency ----------------------------------------------------------------

def _reserved_now(lambda_client: Client, name: str) -> int:
    """What a function reserves today (0: none, or the function does not exist yet)."""
    try:
        answer = lambda_client.get_function_concurrency(FunctionName=name)
    except lambda_client.exceptions.ResourceNotFoundException:
        return 0
    return int(answer.get("ReservedConcurrentExecutions") or 0)


def reserved_concurrency(settings: Settings, lambda_client: Client, region: str) -> list[Problem]:
    """The stack's reservations must leave the account 100 unreserved executions.

    On an update, this stack's functions already hold some of the account's reservations:
    those are given back before the new ones are taken, so they count as available.
    """
    wanted = settings.reserved_concurrency
    if not wanted:
        return []
    key = "pets:reservedConcurrency"
    limits = lambda_client.get_account_settings()["AccountLimit"]
    limit = int(limits["ConcurrentExecutions"])
    unreserved = int(limits["UnreservedConcurrentExecutions"])
    ours = sum(_reserved_now(lambda_client, function_name(settings.prefix, route))
               for route in access.ROUTES)
    requested = sum(wanted.values())
    reservable = limit - UNRESERVED_MINIMUM
    if reservable <= 0:
        return [Problem(key, (
            f"the account's Lambda concurrency limit in {region} is {limit} (new accounts start "
            f"at 10) and AWS keeps {UNRESERVED_MINIMUM} executions unreserved, so no function "
            f"can reserve any. Request a quota increase (Service Quotas > AWS Lambda > "
            f"Concurrent executions, in {region}), or remove {key} from Pulumi.{settings.stack}"
            ".yaml for this stack"))]
    if requested > reservable:
        return [Problem(key, (
            f"reserves {requested} executions, but the account's limit in {region} is {limit} "
            f"and AWS keeps {UNRESERVED_MINIMUM} unreserved: at most {reservable} can be "
            "reserved. Lower the numbers, or request a quota increase (Service Quotas > "
            "AWS Lambda > Concurrent executions)"))]
    available = unreserved + ours - UNRESERVED_MINIMUM
    if requested > available:
        others = limit - unreserved - ours
        return [Problem(key, (
            f"reserves {requested} executions, but other functions in the account already "
            f"reserve {others} of the limit of {limit} in {region}, which leaves "
            f"{max(available, 0)} for this stack (AWS keeps {UNRESERVED_MINIMUM} unreserved). "
            "Lower the numbers, free other functions' reservations, or request a quota "
            "increase"))]
    return []


# --- the site's certificate --------------------------------------------------------------

def covers(name: str, domain: str) -> bool:
    """Whether a certificate name covers a domain: exactly, or `*.` for exactly one label."""
    name, domain = name.lower().rstrip("."), domain.lower().rstrip(".")
    if name.startswith("*."):
        label, _, rest = domain.partition(".")
        return bool(label) and rest == name[2:]
    return name == domain


def site_certificate(settings: Settings, acm_client: Client, now: datetime) -> list[Problem]:
    """CloudFront serves pets:siteDomain with this certificate: it must exist in ACM
    us-east-1 of this account, be ISSUED and unexpired, and name the domain."""
    arn, domain = settings.site_certificate_arn, settings.site_domain
    if arn is None or domain is None:
        return []
    key = "pets:siteCertificateArn"
    try:
        certificate = acm_client.describe_certificate(CertificateArn=arn)["Certificate"]
    except acm_client.exceptions.ResourceNotFoundException:
        return [Problem(key, (
            f"no certificate {arn} in ACM {CERTIFICATE_REGION} of this account: request (or "
            f"import) one for {domain} in {CERTIFICATE_REGION}, which is the only region "
            "CloudFront reads, and set its ARN here"))]
    problems = []
    status = certificate.get("Status")
    not_after = certificate.get("NotAfter")
    if status == "EXPIRED" or (not_after is not None and not_after <= now):
        when = f" on {not_after:%Y-%m-%d}" if not_after is not None else ""
        problems.append(Problem(key, (
            f"{arn} expired{when}: renew it (or request a new one for {domain}) and set the "
            "new ARN here")))
    elif status != "ISSUED":
        todo = ("add the DNS validation record ACM shows for it and wait until it is ISSUED"
                if status == "PENDING_VALIDATION"
                else f"request a new certificate for {domain} in {CERTIFICATE_REGION}")
        problems.append(Problem(key, (
            f"{arn} is {status}, and CloudFront only serves an ISSUED certificate: {todo}")))
    names = [certificate.get("DomainName", ""), *certificate.get("SubjectAlternativeNames", [])]
    if not any(covers(name, domain) for name in names if name):
        listed = ", ".join(sorted({n for n in names if n}))
        problems.append(Problem("pets:siteDomain", (
            f"{domain} is not covered by pets:siteCertificateArn ({arn} names {listed}; a `*.` "
            "name covers exactly one label): use a certificate for this domain, or this "
            "certificate's domain")))
    return problems


# --- the account baseline ----------------------------------------------------------------

def _issuer_key(settings: Settings) -> str:
    return "pets:auth0Tenant" if settings.auth0_tenant else "pets:oidcIssuer"


def oidc_provider(settings: Settings, iam_client: Client) -> list[Problem]:
    """The issuer's OIDC provider is account-wide (one per URL), owned by the account baseline;
    STS accepts a token only if the provider lists the token's `aud`."""
    url = oidc_key_prefix(settings.oidc_issuer)  # IAM keeps the URL without its scheme
    arns = [p["Arn"] for p in iam_client.list_open_id_connect_providers()
            .get("OpenIDConnectProviderList", [])]
    by_url = {arn.split(":oidc-provider/", 1)[-1]: arn for arn in arns}
    if url not in by_url:
        near = [u for u in by_url if u.rstrip("/") == url.rstrip("/")]
        hint = (f" (there is one for {near[0]}, but the ID tokens' `iss` is "
                f"{settings.oidc_issuer}: IAM compares them exactly)") if near else ""
        return [Problem(_issuer_key(settings), (
            f"this account has no IAM OIDC provider for {url}{hint}. Deploy {BASELINE} first, "
            "with this issuer and the stack's client id"))]
    client_id = settings.oidc_client_id
    if client_id is None:  # a managed Auth0 tenant: the app creates the client (notes())
        return []
    listed = iam_client.get_open_id_connect_provider(
        OpenIDConnectProviderArn=by_url[url]).get("ClientIDList", [])
    if client_id not in listed:
        return [Problem("pets:oidcClientId", (
            f"the account's OIDC provider for {url} does not list the client id "
            f"{client_id!r}, so STS would refuse every login of this stack: add it to that "
            f"issuer's client ids in {BASELINE}"))]
    return []


def api_gateway_logging(apigateway_client: Client, region: str) -> list[Problem]:
    """The stage's access logging needs API Gateway's CloudWatch role (one per account and
    region, owned by the account baseline)."""
    if apigateway_client.get_account().get("cloudwatchRoleArn"):
        return []
    return [Problem("aws:region", (
        f"API Gateway's account settings in {region} have no CloudWatch role ARN, and the "
        f"stage's access logging fails without it: deploy {BASELINE} in {region} first"))]


def notes(settings: Settings) -> list[str]:
    """What the operator must do that no check can tell yet (printed, never refused)."""
    if settings.auth0_tenant is None:
        return []
    return [
        f"pets:auth0Tenant: the client id is the Auth0 application this stack creates, so the "
        f"preflight cannot check that the account's OIDC provider lists it. After the first "
        f"`up`, add `pulumi stack output oidcClientId --stack {settings.stack}` to that "
        f"issuer's client ids in {BASELINE}; until then STS refuses this stack's logins."
    ]


# --- all of it ---------------------------------------------------------------------------

@dataclass(frozen=True)
class _Check:
    key: str  # named when the check itself cannot run
    reads: frozenset[str]  # config keys it reads: skipped while one holds a placeholder
    run: Callable[[], list[Problem]]
    allowed: str  # what the deploying credentials need to be allowed


def run_preflight(
    settings: Settings, raw: Mapping[str, str], clients: AccountClients, now: datetime
) -> list[Problem]:
    """Every problem the account and the stack file show, placeholders first.

    A check whose input is still a placeholder is skipped (its own refusal would only repeat
    the placeholder's); a check the credentials cannot run is a problem too, since `pulumi up`
    would fail on it later.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    problems = placeholders(raw, settings.stack)
    flagged = {re.split(r"[.\[]", p.key, maxsplit=1)[0] for p in problems}
    checks: Sequence[_Check] = (
        _Check("pets:reservedConcurrency", frozenset({"pets:reservedConcurrency"}),
               lambda: reserved_concurrency(settings, clients.lambda_, clients.region),
               "lambda:GetAccountSettings and lambda:GetFunctionConcurrency"),
        _Check("pets:siteCertificateArn", frozenset({"pets:siteCertificateArn", "pets:siteDomain"}),
               lambda: site_certificate(settings, clients.acm, now),
               f"acm:DescribeCertificate in {CERTIFICATE_REGION}"),
        _Check(_issuer_key(settings),
               frozenset({"pets:oidcIssuer", "pets:oidcClientId", "pets:auth0Tenant"}),
               lambda: oidc_provider(settings, clients.iam),
               "iam:ListOpenIDConnectProviders and iam:GetOpenIDConnectProvider"),
        _Check("aws:region", frozenset({"aws:region"}),
               lambda: api_gateway_logging(clients.apigateway, clients.region),
               "apigateway:GET on /account"),
    )
    for check in checks:
        if check.reads & flagged:
            continue
        try:
            problems += check.run()
        except (BotoCoreError, ClientError) as err:
            problems.append(Problem(check.key, (
                f"could not check it ({err}): the deploying credentials need {check.allowed}")))
    return problems
