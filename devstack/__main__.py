"""python -m devstack up|down|seed|token|matrix|prove|install: the local stack from the
shell."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import access
from components.config import ConfigError
from devstack import clients, demo_pets, live_matrix, paths, probes, stack
from devstack.errors import DevstackError
from devstack.idp import demo_users, idp_process, login_client
from devstack.processes import emulator
from harness_core.errors import HarnessError
from harness_core.stack_files import stack_names


def _up(engine: str | None, deployer: str) -> None:
    started = time.monotonic()
    local = stack.up(engine=engine, deployer=deployer, warm=True, in_memory=True)
    outputs = local.outputs
    stack_seconds = time.monotonic() - started
    if local.apply:
        if local.baseline:
            print(f"Applied the account baseline: {len(local.baseline.resources)} resources in "
                  f"{local.baseline.seconds:.2f} s")
        print(f"Applied the `local` stack: {len(local.apply.resources)} resources in "
              f"{local.apply.seconds:.2f} s (apply), {stack_seconds:.1f} s in all")
        for warning in [*(local.baseline.warnings if local.baseline else []),
                        *local.apply.warnings]:
            print(f"  note: {warning}")
    else:
        print(f"Deployed the `{stack.pulumi_engine.STACK}` stack with `pulumi up`, "
              f"{stack_seconds:.1f} s in all")
    print(f"""
  site          {outputs['siteUrl']}
  API           {outputs['apiUrl']}
  emulator      {outputs['endpoint']}  ({_title(outputs['engine'])})
  identity      {outputs['oidcIssuer']}  (client {outputs['oidcClientId']})
  outputs       {stack.OUTPUTS_FILE.relative_to(stack.paths.REPO)}
