"""The one place that makes boto3 clients for the dev stack's AWS target (localstack-client).

Deploy-time callers get the emulator's root key (`test`/`test`). Callers that must be
subject to IAM (every call that is meant to be denied) pass real role credentials, e.g.
the `Credentials` dict from STS AssumeRoleWithWebIdentity: MiniStack treats key `test`
as the account root and never checks root signatures, so a denial test run with root
credentials would pass vacuously.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import localstack_client.session
from botocore import UNSIGNED
from botocore.config import Config

from devstack.errors import DevstackError
from devstack.processes import procs

# MiniStack's root key pair. Any 12-digit key (or an empty one) also acts as root there.
ROOT_CREDENTIALS: Mapping[str, str] = {"AccessKeyId": "test", "SecretAccessKey": "test"}
DEFAULT_REGION = "us-east-1"
EXTERNAL_ENDPOINT_ENV = "AWS_ENDPOINT_URL"
EMULATOR_NAME = "emulator"


@dataclass(frozen=True)
class Target:
    """Where the dev stack's AWS calls go."""

    endpoint_url: str
    region: str
    account_id: str
    started: bool  # True if the call that produced this Target started the emulator
    external: bool = False  # True when AWS_ENDPOINT_URL names the user's own emulator
    pid: int | None = None  # emulator pid when we run it
    # Which emulator we run there (devstack.processes.emulator.ENGINES), "external" for
    # AWS_ENDPOINT_URL: only for messages and defaults; tests probe what it can do.
    engine: str = "ministack"


def _config(max_attempts: int) -> Config:
    return Config(
        # "standard" retries transient errors and throttling a bounded number of times; it
        # never retries AccessDenied, so denial tests still see the first answer.
        retries={"mode": "standard", "max_attempts": max_attempts},
        # Local endpoint: a connection that takes more than 2 s is not coming. Reads wait
        # longer because a Lambda invoke includes the function's own run time.
        connect_timeout=2,
        read_timeout=60,
        # Virtual-host bucket names (<bucket>.127.0.0.1) do not resolve here.
        s3={"addressing_style": "path"},
        user_agent_extra="pets-devstack",
    )


def client(
    service: str,
    credentials: Mapping[str, Any] | None = None,
    *,
    target: Target | None = None,
    max_attempts: int = 3,
) -> Any:
    """A boto3 client for `service` on the dev stack's target.

    credentials: None for the root key (deploy time only), or a mapping with AccessKeyId,
    SecretAccessKey and optionally SessionToken (the shape STS returns).
    target: defaults to current_target() (AWS_ENDPOINT_URL, else the running emulator).
    """
    creds = credentials if credentials is not None else ROOT_CREDENTIALS
    return _edge_client(service, target, _config(max_attempts), creds)


def unsigned_client(service: str, *, target: Target | None = None) -> Any:
    """A client that signs nothing, as a browser calling STS AssumeRoleWithWebIdentity.

    Parameter validation is left to the service: tests send what a browser could send.
    """
    config = Config(signature_version=UNSIGNED, parameter_validation=False,
                    retries={"mode": "standard", "max_attempts": 1})
    return _edge_client(service, target, config, None)  # no keys: nothing is signed


def _edge_client(service: str, target: Target | None, config: Config,
                 credentials: Mapping[str, Any] | None) -> Any:
    """localstack-client's boto3 client for the target's edge endpoint (MiniStack and
    LocalStack both serve every service on one port). Keys, region and endpoint are always
    explicit, so the user's ~/.aws profile or AWS_* credentials never take part."""
    target = target or current_target()
    keys = {} if credentials is None else {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"]}
    session = localstack_client.session.Session(
        **keys, region_name=target.region, localstack_host=urlsplit(target.endpoint_url).netloc)
    token = None if credentials is None else credentials.get("SessionToken")
    with _client_lock:  # boto3's default session makes clients one thread at a time
        made = session.client(service, config=config, aws_session_token=token)
    if made.meta.endpoint_url.rstrip("/") != target.endpoint_url:
        # localstack-client puts AWS_ENDPOINT_URL before the host it is given.
        raise DevstackError(
            f"{service} client would call {made.meta.endpoint_url}, not {target.endpoint_url}: "
            f"unset {EXTERNAL_ENDPOINT_ENV} or point it at the emulator you mean")
    return made


_client_lock = threading.Lock()


def current_target() -> Target:
    """The target in force: AWS_ENDPOINT_URL if set, else the emulator `devstack` started."""
    external = os.environ.get(EXTERNAL_ENDPOINT_ENV)
    if external:
        return external_target(external)
    target = recorded_emulator()
    if target is None:
        raise DevstackError(
            "no AWS target: the local emulator is not running and AWS_ENDPOINT_URL is not set. "
            "Start the local stack with `make up`."
        )
    return target


def recorded_emulator(name: str = EMULATOR_NAME) -> Target | None:
    """The emulator devstack started under `name`, if it runs and finished starting."""
    managed = procs.running(name)
    # emulator.start() adds the account id only once the emulator answered STS.
    if managed is None or "account_id" not in managed.info:
        return None
    info = managed.info
    return Target(
        endpoint_url=info["endpoint_url"],
        region=info["region"],
        account_id=info["account_id"],
        started=False,
        pid=managed.pid,
        engine=info.get("engine", "ministack"),
    )


def external_target(endpoint_url: str) -> Target:
    """Describe a user-run endpoint (e.g. their LocalStack); asks it for the account id."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    probe = Target(endpoint_url=endpoint_url.rstrip("/"), region=region, account_id="",
                   started=False, external=True, engine="external")
    return dataclasses.replace(probe, account_id=account_id(probe))


@functools.lru_cache(maxsize=8)  # current_target() runs before every client of an external one
def account_id(target: Target) -> str:
    """Ask the target who root is (STS GetCallerIdentity with the root key)."""
    sts = client("sts", target=target, max_attempts=1)
    try:
        return str(sts.get_caller_identity()["Account"])
    except Exception as exc:  # any failure here means the endpoint is unusable
        raise DevstackError(
            f"AWS endpoint {target.endpoint_url} did not answer STS GetCallerIdentity: {exc}"
        ) from exc
