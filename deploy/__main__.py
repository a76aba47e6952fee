"""`python -m deploy preview|up --stack S`: see deploy/cli.py."""

import sys

from deploy.cli import main

sys.exit(main())
