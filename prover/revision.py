"""The program at another git revision, synthesized beside the working tree's (access-diff).

`git archive <revision>` is unpacked into a temporary folder, without its harness packages;
a subprocess runs the one recording run (iamsim.synth on harness_core.recorder, the working
tree's harness) with that folder first on sys.path, so access.py, components/ and the stack
files are the revision's. It prints the synthesized documents and model of each stack asked
for (all of them when none is named) as JSON (`python -m prover.revision <folder> <lambda
package> [stack ...]`), read back here into Subjects.
What is built rather than committed comes from this checkout: the Lambda package (the
pets:lambdaPackage given) and the site's vendored libraries; the policies depend on neither.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import access
from components.config import Settings
from harness_core.errors import HarnessError
from iamsim.synth import Role, Synthesized
from prover.subject import ROOT, Subject

HARNESS = ("harness_core", "iamsim", "prover", "devstack", "bench", "tests")


class RevisionError(HarnessError):
    """The revision cannot be read or its program does not run; the message says which."""


def _route(route: access.Route) -> dict[str, Any]:
    return dataclasses.asdict(route)


def _class(user_class: access.UserClass) -> dict[str, Any]:
    m = user_class.members
    return {"name": user_class.name, "description": user_class.description,
            "routes": [_route(r) for r in user_class.routes],
            "members": {"sub_patterns": list(m.sub_patterns), "subjects": list(m.subjects),
                        "session_tags": dict(m.session_tags)}}


def to_json(s: Synthesized) -> dict[str, Any]:
    """What a diff needs of a synthesized stack, as plain JSON."""
    return {
        "stack": s.stack, "issuer": s.settings.oidc_issuer, "account": s.account,
        "region": s.region, "api_id": s.api_id, "stage": s.stage, "client_id": s.client_id,
        "classes": [_class(c) for c in s.settings.user_classes],
        "class_roles": {k: dataclasses.asdict(r) for k, r in s.class_roles.items()},
        "other_roles": [dataclasses.asdict(r) for r in s.other_roles],
        "method_authorization": [[m, p, a] for (m, p), a in s.method_authorization.items()],
        "api_policy": s.api_policy,
    }


def _role(data: Mapping[str, Any]) -> Role:
    return Role(data["name"], data["arn"], data["trust_policy"],
                tuple(data["identity_policies"]))


def from_json(data: Mapping[str, Any], source: str) -> Subject:
    """A Subject of the revision's documents; its model is rebuilt with this checkout's access
    classes (the values are the revision's)."""
    classes = tuple(access.UserClass(
        c["name"], tuple(access.Route(**{**r, "table_actions": tuple(r["table_actions"])})
                         for r in c["routes"]),
        access.Membership(tuple(c["members"]["sub_patterns"]), tuple(c["members"]["subjects"]),
                          c["members"]["session_tags"]), c["description"])
        for c in data["classes"])
    settings = Settings(data["stack"], data["issuer"], data["client_id"], classes,
                        stage=data["stage"])
    synthesized = Synthesized(
        stack=data["stack"], settings=settings, account=data["account"],
        region=data["region"], api_id=data["api_id"], stage=data["stage"],
        client_id=data["client_id"],
        class_roles={k: _role(r) for k, r in data["class_roles"].items()},
        other_roles=tuple(_role(r) for r in data["other_roles"]),
        method_authorization={(m, p): a for m, p, a in data["method_authorization"]},
        api_policy=data["api_policy"])
    return Subject(synthesized, source, root=Path("/nonexistent"))


def _unpack(revision: str, root: Path, folder: Path) -> None:
    archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", revision],
                             capture_output=True, timeout=120)
    if archive.returncode != 0:
        raise RevisionError(f"git archive {revision}: {archive.stderr.decode().strip()} "
                            "(BASE must name a commit of this repository, e.g. HEAD~1)")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    for package in HARNESS:
        shutil.rmtree(folder / package, ignore_errors=True)
    # Built, not committed: the site's vendored libraries (the program ships them; the policies
    # do not depend on them), taken from this checkout.
    vendor = root / "site" / "vendor"
    if vendor.is_dir() and not (folder / "site" / "vendor").exists():
        (folder / "site").mkdir(exist_ok=True)
        (folder / "site" / "vendor").symlink_to(vendor, target_is_directory=True)


def synthesize_revision(revision: str, lambda_package: Path, root: Path = ROOT,
                        stacks: Sequence[str] = ()) -> dict[str, Subject]:
    """{stack: Subject} of the stack files at `revision`: those of `stacks` it has, or every
    one when `stacks` is empty (a synthesis takes about a second; a diff of one stack needs
    the others of neither revision)."""
    with tempfile.TemporaryDirectory(prefix="pets-revision-") as tmp:
        folder = Path(tmp)
        _unpack(revision, root, folder)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), str(root)])}
        run = subprocess.run([sys.executable, "-m", "prover.revision", str(folder),
                              str(lambda_package), *stacks], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise RevisionError(f"the program at {revision} did not synthesize:\n"
                            f"{run.stderr[-3000:]}")
    return {stack: from_json(data, f"synthesized at {revision}")
            for stack, data in json.loads(run.stdout).items()}


def main(folder: str, lambda_package: str, *stacks: str) -> None:
    """In the subprocess: the stack files of `folder` (those of `stacks` it has, or all),
    synthesized, as JSON on stdout."""
    from harness_core.stack_files import stack_file_config, stack_names
    from iamsim.synth import synthesize

    found = {}
    present = stack_names(Path(folder))
    for stack in [s for s in stacks if s in present] if stacks else present:
        config = {**stack_file_config(Path(folder) / f"Pulumi.{stack}.yaml"),
                  "pets:lambdaPackage": lambda_package}
        found[stack] = to_json(synthesize(config, stack))
    sys.stdout.write(json.dumps(found))


if __name__ == "__main__":
    main(*sys.argv[1:])
