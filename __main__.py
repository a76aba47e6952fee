"""The pets application: the stack's config -> components -> stack outputs."""

import pulumi

from components.config import load_settings
from components.pets_app import build

app = build(load_settings())
for key, value in app.outputs().items():
    pulumi.export(key, value)
