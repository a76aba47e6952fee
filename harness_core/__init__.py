"""What devstack and iamsim share, and nothing else: the base error, the program recorder.

Layering (a test checks it): harness_core imports only the product; iamsim imports
harness_core; devstack imports both; bench and tests import the harness. The product
never imports any of it.
"""
