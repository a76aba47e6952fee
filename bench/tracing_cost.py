"""What a tracing SDK would add to each cold start: import time, not a test.

Each repeat copies the built package (build/lambda) as a new worker gets it and starts a fresh
Python 3.12 that imports the runtime's bootstrap (botocore.handlers), the handler module
(`app`), then, depending on the mode, nothing, aws_xray_sdk with boto3 patched, or Powertools'
Tracer. The interpreter must have aws-xray-sdk installed (the package does not carry it):

    python3.12 -m venv /tmp/xray-venv
    /tmp/xray-venv/bin/pip install aws-xray-sdk==2.15.0 boto3==1.43.106
    .venv/bin/python -m bench.tracing_cost --python /tmp/xray-venv/bin/python
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "build" / "lambda"
MODES = ("none", "xray-sdk", "powertools-tracer")
_PROBE = """
import json, os, sys, time
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("TABLE_NAME", "pets")
os.environ["AWS_XRAY_CONTEXT_MISSING"] = "IGNORE_ERROR"
t0 = time.perf_counter()
sys.path[:0] = [{layer!r}, {code!r}]
import botocore.handlers
t1 = time.perf_counter()
import app
t2 = time.perf_counter()
if {mode!r} == "xray-sdk":
    from aws_xray_sdk.core import patch
    patch(["boto3"])
elif {mode!r} == "powertools-tracer":
    from aws_lambda_powertools import Tracer
    Tracer(service="pets")
t3 = time.perf_counter()
print(json.dumps({{"bootstrap": t1 - t0, "app": t2 - t1, "tracing": t3 - t2}}))
"""


def run(python: str, repeats: int) -> dict[str, dict[str, float]]:
    results = {}
    for mode in MODES:
        samples = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="bench-tracing-") as scratch:
                code, layer = Path(scratch) / "code", Path(scratch) / "layer"
                shutil.copytree(PACKAGE / "code", code)
                shutil.copytree(PACKAGE / "layer", layer)
                probe = _PROBE.format(layer=str(layer / "python"), code=str(code), mode=mode)
                started = time.perf_counter()
                out = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                                     check=True, cwd=code).stdout
                sample = json.loads(out.strip().splitlines()[-1])
                samples.append({**sample, "process": time.perf_counter() - started})
        results[mode] = {k: statistics.median(s[k] for s in samples) for k in samples[0]}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", required=True, help="a Python 3.12 with aws-xray-sdk")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    results = run(args.python, args.repeats)
    print(f"{'mode':20} {'bootstrap':>10} {'app':>8} {'tracing':>8} {'process':>8}  (ms, median)")
    for mode, figures in results.items():
        print(f"{mode:20} " + " ".join(f"{figures[k] * 1000:>8.1f}" for k in
                                       ("bootstrap", "app", "tracing", "process")))


if __name__ == "__main__":
    main()
