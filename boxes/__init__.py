"""Boxes shipped with the runtime, in source form: one folder per box (see docs/mcp-box.md).

Installed as `runtime.boxes.shipped` (pyproject.toml maps this folder there)."""
