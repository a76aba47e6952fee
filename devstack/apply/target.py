"""The emulator an apply targets, as the apply uses it: boto3 clients plus the facts the
program reads from it (account, region), all asked of the target itself, never taken from
config. (devstack.clients.Target is where an emulator runs; this is what an apply
connected to.)"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.client import BaseClient

ClientFactory = Callable[[str], BaseClient]


@dataclass(frozen=True)
class ApplyTarget:
    clients: Mapping[str, BaseClient]
    region: str
    account_id: str
    caller_arn: str
    endpoint_url: str

    @classmethod
    def connect(cls, factory: ClientFactory, services: Iterable[str]) -> ApplyTarget:
        """Make every client up front, in the calling thread.

        Registrations run concurrently in the SDK's executor threads. boto3 clients are
        thread-safe, but making one is not (sessions share mutable loaders and the factory
        may use the default session), so no client is made after this point.
        """
        clients = {service: factory(service) for service in sorted(set(services) | {"sts"})}
        identity = clients["sts"].get_caller_identity()
        region = clients["sts"].meta.region_name
        if not region:
            raise ValueError("the client factory made clients without a region")
        return cls(
            clients=clients,
            region=region,
            account_id=str(identity["Account"]),
            caller_arn=str(identity["Arn"]),
            endpoint_url=clients["sts"].meta.endpoint_url.rstrip("/"),
        )

    def client(self, service: str) -> Any:
        # Typed Any: boto3 clients have generated methods a static checker cannot see.
        return self.clients[service]

    def arn(self, service: str, resource: str, *, account: bool = True) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id if account else ''}:{resource}"
