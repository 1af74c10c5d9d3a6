"""The terminal UI of `runtime chat` (textual): app, screens, widgets, saved sessions."""
