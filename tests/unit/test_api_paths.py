"""The API's resource tree and its parts' logical names (components/api_paths.py), and the
CORS values (components/cors.py): pure, no Pulumi runtime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import access
from components import api_paths, cors

SITE = Path(__file__).resolve().parents[2] / "site"


def test_a_variable_part_is_named_by_position():
    assert api_paths.path_slug("/pets/{petId}") == "-pets-var"
    assert api_paths.part_name("pets-dev-method", "/pets/{petId}", "DELETE") == (
        "pets-dev-method-delete-pets-var")
    assert api_paths.part_name("pets-dev-resource", "/pets") == "pets-dev-resource-pets"


def test_the_name_before_positional_names_carries_the_parameter():
    assert api_paths.name_before("pets-dev-method", "/pets/{petId}", "DELETE") == (
        "pets-dev-method-delete-pets-petId")
    assert api_paths.name_before("pets-dev-method", "/pets/purchase", "POST") is None


def test_resource_paths_are_every_prefix_once_parents_first():
    routes = [access.Route("GET", "/shops/{shop}/pets/{pet}", "a", ()),
              access.Route("GET", "/shops/{shop}/staff", "b", ()),
              access.Route("GET", "/pets", "c", ())]
    assert api_paths.resource_paths(routes) == [
        "/pets", "/shops", "/shops/{shop}", "/shops/{shop}/pets", "/shops/{shop}/staff",
        "/shops/{shop}/pets/{pet}"]


def test_a_literal_part_named_like_a_variable_is_refused():
    with pytest.raises(ValueError, match=r"paths /pets/\{petId\} and /pets/var would share"):
        api_paths.check_names(["/pets", "/pets/{petId}", "/pets/var"])


def test_allowed_methods_add_the_preflight_once():
    routes = [r for r in access.ROUTES if r.path == "/pets"]
    assert cors.allowed_methods(routes) == "GET,OPTIONS,POST"
    assert cors.allowed_methods([]) == "OPTIONS"


def test_the_preflight_allows_every_header_the_site_sends():
    """site/api.js sets these itself; aws4fetch adds the SigV4 ones."""
    sent = set(re.findall(r"'((?:X-[\w-]+|Idempotency-Key|Content-Type))'",
                          (SITE / "api.js").read_text()))
    assert {"X-Id-Token", "Idempotency-Key"} <= sent
    allowed = cors.cors_headers("https://pets.example.com", "GET,OPTIONS")
    listed = set(allowed["Access-Control-Allow-Headers"].split(","))
    assert sent | {"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} <= listed
    assert allowed["Access-Control-Allow-Origin"] == "https://pets.example.com"
