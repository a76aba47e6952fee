"""What devstack, iamsim and prover share, and nothing else: the errors, the one runner of
the program under the SDK's mocks (mock_runtime.py) and the program recorder on it, with
the resource graph the engine would get (graph.py).

Layering (a test checks it): harness_core imports only the product; iamsim imports
harness_core; prover imports both; devstack imports those three; bench and tests import the
harness. The product never imports any of it.
"""
