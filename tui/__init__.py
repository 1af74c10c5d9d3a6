"""The terminal UI of `runtime chat` (textual): app, screens, widgets, saved sessions.

Installed as `runtime.tui` (pyproject.toml maps this folder there)."""
