"""python -m prover prove | diff: the access proof from the shell (make prove, make access-diff).

`prove` proves every Pulumi.<stack>.yaml on the policies the program synthesizes for it (or the
stacks named). The running local stack's deployed policies: `python -m devstack prove`.
Exit status: 0 proved, 1 a theorem is false (counterexamples name the class), 2 undecided,
an engine disagreement, or bad usage (prover/report.py).

`diff --base REV` proves what the working tree grants and revokes against the git revision REV,
class by class, over every request (prover/diff.py); exit 1 when anything is granted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from components.config import ConfigError
from harness_core.errors import HarnessError
from harness_core.stack_files import stack_names
from prover.diff import access_diff
from prover.report import prove_subject
from prover.subject import ROOT, synthesized_subject


def _prove(stacks: Sequence[str], replay: bool) -> int:
    worst = 0
    for stack in stacks or stack_names(ROOT):
        report = prove_subject(synthesized_subject(stack), replay=replay)
        print(report.render())
        worst = max(worst, report.exit_code)
    print({0: "OK: every theorem proved for every stack file.",
           1: "FAIL: a theorem is false; see the counterexamples above.",
           2: "ERROR: not proved (see `cannot prove` or ENGINE DISAGREEMENT above)."}[worst])
    return worst


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prover", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    prove = sub.add_parser("prove", help="prove every stack file's synthesized policies")
    prove.add_argument("stacks", nargs="*", metavar="STACK",
                       help="stack files to prove (default: every Pulumi.<stack>.yaml)")
    prove.add_argument("--no-replay", action="store_true",
                       help="do not replay counterexamples through iam-simulate")
    diff = sub.add_parser("diff", help="what the working tree grants and revokes against BASE")
    diff.add_argument("--base", required=True, help="the git revision to compare with")
    diff.add_argument("--lambda-package", type=Path, default=ROOT / "build" / "lambda",
                      help="a built Lambda package folder (default: this checkout's)")
    diff.add_argument("stacks", nargs="*", metavar="STACK",
                      help="stack files to compare (default: every one)")
    args = parser.parse_args(argv)
    try:
        if args.command == "diff":
            text, status = access_diff(args.base, lambda_package=args.lambda_package.resolve(),
                                       stacks=args.stacks)
            print(text)
            return status
        if args.command == "prove":
            unknown = set(args.stacks) - set(stack_names(ROOT))
            if unknown:
                parser.error(f"no Pulumi.<stack>.yaml for {', '.join(sorted(unknown))}")
            return _prove(args.stacks, not args.no_replay)
    except (HarnessError, ConfigError, ValueError) as err:  # CannotProve is a HarnessError
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0  # pragma: no cover
