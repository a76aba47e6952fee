"""python -m prover: see prover/cli.py."""

import sys

from prover.cli import main

sys.exit(main())
