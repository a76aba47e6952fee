"""scripts/bytecode.py: the venv's byte code leaves out only the pulumi_aws subpackages nothing
in the repository names."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from scripts import bytecode


def compiled(path: Path) -> bool:
    return Path(importlib.util.cache_from_source(str(path))).exists()


def test_the_programs_subpackages_are_named() -> None:
    files = bytecode.python_files(bytecode.ROOT / s for s in ("components", "account"))
    named = bytecode.named_aws_subpackages(files)
    assert {"iam", "apigateway", "lambda_", "dynamodb", "s3"} <= named, named


def test_only_unnamed_subpackages_are_skipped() -> None:
    skip = bytecode.unused_aws_modules({"iam", "lambda_"})
    assert skip.search("/v/site-packages/pulumi_aws/ec2/instance.py")
    assert skip.search("/v/site-packages/pulumi_aws/lambda_x/f.py")
    assert not skip.search("/v/site-packages/pulumi_aws/iam/role.py")
    assert not skip.search("/v/site-packages/pulumi_aws/lambda_/function.py")
    assert not skip.search("/v/site-packages/pulumi_aws/_utilities.py")
    assert not skip.search("/v/site-packages/pulumi/resource.py")


def test_the_venv_is_compiled_but_for_unnamed_subpackages(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    files = {name: site / name for name in (
        "pulumi_aws/__init__.py", "pulumi_aws/iam/role.py", "pulumi_aws/ec2/instance.py",
        "boto3/session.py")}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("X = 1\n")
    program = tmp_path / "program.py"
    program.write_text("import pulumi_aws as aws\nrole = aws.iam.Role('r')\n")
    assert bytecode.venv(site, [program])
    assert {name: compiled(path) for name, path in files.items()} == {
        "pulumi_aws/__init__.py": True, "pulumi_aws/iam/role.py": True,
        "pulumi_aws/ec2/instance.py": False, "boto3/session.py": True}
