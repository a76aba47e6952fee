"""The account baseline: the singletons every pets app stack in this account shares.

Deploy it before the app stacks, from this folder: `pulumi -C account up` (docs/deploying.md).
"""

import sys
from pathlib import Path

# Pulumi runs this program from account/, so only this folder is on sys.path; the components
# it shares with the app live at the repository root.
ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import pulumi  # noqa: E402
import pulumi_aws as aws  # noqa: E402

from components.account import AccountBaseline, AccountBaselineArgs  # noqa: E402
from components.account_config import load_account_settings  # noqa: E402
from components.naming import ACCOUNT_PROJECT  # noqa: E402

settings = load_account_settings()
baseline = AccountBaseline(ACCOUNT_PROJECT, AccountBaselineArgs(
    region=aws.get_region_output().region,
    issuers=settings.issuers,
    api_gateway_logging=settings.api_gateway_logging,
))
pulumi.export("oidcProviders", {url: p.arn for url, p in baseline.providers.items()})
if baseline.api_gateway_account is not None:
    pulumi.export("apiGatewayLogsRole", baseline.api_gateway_account.cloudwatch_role_arn)
