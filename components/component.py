"""What every pets component is: a ComponentResource typed after its class, built from one
typed args dataclass, whose children are parented to it and whose outputs are registered
once it is built.

A component declares its resources in `declare(name, args)` and returns its outputs; the
constructor registers them, so every component is whole once constructed (nothing of it
waits for a later call). The class's name is the one declaration of its type
(`pets:index:PetsApi` for PetsApi), so a component reads the same in code, in `pulumi stack`
and in URNs. Its docstring names the resource classes it owns (tests/unit/test_components.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import pulumi

TYPE_PREFIX = "pets:index:"
Args = TypeVar("Args")
Outputs = Mapping[str, pulumi.Input[Any]]


class Component(pulumi.ComponentResource, Generic[Args]):
    """A ComponentResource of type `pets:index:<class name>`, declared from its `Args`."""

    def __init__(self, name: str, args: Args, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"{TYPE_PREFIX}{type(self).__name__}", name, None, opts)
        self.register_outputs(self.declare(name, args))

    def declare(self, name: str, args: Args) -> Outputs:
        """Declares the component's resources (parented with `child()`); returns its outputs."""
        raise NotImplementedError(f"{type(self).__name__} declares nothing")

    def child(self, **options: Any) -> pulumi.ResourceOptions:
        """A child's options: parented to this component, with `options` (depends_on,
        protect, aliases, provider...)."""
        return pulumi.ResourceOptions(parent=self, **options)
