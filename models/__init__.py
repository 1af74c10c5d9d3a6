"""Manifests of the known student models (one TOML file each), read by runtime.model.registry.

Installed as `runtime.model.manifests` (pyproject.toml maps this folder there)."""
