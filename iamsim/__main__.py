"""`python -m iamsim matrix [--stack local] [--set pets:key=value ...]`

Prints the offline Invoke and trust matrices of what the program would deploy for the stack, and
exits 1 if they differ from the model (or a must-never-allow request is allowed), 2 on a usage or
config error. Starts nothing: the program runs under Pulumi mocks, IAM is evaluated by Node.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from components.config import ConfigError
from iamsim.engine import EngineUnavailable, SimulationError
from iamsim.matrix import offline_matrices
from iamsim.synth import UnsupportedProgram


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key if ":" in key else f"pets:{key}", value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m iamsim", description=__doc__.split("\n")[2])
    commands = parser.add_subparsers(dest="command", required=True)
    matrix = commands.add_parser("matrix", help="offline access matrices of a stack")
    matrix.add_argument("--stack", default="local",
                        help="reads Pulumi.<stack>.yaml (default: local)")
    matrix.add_argument("--set", dest="overrides", type=_override, action="append", default=[],
                        metavar="KEY=VALUE", help="override a config value, e.g. oidcIssuer=...")
    args = parser.parse_args(argv)

    try:
        result = offline_matrices(args.stack, overrides=dict(args.overrides))
    except (ConfigError, FileNotFoundError, UnsupportedProgram) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (EngineUnavailable, SimulationError) as err:
        print(f"the offline IAM engine failed: {err}", file=sys.stderr)
        return 2
    print(result.render())
    problems = result.problems()
    if problems:
        print(f"\nFAIL: {len(problems)} problem(s); see above.")
        return 1
    print("\nOK: the offline matrices agree with the model.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
