"""Processes and installs: the emulators, the identity provider process records, the venvs: see
devstack/__init__.py."""
