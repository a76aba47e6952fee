"""ACCESS.md is what the model says, and reads back as the model's matrix."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

import access
from harness_core.recorder import ProgramRun
from policy import access_doc
from tests.support.generated import assert_up_to_date

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "ACCESS.md"
HEALTH = access.Route("GET", "/health", "health", (), public=True, summary="liveness | probe")


def test_access_md_is_up_to_date():
    assert_up_to_date(DOC, access_doc.render() + "\n", source="access.py",
                      command="make access")


def test_checked_in_matrix_is_the_models():
    assert access_doc.access_matrix_from_doc(DOC) == access.access_matrix()


def test_matrix_reads_back_for_another_model(tmp_path):
    """A third class, a public route and a changed grant all survive render -> parse."""
    routes = (*access.ROUTES, HEALTH)
    auditor = access.UserClass("auditor", routes=(access.LIST_PETS,),
                               members=access.Membership(subjects=("auth0|audit",),
                                                         session_tags={"team": "audit"}))
    buyer = dataclasses.replace(access.BUYER, routes=(access.PURCHASE_PET,))
    classes = (access.ADMIN, buyer, auditor)
    path = tmp_path / "ACCESS.md"
    path.write_text(access_doc.render(classes, routes), encoding="utf-8")
    parsed = access_doc.access_matrix_from_doc(path)
    assert parsed == access.access_matrix(classes, routes)
    assert parsed["buyer"]["GET /pets"] is False
    assert parsed["auditor"]["GET /health"] is True  # public: every class


def test_rendered_doc_says_what_reviewers_need():
    text = access_doc.render(routes=(*access.ROUTES, HEALTH))
    assert "| `GET /health` (public) | ✔ | ✔ |" in text
    assert "`GET /health` (no signature needed" in text
    assert "liveness \\| probe" in text
    assert "- Role: `pets-<stack>-admin`" in text
    assert "  - `sub` like `google-oauth2|*` (StringLike `<issuer>:sub`)" in text
    assert ("  - session tags `pets-class=admin` (StringEquals `aws:RequestTag/<key>`, from the "
            "token's `https://aws.amazon.com/tags` claim; needs `sts:TagSession`)") in text
    assert ("| `DELETE /pets/{petId}` | remove one unsold pet | AWS_IAM | `remove_pet` "
            "| `pets-<stack>-remove-pet` | `pets-<stack>-remove-pet-fn` "
            "| `dynamodb:DeleteItem`, `dynamodb:GetItem` |") in text


@pytest.mark.parametrize(("old", "new", "error"), [
    ("| `POST /pets` | ✔ | ✘ |", "| `POST /pets` | yes | ✘ |", "neither ✔ nor ✘"),
    ("| `POST /pets` | ✔ | ✘ |", "| POST /pets | ✔ | ✘ |", "malformed matrix row"),
    ("| `POST /pets` | ✔ | ✘ |", "| `POST /pets` | ✔ |", "malformed matrix row"),
    ("## Matrix", "## Grid", "no '## Matrix' section"),
])
def test_malformed_doc_is_refused(tmp_path, old, new, error):
    path = tmp_path / "ACCESS.md"
    text = access_doc.render()
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        access_doc.access_matrix_from_doc(path)


def test_names_match_what_the_program_declares(program: ProgramRun):
    """The doc's name patterns are the program's, checked with the stack `unit`."""
    names = {d.inputs.get("name") for d in program.declared}
    for user_class in access.USER_CLASSES:
        assert access_doc.role_name(user_class, "unit") in names, user_class.name
    for route in access.ROUTES:
        assert access_doc.function_name(route, "unit") in names, route.id
        assert access_doc.execution_role_name(route, "unit") in names, route.id
    assert access_doc.table_name("unit") in names


def test_make_access_command_writes_the_doc():
    """`make access` runs exactly this; the marks are written as UTF-8 whatever the locale."""
    result = subprocess.run([sys.executable, "-m", "policy.access_doc"], cwd=ROOT,
                            env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode("utf-8") == access_doc.render() + "\n"


def test_who_becomes_which_class_is_documented_for_every_stack_file():
    tables = access_doc.who_becomes_from_doc(DOC)
    assert set(tables) >= {"dev", "local", "prod"}
    for stack, table in tables.items():
        assert table["self-registered database user"] == [], stack
        assert table["social-login user"] == ["buyer"], stack
        assert table["admin by grant tag"] == ["admin"], stack


def test_who_becomes_reads_back_a_stack_that_admits_strangers(tmp_path):
    """The seed's rule, if it ever got past the model, must show in the table."""
    admin = access.UserClass("admin", routes=(access.LIST_PETS,),
                             members=access.Membership(sub_patterns=("auth0|*",)))
    settings = dataclasses.replace(access_doc.stack_settings()[0], stack="seed",
                                   user_classes=(admin, access.BUYER))
    path = tmp_path / "ACCESS.md"
    path.write_text(access_doc.render(stacks=[settings]), encoding="utf-8")
    table = access_doc.who_becomes_from_doc(path)["seed"]
    assert table["self-registered database user"] == ["admin"]
