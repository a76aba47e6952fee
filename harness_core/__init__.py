"""What devstack and iamsim share, and nothing else: the errors, the one runner of the
program under the SDK's mocks (mock_runtime.py) and the program recorder on it, with the
resource graph the engine would get (graph.py).

Layering (a test checks it): harness_core imports only the product; iamsim imports
harness_core; devstack imports both; bench and tests import the harness. The product
never imports any of it.
"""
