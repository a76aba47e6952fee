"""One botocore data loader for every botocore session in a test process.

botocore caches the service models it decodes per Loader, and makes a Loader per Session.
The tests build a Session per role, per fake account and per moto mock, so each one decoded
the same JSON again (about 40 ms a client on these machines, half of `make unit`'s setup
time). The loader only reads botocore's own data files, so sharing it changes no answer."""

from __future__ import annotations

import functools

import botocore.loaders
import botocore.session


@functools.cache
def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    return botocore.loaders.create_loader(search_path_string)


def install() -> None:
    """From now on every new botocore Session of this process uses the shared loader."""
    botocore.session.create_loader = _shared_loader
