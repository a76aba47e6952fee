"""The AWS target of an apply, as the apply uses it: boto3 clients plus the facts the
program reads from it (account, region, partition), all asked of the target itself, never
taken from config. (devstack.clients.Target is where an emulator runs; this is what an apply
connected to.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from botocore.client import BaseClient

ClientFactory = Callable[[str], BaseClient]


def _is_aws_endpoint(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


@dataclass(frozen=True)
class ApplyTarget:
    clients: Mapping[str, BaseClient]
    region: str
    account_id: str
    partition: str
    caller_arn: str
    caller_user_id: str
    endpoint_url: str | None  # None when the clients talk to real AWS endpoints

    @classmethod
    def connect(cls, factory: ClientFactory, services: Iterable[str]) -> ApplyTarget:
        """Make every client up front, in the calling thread.

        Registrations run concurrently in the SDK's executor threads. boto3 clients are
        thread-safe, but making one is not (sessions share mutable loaders and the factory
        may use the default session), so no client is made after this point.
        """
        clients = {service: factory(service) for service in sorted(set(services) | {"sts"})}
        identity = clients["sts"].get_caller_identity()
        arn = str(identity["Arn"])
        region = clients["sts"].meta.region_name
        if not region:
            raise ValueError("the client factory made clients without a region")
        endpoint = clients["sts"].meta.endpoint_url
        return cls(
            clients=clients,
            region=region,
            account_id=str(identity["Account"]),
            partition=arn.split(":")[1] if arn.startswith("arn:") else "aws",
            caller_arn=arn,
            caller_user_id=str(identity.get("UserId", "")),
            endpoint_url=None if _is_aws_endpoint(endpoint) else endpoint.rstrip("/"),
        )

    def client(self, service: str) -> Any:
        # Typed Any: boto3 clients have generated methods a static checker cannot see.
        return self.clients[service]

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account_id if account else ''}:{resource}"
        )

    @property
    def dns_suffix(self) -> str:
        return "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
