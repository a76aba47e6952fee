"""Import time per cold start: the handler's, and optionally one more step's (a tracing SDK).

Each sample copies build/lambda (code + layer) to a new folder, as a new MiniStack worker gets
it, and starts a fresh interpreter that times named import steps in order: the runtime's
bootstrap (botocore.handlers, which MiniStack's worker imports first), the handler module
`app` (every function), `--import-step` if given, then `id_tokens` (jwcrypto: the purchase
function, at its first call). A tracing SDK's cost, for example, on a Python 3.12 that has it (the
package does not carry it), once per SDK and once without:

    python3.12 -m venv /tmp/xray-venv
    /tmp/xray-venv/bin/pip install aws-xray-sdk==2.15.0 boto3==1.43.106
    export AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR  # no X-Ray daemon here
    .venv/bin/python -m bench.run --only imports --import-python /tmp/xray-venv/bin/python \
        --import-step "from aws_xray_sdk.core import patch; patch(['boto3'])"
    ... --import-step "from aws_lambda_powertools import Tracer; Tracer(service='pets')"
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import Args, Json, med_range, spread, table, timed
from devstack import paths
from devstack.processes import emulator

# Run as `python -c`: each step is exec'd in turn and timed.
_PROBE = """
import json, sys, time
sys.path[:0] = {path!r}
seconds = {{}}
for name, code in {steps!r}.items():
    started = time.perf_counter()
    exec(code)
    seconds[name] = time.perf_counter() - started
print(json.dumps(seconds))
"""


def handler_imports(args: Args) -> Json:
    """Seconds per step, and of the whole process, over `--repeats` fresh interpreters: the
    emulator's Python 3.12 (the one that runs the handlers) unless --import-python."""
    python = args.import_python or str(emulator.ENGINES["ministack"].python())
    steps = {"bootstrap (botocore.handlers)": "import botocore.handlers",
             "app (every function)": "import app",
             **({"--import-step": args.import_step} if args.import_step else {}),
             "id_tokens (purchase only)": "import id_tokens"}
    samples = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
            package = Path(shutil.copytree(paths.REPO / "build" / "lambda", Path(scratch) / "p"))
            probe = _PROBE.format(path=[str(package / "layer" / "python"), str(package / "code")],
                                  steps=steps)
            seconds, out = timed(lambda probe=probe, cwd=package / "code": subprocess.run(
                [python, "-c", probe], capture_output=True, text=True, check=True, cwd=cwd,
                env=os.environ).stdout)
            samples.append({**json.loads(out.splitlines()[-1]), "whole process": seconds})
    return {"python": python, "import_step": args.import_step,
            "steps": {k: spread([s[k] for s in samples]) for k in samples[0]}}


def report(r: Json) -> None:
    table(f"3. handler import in fresh interpreters (ms): {r['python']}"
          + (f", then --import-step {r['import_step']!r}" if r["import_step"] else ""),
          list(r["steps"]), [[med_range(s, "ms") for s in r["steps"].values()]])
