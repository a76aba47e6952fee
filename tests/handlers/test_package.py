"""The built Lambda package imports on the Lambda's Python with nothing else.

`python3.12 -I -S`: no site-packages, no user site, no PYTHONPATH; only the
function code, its dependency layer and what the Lambda runtime itself
provides (boto3), in the order Lambda puts them on sys.path. A dependency
missing from handlers/requirements.txt fails here, not in AWS.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from scripts import interpreter
from scripts.package_lambda import LAMBDA_PYTHON
from scripts.package_trim import imports_left_out, left_out

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "build" / "lambda"
CODE = PACKAGE / "code"
LAYER = PACKAGE / "layer" / "python"
RUNTIME = ROOT / "build" / "lambda-runtime"

PROBE = """
import sys
sys.path[:0] = [{code!r}, {layer!r}, {runtime!r}]
import os
os.environ.update(TABLE_NAME="t", OIDC_ISSUER="https://issuer.example/",
                  OIDC_CLIENT_ID="c", AWS_DEFAULT_REGION="us-east-1",
                  IDEMPOTENCY_TABLE_NAME="i")
import app, aws_calls, errors, id_tokens, idempotency, pet_store, readers, validation
# The idempotency utility and its persistence layer, as the add function builds them.
idempotency.utility()
import jwcrypto, cryptography
from jwcrypto import jwk, jwt
# Exercise the native code: sign and verify an RS256 token.
key = jwk.JWK.generate(kty="RSA", size=2048, kid="k")
token = jwt.JWT(header={{"alg": "RS256", "kid": "k"}}, claims={{"sub": "x"}})
token.make_signed_token(key)
jwt.JWT(jwt=token.serialize(), key=key, algs=["RS256"])
for module in (jwcrypto, cryptography):
    assert module.__file__.startswith({layer!r}), module.__file__
assert app.__file__.startswith({code!r}), app.__file__
print("%d.%d" % sys.version_info[:2])
"""


def lambda_python() -> str:
    """The interpreter AWS's python3.12 runtime corresponds to."""
    try:
        return interpreter.find(LAMBDA_PYTHON)
    except interpreter.PythonNotFound as err:
        pytest.fail(str(err))


def test_package_imports_in_isolation_on_python_312():
    assert (CODE / "app.py").is_file(), "build/lambda is missing: run `make package`"
    probe = PROBE.format(code=str(CODE), layer=str(LAYER), runtime=str(RUNTIME))
    result = subprocess.run(
        # -B: importing must not leave __pycache__ in the package that gets deployed.
        [lambda_python(), "-I", "-S", "-B", "-c", probe],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == LAMBDA_PYTHON


def test_package_holds_the_current_handler_sources():
    deployed = zipfile.ZipFile(PACKAGE / "code.zip")  # what the program deploys
    for source in (ROOT / "handlers").glob("*.py"):
        built = CODE / source.name
        assert built.read_bytes() == source.read_bytes(), (
            f"{built} is stale: run `make package`")
        assert deployed.read(source.name) == source.read_bytes(), (
            f"code.zip's {source.name} is stale: run `make package`")


def test_the_zips_hold_exactly_the_package_folders():
    for part in ("code", "layer"):
        files = sorted(p for p in (PACKAGE / part).rglob("*") if p.is_file())
        with zipfile.ZipFile(PACKAGE / f"{part}.zip") as deployed:
            assert deployed.namelist() == [p.relative_to(PACKAGE / part).as_posix()
                                           for p in files], f"{part}.zip: run `make package`"


def test_the_layer_leaves_out_what_no_function_reads():
    with zipfile.ZipFile(PACKAGE / "layer.zip") as deployed:
        names = [PurePosixPath(n).relative_to("python") for n in deployed.namelist()]
    kept_by_mistake = [str(n) for n in names if left_out(n)]
    assert kept_by_mistake == [], "layer.zip holds what it leaves out: run `make package`"
    assert any(str(n).startswith("aws_lambda_powertools/utilities/idempotency/") for n in names)
    assert imports_left_out([CODE, LAYER]) == []


BYTE_CODE_PROBE = """
import importlib.util, pathlib, sys
package = pathlib.Path(sys.argv[1])
compiled = sorted(package.rglob("*.pyc"))
for pyc in compiled:
    data = pyc.read_bytes()
    source = pyc.parent.parent / (pyc.name.split(".")[0] + ".py")
    assert data[:4] == importlib.util.MAGIC_NUMBER, f"{pyc}: not Python 3.12 byte code"
    # flags 0b01: hash-based, source not checked (mtimes change when the zip is unpacked)
    assert int.from_bytes(data[4:8], "little") == 1, f"{pyc}: not unchecked-hash"
    assert data[8:16] == importlib.util.source_hash(source.read_bytes()), f"{pyc}: stale"
print(" ".join(str(p.relative_to(package)) for p in compiled))
"""


def test_package_ships_current_byte_code_for_what_a_cold_start_imports():
    result = subprocess.run([lambda_python(), "-I", "-S", "-B", "-c", BYTE_CODE_PROBE,
                             str(PACKAGE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    compiled = set(result.stdout.split())
    for module in ("code/__pycache__/app.cpython-312.pyc",
                   "code/__pycache__/id_tokens.cpython-312.pyc",
                   "layer/python/aws_lambda_powertools/__pycache__/__init__.cpython-312.pyc",
                   "layer/python/jwcrypto/__pycache__/jwt.cpython-312.pyc"):
        assert module in compiled, f"{module} missing: run `make package`"
