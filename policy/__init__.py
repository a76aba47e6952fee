"""CrossGuard policy pack of the pets project and the access matrix document.

`rules.POLICIES` is the pack (policy/__main__.py only serves it to the Pulumi
CLI); `access_doc` renders ACCESS.md from access.py. The product never
imports this package; the pack reads access.py to know what to expect.
"""
