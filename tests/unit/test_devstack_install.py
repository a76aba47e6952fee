"""`devstack install` (every test leg's first step, `make up`'s too) runs its parts side by
side: the emulator's venv, the IdP's and iam-simulate's npm packages, the IdP's signing key.
Fakes stand in for the installers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from devstack import paths, stack
from devstack.errors import DevstackError
from iamsim import engine as iam_engine


@pytest.fixture
def parts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """What each fake part did; the two npm installs each wait until the other has started,
    which only side-by-side parts get past."""
    done: list[object] = []
    both_npm_installs = threading.Barrier(2, timeout=5)

    def npm_ci(folder: Path) -> str:
        both_npm_installs.wait()
        done.append(folder)
        return "node"

    monkeypatch.setattr(stack, "ensure_packages", npm_ci)
    monkeypatch.setattr(stack.emulator, "ensure_venv", lambda engine: done.append(engine))
    monkeypatch.setattr(stack.idp_process, "signing_key", lambda: done.append("signing key"))
    return done


def test_every_part_runs_side_by_side(parts: list[object]) -> None:
    stack.install("ministack")
    assert sorted(map(str, parts)) == sorted(
        ["ministack", "signing key", str(paths.IDP_SOURCE), str(iam_engine.PACKAGE_DIR)])


def test_a_failed_part_fails_the_install(parts: list[object],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def no_python(engine: str | None) -> None:
        raise DevstackError("ministack runs from its own venv, built by Python 3.12: none found")

    monkeypatch.setattr(stack.emulator, "ensure_venv", no_python)
    with pytest.raises(DevstackError, match=r"built by Python 3\.12"):
        stack.install("ministack")
    assert len(parts) == 3  # the others still finished: no half-written npm folder
