"""Pulumi components of the pets application (see pets_app.build)."""
