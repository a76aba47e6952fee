"""`make access-diff BASE=<rev>` on a throwaway clone of this repository: a commit that gives the
buyer `DELETE /pets/{petId}` is reported with a witness ARN and exits 1; a commit that takes it
back, and no change at all, exit 0; a membership widened in a stack file is reported with a
witness token."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness_core.stack_files import stack_names
from iamsim import synth
from prover import revision

ROOT = Path(__file__).resolve().parents[2]
GIT = ["git", "-c", "user.name=access-diff test", "-c", "user.email=test@example.com"]


def git(repo: Path, *args: str) -> None:
    subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def access_diff(repo: Path, base: str, *stacks: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prover", "diff", "--base", base, "--lambda-package",
         str(ROOT / "build" / "lambda"), *stacks],
        cwd=repo, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository's HEAD with the built site libraries linked in."""
    clone = tmp_path_factory.mktemp("access-diff") / "pets"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    (clone / "site" / "vendor").symlink_to(ROOT / "site" / "vendor", target_is_directory=True)
    return clone


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer holds {old!r}: update this test"
    path.write_text(text.replace(old, new, 1))


BUYER_ROUTES = "    routes=(LIST_PETS, PURCHASE_PET),\n"
REMOVE_SUMMARY = '    summary="remove one unsold pet",\n'


def test_a_commit_giving_the_buyer_delete_is_a_grant_with_a_witness(repo: Path) -> None:
    edit(repo / "access.py", BUYER_ROUTES, "    routes=(LIST_PETS, PURCHASE_PET, REMOVE_PET),\n")
    # A buyer is a stranger: the route must stop counting as managing the shop, or access.py
    # refuses the class (explicit grants only).
    edit(repo / "access.py", REMOVE_SUMMARY, REMOVE_SUMMARY + "    manages_shop=False,\n")
    git(repo, "commit", "-qam", "buyers may remove pets")
    result = access_diff(repo, "HEAD~1", "local")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "buyer: GRANTED the model grants DELETE /pets/{petId}" in out
    assert ("buyer: GRANTED execute-api:Invoke: arn:aws:sts::123456789012:assumed-role/"
            "pets-local-buyer/witness") in out
    assert "invoking arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/local/DELETE/pets/" \
           in out
    assert "admin:" not in out  # nothing else changed
    assert out.rstrip().endswith("ACCESS GRANTED: review required.")


def test_taking_it_back_revokes_and_exits_0(repo: Path) -> None:
    git(repo, "revert", "--no-edit", "HEAD")
    result = access_diff(repo, "HEAD~1", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "buyer: revoked the model no longer grants DELETE /pets/{petId}" in result.stdout
    assert "buyer: revoked execute-api:Invoke" in result.stdout
    assert "GRANTED" not in result.stdout


def test_no_change_exits_0(repo: Path) -> None:
    result = access_diff(repo, "HEAD", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no access granted or revoked" in result.stdout


def test_a_widened_membership_in_a_stack_file_is_a_grant_of_tokens(repo: Path) -> None:
    edit(repo / "Pulumi.local.yaml", 'subjects: ["auth0|alice"]', 'subjects: ["auth0|alice", '
         '"auth0|bob"]')
    git(repo, "commit", "-qam", "bob is an admin")
    result = access_diff(repo, "HEAD~1", "local")
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "admin: GRANTED a token its trust policy admits: a token with sub 'auth0|bob'" in out
    assert "admin: GRANTED membership (widened): a token with sub 'auth0|bob'" in out
    assert "buyer:" not in out


def test_a_revision_that_is_not_there(repo: Path) -> None:
    result = access_diff(repo, "no-such-revision", "local")
    assert result.returncode == 2
    assert "git archive no-such-revision" in result.stderr


def test_the_base_is_synthesized_for_the_stacks_asked_only(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]):
    """`prover diff --base X local` synthesizes the base's `local` stack alone (a stack the
    base lacks is left out: new since then); with no stack named, every stack file."""
    synthesized: list[str] = []
    monkeypatch.setattr(synth, "synthesize", lambda _config, stack: synthesized.append(stack)
                        or stack)
    monkeypatch.setattr(revision, "to_json", lambda subject: subject)
    revision.main(str(ROOT), str(ROOT / "build" / "lambda"), "local", "new-since")
    assert synthesized == ["local"]
    assert json.loads(capsys.readouterr().out) == {"local": "local"}
    revision.main(str(ROOT), str(ROOT / "build" / "lambda"))
    assert synthesized[1:] == stack_names(ROOT)
