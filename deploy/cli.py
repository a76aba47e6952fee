"""The driver of `make preview` / `make deploy`: `python -m deploy preview|up --stack S [args]`.

1. The stack's settings as the program will see them (`pulumi config --json`), parsed by
   components.config, so a bad setting fails here with the parser's message.
2. The preflight (deploy/preflight.py) against the account, with the operator's credentials
   and the stack's aws:region / aws:profile: any problem stops here, before anything exists.
3. The stack's state (`pulumi stack export`) against access.py: routes the model dropped.
4. `pulumi preview|up --stack S --policy-pack policy [args]`; after an `up` that removed routes,
   `pulumi up --replace <deployment>` so the stage stops serving them (deploy/state.py).

Extra arguments (`--yes`, `--diff`, ...) go to every `pulumi preview|up` it runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from components.config import ConfigError, parse_settings
from deploy import preflight, state

ROOT = Path(__file__).resolve().parents[1]  # the Pulumi project (Pulumi.yaml)
INSTALL_URL = "https://www.pulumi.com/docs/install/"
POLICY_PACK = "policy"


class PulumiFailed(Exception):
    """A `pulumi` command the driver reads from failed; its own message went to stderr."""

    def __init__(self, returncode: int) -> None:
        super().__init__(returncode)
        self.returncode = returncode


def _say(message: str) -> None:
    print(f"deploy: {message}", file=sys.stderr, flush=True)


def _read(pulumi: str, *args: str) -> Any:
    """A read-only `pulumi` command's JSON answer."""
    done = subprocess.run([pulumi, *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        _say(f"`pulumi {' '.join(args)}` failed (exit {done.returncode})")
        raise PulumiFailed(done.returncode)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError as err:
        _say(f"`pulumi {' '.join(args)}` did not answer JSON ({err})")
        raise PulumiFailed(1) from None


def stack_config(pulumi: str, stack: str) -> dict[str, str]:
    """The stack's config as the program receives it: `key -> text`, objects as JSON text.

    Secrets are decrypted (as the program sees them) but never printed: only placeholders
    are quoted back, which no secret is.
    """
    entries = _read(pulumi, "config", "--json", "--show-secrets", "--stack", stack)
    return {key: entry["value"] for key, entry in entries.items()
            if isinstance(entry, Mapping) and isinstance(entry.get("value"), str)}


def _run(pulumi: str, *args: str) -> int:
    _say(f"pulumi {' '.join(args)}")
    return subprocess.run([pulumi, *args], cwd=ROOT, check=False).returncode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m deploy",
        allow_abbrev=False,  # a pulumi option never passes for an abbreviation of ours
        description="Check the stack's settings against the AWS account, then run "
                    "`pulumi preview|up --policy-pack policy` (extra arguments go to pulumi).",
    )
    parser.add_argument("command", choices=("preview", "up"))
    parser.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
    return parser


def main(
    argv: Sequence[str] | None = None,
    account: Callable[[str | None, str | None], preflight.AccountClients] = (
        preflight.account_clients),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    args, extra = _parser().parse_known_args(argv)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        _say(f"the Pulumi CLI is not installed: {INSTALL_URL}")
        return 1
    stack = args.stack
    try:
        raw = stack_config(pulumi, stack)
        settings = parse_settings(stack, raw)
        clients = account(raw.get("aws:region"), raw.get("aws:profile"))
    except ConfigError as err:
        _say(f"stack {stack}: {err}")
        return 1
    except PulumiFailed as err:
        return err.returncode

    problems = preflight.run_preflight(settings, raw, clients, now())
    for note in preflight.notes(settings):
        _say(f"note: {note}")
    if problems:
        for problem in problems:
            _say(f"preflight: {problem}")
        _say(f"stack {stack}: {len(problems)} problem(s) found before anything was created or "
             "changed; fix them and run again")
        return 1
    _say(f"preflight of stack {stack} in {clients.region}: passed")

    try:
        export = _read(pulumi, "stack", "export", "--stack", stack)
    except PulumiFailed as err:
        return err.returncode
    removed = state.removed_routes(export)
    if removed:
        _say(f"the stage still serves {', '.join(removed)}, which access.py no longer has: "
             "Pulumi creates the new API deployment before it deletes a removed method "
             "(pulumi/pulumi-aws#3289), so `make deploy` replaces the deployment once more "
             "after its `up` to take them out of the stage")
    base = ("--stack", stack, "--policy-pack", POLICY_PACK)
    code = _run(pulumi, args.command, *base, *extra)
    if code != 0 or args.command != "up" or not removed:
        return code
    urns = state.deployment_urns(export)
    if not urns:
        _say("no API deployment in the stack's state to replace: nothing more to do")
        return 0
    _say(f"redeploying the stage without {', '.join(removed)}")
    replace = [arg for urn in urns for arg in ("--replace", urn)]
    return _run(pulumi, "up", *base, *replace, *extra)
