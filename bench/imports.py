"""Import time per cold start: the handlers' (item 4) and a tracing SDK's (item 6, issue 14).

Each sample copies build/lambda (code + layer) to a new folder, as a new MiniStack worker gets
it, and starts a fresh interpreter that times named import steps in order: the runtime's
bootstrap (botocore.handlers, which MiniStack's worker imports first), the handler module
`app` (every function), then `id_tokens` (jwcrypto: the purchase function, at its first call),
or a tracing SDK. That one needs a Python 3.12 with aws-xray-sdk (the package does not carry it):

    python3.12 -m venv /tmp/xray-venv
    /tmp/xray-venv/bin/pip install aws-xray-sdk==2.15.0 boto3==1.43.106
    .venv/bin/python -m bench.run --only tracing --tracing-python /tmp/xray-venv/bin/python
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bench.common import Json, med_range, spread, table, timed
from devstack import emulator, paths

PACKAGE = paths.REPO / "build" / "lambda"
BOOTSTRAP = {"bootstrap": "import botocore.handlers", "app": "import app"}
HANDLER_STEPS = {**BOOTSTRAP, "id_tokens": "import id_tokens"}
TRACING = {
    "none": "pass",
    "xray-sdk": "from aws_xray_sdk.core import patch; patch(['boto3'])",
    "powertools-tracer": "from aws_lambda_powertools import Tracer; Tracer(service='pets')",
}
TRACING_ENV = {"AWS_DEFAULT_REGION": "eu-west-1", "TABLE_NAME": "pets",
               "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}  # no X-Ray daemon here
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


def sample_imports(python: str, steps: Mapping[str, str], repeats: int,
                   env: Mapping[str, str] | None = None) -> list[dict[str, float]]:
    """Seconds per step, and of the whole process, in `repeats` fresh interpreters."""
    samples = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-import-") as scratch:
            code, layer = Path(scratch) / "code", Path(scratch) / "layer"
            shutil.copytree(PACKAGE / "code", code)
            shutil.copytree(PACKAGE / "layer", layer)
            probe = _PROBE.format(path=[str(layer / "python"), str(code)], steps=dict(steps))
            seconds, out = timed(lambda probe=probe, code=code: subprocess.run(
                [python, "-c", probe], capture_output=True, text=True, check=True, cwd=code,
                env={**os.environ, **(env or {})}).stdout)
            samples.append({**json.loads(out.splitlines()[-1]), "process": seconds})
    return samples


def _spreads(samples: list[dict[str, float]]) -> Json:
    return {k: spread([s[k] for s in samples]) for k in samples[0]}


def handler_imports(repeats: int) -> Json:
    """On the emulator's Python 3.12, the interpreter that runs the handlers."""
    python = str(emulator.ENGINES["ministack"].python())
    return _spreads(sample_imports(python, HANDLER_STEPS, repeats))


def tracing_cost(python: str | None, repeats: int) -> Json:
    """Per mode: bootstrap, app, then no tracing SDK, aws_xray_sdk patching boto3, or
    Powertools' Tracer()."""
    if python is None:
        return {"skipped": "needs --tracing-python (see bench/imports.py)"}
    return {mode: _spreads(sample_imports(python, {**BOOTSTRAP, "tracing": code}, repeats,
                                          TRACING_ENV)) for mode, code in TRACING.items()}


def report(r: Json) -> None:
    print(f"  handler import in a fresh Python 3.12 (ms): runtime bootstrap (botocore.handlers) "
          f"{med_range(r['bootstrap'], 'ms')}, app (every function) {med_range(r['app'], 'ms')}, "
          f"id_tokens (purchase only) {med_range(r['id_tokens'], 'ms')}; whole process "
          f"{med_range(r['process'], 'ms')}")


def report_tracing(r: Json) -> None:
    if "skipped" in r:
        print(f"\n6. tracing SDK import cost: not measured, {r['skipped']}")
        return
    parts = ("bootstrap", "app", "tracing", "process")
    table("6. tracing SDK import cost per cold start (ms)", ("mode", *parts),
          [(mode, *(med_range(x[p], "ms") for p in parts)) for mode, x in r.items()])
