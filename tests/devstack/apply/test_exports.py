"""What an apply returns and leaves behind: exports resolved (invokes answered by the target,
secrets in plain), applies that do not see each other's config or resources, and a program
folder run with its own stack file and modules."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_aws as aws

from devstack.apply import apply_function, apply_program
from tests.support.local_apply import account_of, write_handler


def test_exports_are_resolved_with_invokes_answered_by_the_target(
    factory: Callable, unique: str
) -> None:
    def program() -> None:
        group = aws.cloudwatch.LogGroup("logs", name=f"/exports/{unique}")
        identity = aws.get_caller_identity()
        pulumi.export("account", identity.account_id)
        pulumi.export("region", aws.get_region_output().region)
        pulumi.export("nested", {"names": [group.name], "arn": group.arn, "plain": 3})
        pulumi.export("secret", pulumi.Output.secret("s3cr3t"))
        pulumi.export("stage", pulumi.Config().require("stage"))

    result = apply_function(program, factory, config={"stage": "local"})
    account = account_of(factory)
    assert result.outputs == {
        "account": account,
        "region": "us-east-1",
        "nested": {
            "names": [f"/exports/{unique}"],
            "arn": f"arn:aws:logs:us-east-1:{account}:log-group:/exports/{unique}",
            "plain": 3,
        },
        "secret": "s3cr3t",
        "stage": "local",
    }
    assert result.seconds > 0
    assert [(r.type, r.name, r.id) for r in result.resources] == [
        ("aws:cloudwatch/logGroup:LogGroup", "logs", f"/exports/{unique}"),
    ]


def test_successive_applies_do_not_see_each_other(factory: Callable, unique: str) -> None:
    def first() -> None:
        aws.cloudwatch.LogGroup("first", name=f"/first/{unique}")
        pulumi.export("flag", pulumi.Config().get("flag"))
        pulumi.export("onlyFirst", 1)

    def second() -> None:
        aws.cloudwatch.LogGroup("second", name=f"/second/{unique}")
        pulumi.export("flag", pulumi.Config().get("flag"))

    # The caller's own runtime context (e.g. mocked unit tests earlier in this process, which
    # leave their root stack set) must be exactly as it was before the applies.
    callers_root = pulumi.runtime.settings.get_root_resource()
    a = apply_function(first, factory, config={"flag": "on"})
    b = apply_function(second, factory)
    assert a.outputs == {"flag": "on", "onlyFirst": 1}
    assert b.outputs == {"flag": None}
    assert [r.name for r in b.resources] == ["second"]
    assert pulumi.runtime.settings.get_root_resource() is callers_root
    assert pulumi.runtime.get_config("pets:flag") is None


def test_apply_program_runs_a_folder_with_its_stack_config(
    factory: Callable, unique: str, tmp_path: Path
) -> None:
    program_dir = tmp_path / "program"
    write_handler(program_dir / "code")
    (program_dir / "Pulumi.yaml").write_text("name: pets\nruntime: python\n")
    (program_dir / "Pulumi.local.yaml").write_text(
        "config:\n  pets:prefix: from-file\n  pets:retention: 7\n  pets:limits:\n    burst: 40\n"
    )
    (program_dir / "naming.py").write_text(f"SUFFIX = {unique!r}\n")
    (program_dir / "__main__.py").write_text(
        textwrap.dedent("""
        from pathlib import Path

        import pulumi
        import pulumi_aws as aws
        from naming import SUFFIX

        config = pulumi.Config()
        group = aws.cloudwatch.LogGroup(
            "logs",
            name=f"/{config.require('prefix')}/{SUFFIX}",
            retention_in_days=config.require_int("retention"),
        )
        pulumi.export("group", group.name)
        pulumi.export("burst", config.require_object("limits")["burst"])
        # A relative path resolves against the program folder, as under the CLI.
        pulumi.export("codeFiles", sorted(p.name for p in Path("code").iterdir()))
        """)
    )
    cwd = os.getcwd()
    result = apply_program(program_dir, "local", factory, {"prefix": "overridden"})
    assert result.outputs == {
        "group": f"/overridden/{unique}",
        "burst": 40,
        "codeFiles": ["app.py", "lib"],
    }
    groups = factory("logs").describe_log_groups(logGroupNamePrefix=f"/overridden/{unique}")[
        "logGroups"
    ]
    assert groups[0]["retentionInDays"] == 7
    assert os.getcwd() == cwd
    assert "naming" not in sys.modules  # the program's own modules are forgotten afterwards
