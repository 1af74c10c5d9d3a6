"""Manifests of the known student models (one TOML file each), read by runtime.model.registry."""
