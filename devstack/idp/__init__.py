"""The local OpenID Connect provider (server.mjs) and what talks to it: see devstack/__init__.py."""
