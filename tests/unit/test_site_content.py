"""The site's content and the pure values its hosting is built from
(components/site_content.py): no Pulumi runtime."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import access
from components import site_content

ACCOUNT = "123456789012"


def test_actions_carry_the_models_route_ids():
    assert site_content.action_routes() == {
        "list": access.LIST_PETS.id, "add": access.ADD_PET.id,
        "remove": access.REMOVE_PET.id, "buy": access.PURCHASE_PET.id}


def test_actions_follow_a_route_renamed_in_the_model():
    renamed = replace(access.REMOVE_PET, path="/pets/{id}")
    routes = tuple(renamed if r == access.REMOVE_PET else r for r in access.ROUTES)
    assert site_content.action_routes(routes)["remove"] == "DELETE /pets/{id}"


def test_an_action_whose_route_is_gone_is_refused():
    routes = tuple(r for r in access.ROUTES if r != access.PURCHASE_PET)
    with pytest.raises(ValueError, match=r"handler\(s\) \['purchase_pet'\] that no route"):
        site_content.action_routes(routes)


def test_app_config_says_what_each_class_may_call_and_each_action_calls():
    config = site_content.app_config(
        region="eu-west-1", api_url="https://api.example/v1/", issuer="https://issuer/",
        client_id="spa", sts_endpoint="https://sts.eu-west-1.amazonaws.com",
        roles={c.name: f"arn:aws:iam::{ACCOUNT}:role/{c.name}" for c in access.USER_CLASSES},
        user_classes=access.USER_CLASSES)
    assert config["apiUrl"] == "https://api.example/v1"
    assert config["actions"] == site_content.action_routes()
    for user_class in access.USER_CLASSES:
        assert config["classes"][user_class.name]["routes"] == [r.id for r in user_class.routes]
    # Every route a class may call that the site offers is named by an action.
    offered = set(config["actions"].values())
    assert offered <= {r.id for r in access.ROUTES}


def test_site_url_for_the_emulator_is_path_style():
    """What the local applier returns as websiteEndpoint gives the path-style URL."""
    endpoint = "127.0.0.1:4566/pets-local-site-000000000000"
    assert site_content.site_url(endpoint, https=False) == (
        "http://127.0.0.1:4566/pets-local-site-000000000000/index.html"
    )


# --- the file walk ------------------------------------------------------------------------


def make_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in {**{v: "" for v in site_content.VENDORED}, **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_site_files_leave_out_tooling_and_dotfiles(tmp_path: Path):
    root = make_site(tmp_path, {"index.html": "", "package.json": "{}", "vendor.mjs": "",
                                "node_modules/x/y.js": "", ".DS_Store": ""})
    keys = [f.key for f in site_content.site_files(root)]
    assert keys == sorted(["index.html", *site_content.VENDORED])


def test_site_files_refuse_unknown_types(tmp_path: Path):
    root = make_site(tmp_path, {"notes.md": ""})
    with pytest.raises(ValueError, match=r"site/notes\.md"):
        site_content.site_files(root)


def test_site_files_refuse_a_hand_written_config_json(tmp_path: Path):
    root = make_site(tmp_path, {"config.json": "{}"})
    with pytest.raises(ValueError, match=r"config\.json"):
        site_content.site_files(root)


def test_missing_vendored_libraries_say_how_to_build_them(tmp_path: Path):
    (tmp_path / "index.html").write_text("")
    with pytest.raises(FileNotFoundError, match=r"node site/vendor\.mjs"):
        site_content.site_files(tmp_path)


def test_bucket_name_too_long_for_s3_is_refused():
    with pytest.raises(ValueError, match="shorter stack name"):
        site_content.bucket_name("pets-" + "x" * 60, ACCOUNT)


def test_bucket_name_is_lowercased_but_never_mangled():
    assert site_content.bucket_name("pets-Dev", ACCOUNT) == f"pets-dev-site-{ACCOUNT}"
    with pytest.raises(ValueError, match="pets-dev_1-site"):
        site_content.bucket_name("pets-dev_1", ACCOUNT)


def test_the_site_checks_for_exactly_these_actions():
    """site/config.js refuses a config.json lacking one of its ACTIONS: the same names."""
    import re

    text = (site_content.SITE_DIR / "config.js").read_text()
    found = re.search(r"export const ACTIONS = \[([^\]]*)\];", text)
    assert found, "site/config.js declares no ACTIONS"
    assert re.findall(r"'(\w+)'", found[1]) == list(site_content.SITE_ACTIONS)
