"""Where the emulator unpacks Lambda packages: in memory for `make up` and the tests' session
stack (paths.memory_scratch, emulator.start(in_memory=True)), in .devstack/tmp for everything
else, and gone after stop."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest

from devstack import paths
from devstack.clients import EXTERNAL_ENDPOINT_ENV
from devstack.processes import emulator, procs
from tests.support.private import private_name


def _environment(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _gone(folder: Path, timeout: float = 30.0) -> bool:
    """The folder and the copy stop() moved aside to delete in the background are gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not folder.exists() and not list(folder.parent.glob(f".trash-{folder.name}-*")):
            return True
        time.sleep(0.1)
    return False


def test_memory_scratch_is_a_new_private_folder(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "MEMORY", tmp_path)
    first, second = paths.memory_scratch("emulator"), paths.memory_scratch("emulator")
    assert first is not None and second is not None and first != second
    for folder in (first, second):
        assert folder.parent == tmp_path and folder.name.startswith("pets-devstack-emulator-")
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # no other user may write in it


def test_no_memory_scratch_without_room_or_memory(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "MEMORY", tmp_path)
    monkeypatch.setattr(paths, "MEMORY_MIN_FREE_BYTES", 1 << 62)
    assert paths.memory_scratch("emulator") is None
    monkeypatch.setattr(paths, "MEMORY", tmp_path / "missing")
    monkeypatch.setattr(paths, "MEMORY_MIN_FREE_BYTES", 0)
    assert paths.memory_scratch("emulator") is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("in_memory", [True, False], ids=["in-memory", "on-disk"])
def test_the_emulator_works_in_its_scratch_and_stop_removes_it(
        in_memory: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EXTERNAL_ENDPOINT_ENV, raising=False)
    monkeypatch.setattr(paths, "MEMORY", tmp_path)  # stands for /dev/shm
    name = private_name(f"emulator-scratch-{in_memory}")
    emulator.stop(name)
    target = emulator.start(procs.free_port(), name=name, in_memory=in_memory)
    try:
        managed = procs.running(name)
        assert managed is not None and target.pid is not None
        scratch = Path(managed.info["scratch"])
        expected = tmp_path if in_memory else paths.TMP
        assert scratch.parent == expected, scratch
        # MiniStack makes each worker's folder (the unpacked package) under its TMPDIR.
        assert _environment(target.pid)["TMPDIR"] == str(scratch)
        assert scratch.is_dir()
    finally:
        assert emulator.stop(name) is True
    assert _gone(scratch)
