"""The pack as the Pulumi CLI starts it: `python -m pulumi.policy <engine> policy`.

The CLI runs the folder as a script (runpy.run_path), so only policy/ is on
sys.path; constructing the real PolicyPack would start a gRPC server and
block, so the test swaps in a recorder.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from policy import rules

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policy"

_RUNNER = """
import json, runpy, sys
import pulumi_policy
seen = {}
class Recorder:
    def __init__(self, **kwargs):
        seen.update(kwargs)
pulumi_policy.PolicyPack = Recorder
runpy.run_path(sys.argv[1], run_name="__main__")
print(json.dumps({"name": seen["name"], "level": seen["enforcement_level"].value,
                  "policies": [p.name for p in seen["policies"]]}))
"""


def test_main_builds_the_pack_from_the_rules_module(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", _RUNNER, str(PACK)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    pack = json.loads(result.stdout.strip().splitlines()[-1])
    assert pack == {"name": rules.PACK_NAME, "level": "mandatory",
                    "policies": [p.name for p in rules.POLICIES]}


def test_pulumi_policy_yaml_runs_python_in_the_project_venv():
    config = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert config["runtime"]["name"] == "python"
    venv = (PACK / config["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == ROOT / ".venv", venv
    assert config["description"]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, sep, version = line.partition("==")
            assert sep, f"{path.name}: {line!r} is not pinned with =="
            pins[re.sub(r"[-_.]+", "-", name.lower())] = version
    return pins


def test_pack_requirements_are_pinned_like_the_project():
    ours = _pins(PACK / "requirements.txt")
    project = _pins(ROOT / "constraints.txt")
    assert "pulumi-policy" in ours
    drift = {name: (v, project.get(name)) for name, v in ours.items() if project.get(name) != v}
    assert not drift, f"policy/requirements.txt differs from constraints.txt: {drift}"
