"""Screens of the chat app: the chat itself, help, and the session picker."""
