"""The stack-file reader, for the harness: components/stack_files.py's.

One implementation, the product's (ACCESS.md's generator reads stack files too). The harness
imports it from here because the harness also runs against the product of an older revision
(`make access-diff BASE=<revision>`, prover/revision.py), in which the reader still lived
in components/config.py.
"""

from __future__ import annotations

try:
    from components.stack_files import config_text, stack_file_config, stack_names
except ModuleNotFoundError:  # a revision from before the reader left components/config.py
    from components.config import config_text, stack_file_config, stack_names

__all__ = ["config_text", "stack_file_config", "stack_names"]