""")
    print("Demo users: type the name on the login page (any password); the matrix below says "
          f"which class each becomes: {', '.join(demo_users.users())}")
    # An unsigned call is 3 ms; only a target that lets it through gets the (cold-start)
    # Lambda probe, to say why no matrix can be measured there.
    cannot: list[str] = []
    no_lambda = None
    if unenforced := probes.sigv4_enforced(outputs):
        cannot = [unenforced]
        if no_lambda := probes.lambda_runs(outputs):
            cannot.append(no_lambda)
    measuring = time.monotonic()
    # One login per demo user, for the matrix and the demo pets alike (none is needed where
    # neither can be had), while the functions' first calls may still run.
    logins = {} if no_lambda else live_matrix.log_in_everyone(outputs, target=local.target,
                                                              idp=local.idp)
    tags_unread = None if cannot else probes.session_tags_evaluated(
        outputs, local.target, local.idp, live_matrix.stack_classes())
    warm_up_seconds = local.wait_warm()
    if cannot:
        print("\nAccess matrix not measured: this target cannot show it.")
        for reason in cannot:
            print(f"  - {reason}")
        print("  `python -m devstack matrix --offline` evaluates the program's policies instead.")
    else:
        _matrix(outputs, local.target, local.idp, tags_unread, logins)
    matrix_seconds = time.monotonic() - measuring
    seeding = time.monotonic()
    if no_lambda:
        print(f"\nNo demo pets: this target cannot run the functions ({no_lambda}).")
    else:
        _seed(outputs, logins)
    seed_seconds = time.monotonic() - seeding
    ready_seconds = time.monotonic() - started
    print(f"\nReady in {ready_seconds:.2f} s: stack up {stack_seconds:.2f} s, "
          f"access matrix {matrix_seconds:.2f} s, demo pets {seed_seconds:.2f} s")
    # Where the time went, as data for bench/lifecycle.py (never parsed from the lines above).
    stack.TIMINGS_FILE.write_text(json.dumps({
        **local.timings, "stackUp": stack_seconds, "warmUp": warm_up_seconds,
        "matrix": None if cannot else matrix_seconds,  # None: not measured on this target
        "seed": None if no_lambda else seed_seconds, "ready": ready_seconds}) + "\n")
    print("Stop everything with `make down`.")


def _title(engine: str) -> str:
    known = emulator.ENGINES.get(engine)
    return known.title if known else "your AWS_ENDPOINT_URL"


def _seed(outputs: Mapping[str, Any], logins: Mapping[str, live_matrix.Login]) -> None:
    pets = demo_pets.seed(outputs, logins)
    listed = ", ".join(f"{p['type']} {p['price']}" + (f" (sold to {p['soldTo']})"
                                                     if p.get("sold") else "") for p in pets)
    buyers = [who.login for who in logins.values()
              if any(c.may_call(access.PURCHASE_PET) and c.name in who.credentials
                     for c in access.USER_CLASSES)]
    print(f"\nDemo pets in the shop: {listed}. Log in as {' or '.join(buyers)} to buy one "
          "(python -m devstack seed adds any that are missing).")


def _matrix(outputs: Mapping[str, Any], target: clients.Target, idp: idp_process.Idp,
            tags_unread: str | None, logins: Mapping[str, live_matrix.Login] | None = None
            ) -> None:
    """Measure, print and check person -> class -> route. tags_unread: what
    probes.session_tags_evaluated said."""
    classes = live_matrix.stack_classes()
    people, unsigned = live_matrix.measure_people(outputs, target=target, idp=idp, logins=logins)
    print("\nWho becomes which class, measured on the running stack: each demo user logs in, asks"
          "\nSTS for every class's role with their own ID token, and calls every route with what"
          "\nthey got (HTTP status per signed call; "
          f"{live_matrix.NO_CREDENTIALS} = STS refused every role, so no credentials):")
    print(live_matrix.render_people(people, unsigned))
    problems = live_matrix.people_problems(people, unsigned, classes,
                                           tags_evaluated=tags_unread is None)
    if problems:
        raise DevstackError("the measured matrix differs from access.py and "
                            "Pulumi.local.yaml:\n  " + "\n  ".join(problems))
    print("-> as access.py and Pulumi.local.yaml say (2xx where allowed, 403 elsewhere and "
          "unsigned)")
    if tags_unread:
        print(f"Not measured here: {tags_unread}. So grants by session tag were not proven on "
              "this target (alice got admin by her listed subject);\n  `python -m devstack "
              "matrix --offline` and ACCESS.md's 'who becomes which class' prove them with "
              "the offline IAM engine.")


def _offline_matrix(stack_name: str, overrides: Sequence[tuple[str, str]]) -> int:
    from iamsim.offline_matrix import offline_matrices

    result = offline_matrices(stack_name, overrides=dict(overrides))
    print(result.render())
    if problems := result.problems():
        print(f"\nFAIL: {len(problems)} problem(s); see above.")
        return 1
    print("\nOK: the offline matrices agree with the model.")
    return 0


def _prove(outputs: Path, idp_name: str, *, replay: bool, live: bool) -> int:
    """Proves the running stack's deployed policies; 0 proved, 1 counterexamples, 2 undecided
    or an engine disagreement."""
    from devstack import proof  # the prover (z3): only this command needs it

    report = proof.prove_running(stack.load_outputs(outputs), clients.current_target(),
                                 idp_process.require(name=idp_name), replay=replay, live=live)
    print(report.render())
    print({0: "OK: the deployed policies give each class exactly its access, for every request.",
           1: "FAIL: the deployed policies differ from the model; see the counterexamples.",
           2: "ERROR: not proved (see `cannot prove` or ENGINE DISAGREEMENT above)."}[
               report.exit_code])
    return report.exit_code


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key if ":" in key else f"pets:{key}", value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    target = argparse.ArgumentParser(add_help=False)  # for up and install
    target.add_argument("--target", choices=sorted(emulator.ENGINES), default=None,
                        help=f"the emulator (default ${emulator.TARGET_ENV}, else "
                             f"{emulator.DEFAULT_ENGINE}); AWS_ENDPOINT_URL overrides both")
    up = sub.add_parser("up", parents=[target],
                        help="start emulator + identity provider, apply the local stack")
    up.add_argument("--engine", choices=stack.DEPLOYERS, default="apply",
                    help="apply: the local apply (default, no Pulumi CLI needed); pulumi: "
                         "`pulumi up` of Pulumi.localstack.yaml with the Automation API")
    sub.add_parser("down", help="stop everything `up` started")
    sub.add_parser("seed", help="add the demo pets to the running stack (`up` does; the same "
                                "pets again, never a second copy)")
    token = sub.add_parser("token", help="print a fresh ID token for a demo user")
    token.add_argument("user", choices=sorted(demo_users.users()))
    token.add_argument("--idp-name", default=idp_process.NAME,
                       help="the identity provider's record name (tests run their own)")
    offline = sub.add_parser("matrix", help="measure the access matrix on the running stack")
    offline.add_argument("--offline", action="store_true",
                         help="evaluate the program's policies offline instead (iam-simulate)")
    offline.add_argument("--stack", default=stack.STACK, choices=stack_names(paths.REPO),
                         help="with --offline: the Pulumi.<stack>.yaml to evaluate")
    offline.add_argument("--set", dest="overrides", type=_override, action="append", default=[],
                         metavar="KEY=VALUE", help="with --offline: override a config value")
    prove = sub.add_parser("prove", help="prove the running stack's deployed policies (z3): "
                                         "exit 0 proved, 1 counterexamples, 2 undecided")
    prove.add_argument("--no-replay", action="store_true",
                       help="do not replay counterexamples (through iam-simulate and live)")
    prove.add_argument("--no-live", action="store_true",
                       help="replay counterexamples through iam-simulate only")
    prove.add_argument("--outputs", type=Path, default=stack.OUTPUTS_FILE,
                       help="the stack's outputs (tests run their own stack)")
    prove.add_argument("--idp-name", default=idp_process.NAME,
                       help="the identity provider's record name (tests run their own)")
    sub.add_parser("install", parents=[target], help="install the emulator and the npm packages")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            _up(args.target, args.engine)
        elif args.command == "down":
            stopped = stack.down()
            print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
        elif args.command == "token":
            print(login_client.id_token(args.user, idp=idp_process.require(name=args.idp_name)))
        elif args.command == "matrix":
            if args.offline:
                return _offline_matrix(args.stack, args.overrides)
            outputs, target, idp = (stack.load_outputs(), clients.current_target(),
                                    idp_process.require())
            _matrix(outputs, target, idp, probes.session_tags_evaluated(
                outputs, target, idp, live_matrix.stack_classes()))
        elif args.command == "seed":
            outputs, idp = stack.load_outputs(), idp_process.require()
            target = clients.current_target()
            _seed(outputs, live_matrix.log_in_everyone(outputs, target=target, idp=idp))
        elif args.command == "prove":
            return _prove(args.outputs, args.idp_name, replay=not args.no_replay,
                          live=not args.no_live)
        else:
            stack.install(args.target)
    except (HarnessError, ConfigError) as err:
        # The one place a harness failure is reported: its message says what to do.
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    code = main()
    # Straight out, past the interpreter's teardown of some 1,500 modules (pulumi_aws, the
    # program's resources): about 1 s after every `make up`'s Ready line, with nothing to
    # clean up (no atexit work; the emulator and the identity provider are meant to outlive
    # this process). What is written is flushed first.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
