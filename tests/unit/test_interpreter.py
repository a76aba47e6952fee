"""scripts/interpreter.py finds a Python X.Y in the documented order, with fake executables:
a script that says it is some Python (prints what the probe asks: "<major> <minor>" and its
sys.executable), a pyenv shim that fails as pyenv's do without PYENV_VERSION, a fake pyenv and
a fake uv. No real interpreter is run; each step is shown to find one, and to be passed over
when what it finds does not work."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scripts import interpreter
from scripts.interpreter import PythonNotFound, find

SHIM_ERROR = "pyenv: python3.12: command not found"


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_python(path: Path, version: str = "3.12", reports: str | None = None) -> Path:
    """An executable that answers the probe as Python `version` whose sys.executable is
    `reports` (default: itself)."""
    major, minor = version.split(".")
    return _script(path, f'echo "{major} {minor}"\necho "{reports or path}"\n')


def failing_shim(path: Path) -> Path:
    return _script(path, f'echo "{SHIM_ERROR}" >&2\nexit 127\n')


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment with nothing in it: empty PATH folder, a HOME without pyenv."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "home").mkdir()
    return {"PATH": str(tmp_path / "empty"), "HOME": str(tmp_path / "home")}


def test_setting_name_and_version_format() -> None:
    assert interpreter.setting_name("3.12") == "PETS_PYTHON312"
    assert interpreter.setting_name("3.13") == "PETS_PYTHON313"
    with pytest.raises(ValueError, match=r"give major\.minor"):
        interpreter.setting_name("python3.12")


def test_the_explicit_setting_comes_first(tmp_path: Path, env: dict[str, str]) -> None:
    on_path = fake_python(tmp_path / "bin" / "python3.12")
    chosen = fake_python(tmp_path / "chosen" / "python", reports="/opt/chosen/python3.12")
    env.update(PATH=str(on_path.parent), PETS_PYTHON312=str(chosen))
    assert find("3.12", environ=env, uv=None) == "/opt/chosen/python3.12"


def test_a_wrong_setting_is_an_error_not_replaced(tmp_path: Path, env: dict[str, str]) -> None:
    fake_python(tmp_path / "bin" / "python3.12")  # would work, but was not asked for
    wrong = fake_python(tmp_path / "other" / "python", version="3.11")
    env.update(PATH=str(tmp_path / "bin"), PETS_PYTHON312=str(wrong))
    with pytest.raises(PythonNotFound) as raised:
        find("3.12", environ=env, uv=None)
    assert [(a.step, a.outcome) for a in raised.value.attempts] == [
        ("PETS_PYTHON312", "is Python 3.11, not 3.12")]  # nothing else was tried


def test_a_missing_setting_says_so(tmp_path: Path, env: dict[str, str]) -> None:
    env["PETS_PYTHON312"] = str(tmp_path / "nowhere" / "python3.12")
    with pytest.raises(PythonNotFound, match=r"PETS_PYTHON312: \S+/nowhere/python3\.12: "
                                             r"does not exist"):
        find("3.12", environ=env, uv=None)


def test_path_skips_a_failing_shim_and_a_wrong_version(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    shim = failing_shim(tmp_path / "shims" / "python3.12")
    wrong = fake_python(tmp_path / "old" / "python3.12", version="3.11")
    good = fake_python(tmp_path / "real" / "python3.12")
    env["PATH"] = os.pathsep.join(str(p.parent) for p in (shim, wrong, good))
    assert find("3.12", environ=env, uv=None) == str(good)


def test_a_shim_that_works_resolves_to_the_interpreter_behind_it(tmp_path: Path,
                                                                   env: dict[str, str]) -> None:
    # pyenv's shim with PYENV_VERSION set runs the real binary, whose sys.executable is
    # its own path: that path is returned, so later runs do not need PYENV_VERSION.
    shim = fake_python(tmp_path / "shims" / "python3.12",
                       reports="/home/u/.pyenv/versions/3.12.4/bin/python3.12")
    env["PATH"] = str(shim.parent)
    assert find("3.12", environ=env, uv=None) == "/home/u/.pyenv/versions/3.12.4/bin/python3.12"


def _pyenv_root(root: Path, *versions: str, broken: tuple[str, ...] = ()) -> Path:
    for version in versions:
        python = root / "versions" / version / "bin" / "python3.12"
        if version in broken:
            failing_shim(python)
        else:
            fake_python(python)
    return root


def test_pyenv_root_from_the_environment_highest_patch_first(tmp_path: Path,
                                                               env: dict[str, str]) -> None:
    failing_shim(tmp_path / "shims" / "python3.12")
    root = _pyenv_root(tmp_path / "pyenv", "3.12.2", "3.12.10", "3.12.9", "3.12-dev", "3.13.0")
    env.update(PATH=str(tmp_path / "shims"), PYENV_ROOT=str(root))
    # 3.12.10 > 3.12.9 > 3.12.2 (numeric, not alphabetical); 3.12-dev is not a release.
    assert find("3.12", environ=env, uv=None) == str(root / "versions/3.12.10/bin/python3.12")


def test_pyenv_passes_over_a_broken_version(tmp_path: Path, env: dict[str, str]) -> None:
    root = _pyenv_root(tmp_path / "pyenv", "3.12.2", "3.12.10", broken=("3.12.10",))
    env["PYENV_ROOT"] = str(root)
    assert find("3.12", environ=env, uv=None) == str(root / "versions/3.12.2/bin/python3.12")


def test_pyenv_root_asked_of_pyenv_then_home(tmp_path: Path, env: dict[str, str]) -> None:
    asked = _pyenv_root(tmp_path / "asked", "3.12.3")
    _script(tmp_path / "tools" / "pyenv", f'[ "$1" = root ] && echo "{asked}"\n')
    env["PATH"] = str(tmp_path / "tools")
    assert find("3.12", environ=env, uv=None) == str(asked / "versions/3.12.3/bin/python3.12")

    del env["PATH"]  # no pyenv command: ~/.pyenv of whoever runs this
    home_root = _pyenv_root(Path(env["HOME"]) / ".pyenv", "3.12.7")
    assert find("3.12", environ=env, uv=None) == str(
        home_root / "versions/3.12.7/bin/python3.12")


# The fake uv: `python find ... <version>` and `python install <version>`, as the real one.
FAKE_UV = """
for asked; do :; done  # the last argument: the version
case "$1 $2" in
  "python find")
    first=$(command -v python3.12)
    if [ -n "$first" ] && ! "$first" -c "" 2>/dev/null; then
      echo "error: Failed to inspect Python interpreter from $first" >&2; exit 2
    fi
    if [ -n "@FOUND@" ] && [ @INSTALLED@ ]; then echo "@FOUND@"; exit 0; fi
    echo "error: No interpreter found for Python $asked" >&2; exit 2 ;;
  "python install")
    @INSTALL@ ;;
