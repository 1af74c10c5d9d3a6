"""Widgets of the chat app: conversation and steps, input, side panel, status bar."""
