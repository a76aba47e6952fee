"""The REST API's resource tree and the logical names of its parts, from the routes.

Pure: components/api.py declares the parts under these names. A variable path part is
named by its position (`-var`), not its parameter's name: renaming a path parameter then
keeps every logical name, so the engine updates the resource's path part and the method's
request parameters in place. With the name in it, a rename would create the new resource
before deleting the old one, and API Gateway refuses a second variable part under one
parent (ConflictException).
"""

from __future__ import annotations

from collections.abc import Sequence

import access

# A variable path part in logical names: by position, not by name. Only characters a Lambda
# permission's statement id may hold (Pulumi names the statement after the permission).
VARIABLE_PART = "var"


def path_slug(path: str) -> str:
    """`/pets/{petId}` -> `-pets-var`, for logical resource names."""
    return "".join(f"-{VARIABLE_PART}" if s.startswith("{") else f"-{s}"
                   for s in path.strip("/").split("/"))


def part_name(stem: str, path: str, method: str | None = None) -> str:
    """`<stem>-delete-pets-var`: the logical name of a part of `path` (of one of its methods)."""
    return f"{stem}{'-' + method.lower() if method else ''}{path_slug(path)}"


def name_before(stem: str, path: str, method: str | None = None) -> str | None:
    """The name this part had in stacks deployed before positional names (the parameter's
    name in it: `<stem>-delete-pets-petId`), or None where that name is today's."""
    now = part_name(stem, path, method)
    named = path.replace("/", "-").replace("{", "").replace("}", "")
    before = now.removesuffix(path_slug(path)) + named
    return None if before == now else before


def resource_paths(routes: Sequence[access.Route]) -> list[str]:
    """Every path prefix the routes need, parents before children."""
    paths: set[str] = set()
    for route in routes:
        segments = route.path.strip("/").split("/")
        for depth in range(1, len(segments) + 1):
            paths.add("/" + "/".join(segments[:depth]))
    return sorted(paths, key=lambda p: (p.count("/"), p))


def check_names(paths: Sequence[str]) -> None:
    """Refuses two paths with one slug: they would give two parts one logical name."""
    seen: dict[str, str] = {}
    for path in paths:
        first = seen.setdefault(path_slug(path), path)
        if first != path:
            raise ValueError(
                f"paths {first} and {path} would share the logical names of their parts "
                f"(`{path_slug(path)}`): a literal path part `{VARIABLE_PART}` names variable "
                "parts in logical names; rename the literal part")
