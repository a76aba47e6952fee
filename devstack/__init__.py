"""Local dev stack for the pets app: emulator control, local identity provider, clients.

Harness only: the product (program, components, handlers) never imports this package.
"""
