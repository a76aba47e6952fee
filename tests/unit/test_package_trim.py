"""scripts/package_trim.py: what the Lambda layer leaves out, and the check that nothing kept
imports it."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from scripts import package_trim
from scripts.package_trim import imported_modules, imports_left_out, left_out

PARSER = "aws_lambda_powertools/utilities/parser"


@pytest.mark.parametrize("path", [
    "jwcrypto/jwk.pyi", "cryptography/py.typed", "cffi/parse_c_type.h", "bin/jp.py",
    "share/doc/jwcrypto/README.md",
    "jwcrypto-1.6.1.dist-info/RECORD", "cffi-2.1.1.dist-info/WHEEL",
    "cffi-2.1.1.dist-info/INSTALLER", "cffi-2.1.1.dist-info/REQUESTED",
    f"{PARSER}/__init__.py", f"{PARSER}/models/sqs.py", f"{PARSER}/__pycache__/x.cpython-312.pyc",
    "aws_lambda_powertools/utilities/kafka/schema.json",
    "aws_lambda_powertools/utilities/batch.py",  # a module of that name would go too
])
def test_left_out(path: str):
    assert left_out(PurePosixPath(path))


@pytest.mark.parametrize("path", [
    "jwcrypto/jwk.py", "jwcrypto-1.6.1.dist-info/METADATA",
    "jwcrypto-1.6.1.dist-info/licenses/LICENSE", "cryptography-50.0.2.dist-info/sboms/x.json",
    "aws_lambda_powertools/utilities/idempotency/idempotency.py",
    "aws_lambda_powertools/utilities/parsers/x.py",  # only the named package, not a prefix
    "aws_lambda_powertools/event_handler/api_gateway.py", "pycparser/c_parser.py",
    "some-package/RECORD",  # an installer record only inside a .dist-info folder
    "jmespath/bin.py",  # only the top-level bin/ folder
])
def test_kept(path: str):
    assert not left_out(PurePosixPath(path))


def test_imported_modules_resolves_relative_imports():
    source = ("import os, json\nfrom a.b import c\nfrom . import sibling\n"
              "from ..parser import models\nfrom .x.y import z\n")
    assert imported_modules(source, "aws_lambda_powertools.utilities.idempotency.base",
                            is_package=False) == {
        "os", "json", "a.b", "a.b.c",
        "aws_lambda_powertools.utilities.idempotency",
        "aws_lambda_powertools.utilities.idempotency.sibling",
        "aws_lambda_powertools.utilities.parser", "aws_lambda_powertools.utilities.parser.models",
        "aws_lambda_powertools.utilities.idempotency.x.y",
        "aws_lambda_powertools.utilities.idempotency.x.y.z",
    }
    # In a package's __init__.py, `.` is the package itself.
    assert "pkg.sub" in imported_modules("from . import sub\n", "pkg", is_package=True)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize("importer, source", [
    ("app.py", "from aws_lambda_powertools.utilities.parser import parse\n"),
    ("app.py", "import aws_lambda_powertools.utilities.parameters\n"),
    ("app.py", "from aws_lambda_powertools.utilities import batch\n"),
    ("aws_lambda_powertools/utilities/idempotency/base.py", "from ..streaming import S3Object\n"),
])
def test_a_kept_module_importing_a_left_out_one_is_found(tmp_path: Path, importer: str,
                                                         source: str):
    root = _tree(tmp_path, {importer: source, f"{PARSER}/__init__.py": "import os\n"})
    found = imports_left_out([root])
    assert found, source
    assert all(f.startswith(f"{importer}: aws_lambda_powertools.utilities.") for f in found)


def test_trim_deletes_what_is_left_out_and_checks_what_stays(tmp_path: Path):
    layer = _tree(tmp_path / "layer", {
        "aws_lambda_powertools/utilities/idempotency/base.py": "from ..jmespath_utils import q\n",
        f"{PARSER}/models/sqs.py": "from ..envelopes import x\n",
        "jwcrypto/jwk.pyi": "", "jwcrypto/jwk.py": "import json\n",
        "jwcrypto-1.6.1.dist-info/RECORD": "", "jwcrypto-1.6.1.dist-info/METADATA": "",
    })
    code = _tree(tmp_path / "code", {"app.py": "import jwcrypto.jwk\n"})
    assert package_trim.trim(layer, code) == 3
    assert sorted(p.relative_to(layer).as_posix() for p in layer.rglob("*") if p.is_file()) == [
        "aws_lambda_powertools/utilities/idempotency/base.py",
        "jwcrypto-1.6.1.dist-info/METADATA", "jwcrypto/jwk.py"]
    assert not (layer / PARSER).exists(), "empty folders go too"
    (code / "app.py").write_text("from aws_lambda_powertools.utilities.parser import parse\n")
    with pytest.raises(package_trim.KeptImportsLeftOut, match=r"app\.py: aws_lambda_powertools"):
        package_trim.trim(layer, code)