esac
exit 3
"""


def fake_uv(folder: Path, found: Path | None, *, install_works: bool = False) -> Path:
    """A uv whose `python find` answers `found` (only once installed, when install_works),
    and that refuses, as the real one does, when the first python3.12 on its PATH fails."""
    marker = folder / "installed"
    return _script(folder / "uv", FAKE_UV
                   .replace("@FOUND@", str(found or ""))
                   .replace("@INSTALLED@", f'-e "{marker}"' if install_works else "-n x")
                   .replace("@INSTALL@", f': > "{marker}"; exit 0' if install_works else
                            'echo "error: failed to download: dns error" >&2; exit 1'))


def test_uv_find_runs_without_the_failing_shims_folder(tmp_path: Path,
                                                        env: dict[str, str]) -> None:
    failing_shim(tmp_path / "shims" / "python3.12")
    managed = fake_python(tmp_path / "managed" / "python3.12")
    uv = fake_uv(tmp_path / "uv", managed)
    env["PATH"] = str(tmp_path / "shims")
    assert find("3.12", environ=env, uv=str(uv)) == str(managed)


def test_uv_installs_a_managed_python_when_none_is_found(tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    managed = fake_python(tmp_path / "managed" / "python3.12")
    uv = fake_uv(tmp_path / "uv", managed, install_works=True)
    assert find("3.12", environ=env, uv=str(uv)) == str(managed)
    assert (tmp_path / "uv" / "installed").exists()


def test_no_install_when_told_not_to(tmp_path: Path, env: dict[str, str]) -> None:
    managed = fake_python(tmp_path / "managed" / "python3.12")
    uv = fake_uv(tmp_path / "uv", managed, install_works=True)
    with pytest.raises(PythonNotFound, match=r"uv python install: 3\.12: skipped"):
        find("3.12", environ=env, uv=str(uv), install=False)
    assert not (tmp_path / "uv" / "installed").exists()


def test_nothing_found_names_every_attempt_and_how_to_install(tmp_path: Path,
                                                              env: dict[str, str]) -> None:
    shim = failing_shim(tmp_path / "shims" / "python3.12")
    uv = fake_uv(tmp_path / "uv", None)  # finds nothing; the download fails (no network)
    env.update(PATH=str(shim.parent), PYENV_ROOT=str(tmp_path / "no-pyenv"))
    with pytest.raises(PythonNotFound) as raised:
        find("3.12", environ=env, uv=str(uv))
    attempts = [(a.step, a.outcome) for a in raised.value.attempts]
    assert attempts == [
        ("PETS_PYTHON312", "skipped"),
        ("PATH", f"exited 127 ({SHIM_ERROR})"),
        ("pyenv ($PYENV_ROOT)", "none installed"),
        ("uv python find", "error: No interpreter found for Python 3.12"),
        ("uv python install", "failed: error: failed to download: dns error"),
    ]
    message = str(raised.value)
    assert message.startswith("no working Python 3.12 found")
    for hint in ("uv python install 3.12", "pyenv install 3.12", "PETS_PYTHON312"):
        assert hint in message


def test_no_uv_is_said(env: dict[str, str]) -> None:
    with pytest.raises(PythonNotFound, match="uv: uv: not found beside this Python or on PATH"):
        find("3.13", environ=env, uv=None)
