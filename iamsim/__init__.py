"""Second, offline IAM engine for the pets access matrix (npm @cloud-copilot/iam-simulate).

Call `simulate([...])` with every question of a matrix at once: it runs one Node process per batch.
The offline matrices of the Pulumi program are in iamsim.matrix (`offline_matrices()`; not imported
here, as it loads the program and Pulumi); `compare_matrices` compares any two engines' matrices.
"""

from iamsim.builders import (
    execute_api_arn,
    invoke_request,
    oidc_provider_arn,
    oidc_provider_path,
    web_identity_allowed,
    web_identity_requests,
)
from iamsim.engine import (
    Decision,
    EngineUnavailable,
    SimRequest,
    SimResult,
    SimulationError,
    ensure_installed,
    simulate,
    simulate_raw,
)
from iamsim.report import compare_matrices

__all__ = [
    "Decision",
    "EngineUnavailable",
    "SimRequest",
    "SimResult",
    "SimulationError",
    "compare_matrices",
    "ensure_installed",
    "execute_api_arn",
    "invoke_request",
    "oidc_provider_arn",
    "oidc_provider_path",
    "simulate",
    "simulate_raw",
    "web_identity_allowed",
    "web_identity_requests",
]
