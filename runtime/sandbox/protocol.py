"""Length-prefixed JSON messages over a Unix socket, plus passing a socket to a forked worker.

JSON, never pickle: the parent must be able to read whatever a (possibly subverted) worker sends
without running anything, and sizes are capped so a worker cannot make the parent allocate freely.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import time
from typing import Any

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_HEADER = struct.Struct(">I")


class ChannelClosed(Exception):
    """The other side closed its end or sent something that is not a message."""


class Channel:
    """One end of a parent/worker socket pair."""

    def __init__(self, sock: socket.socket, send_timeout: float | None = None) -> None:
        self.sock = sock
        self.send_timeout = send_timeout

    def send(self, message: dict[str, Any]) -> None:
        data = json.dumps(message).encode()  # ASCII escapes: lone surrogates from print() survive
        self.sock.settimeout(self.send_timeout)
        try:
            self.sock.sendall(_HEADER.pack(len(data)) + data)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc

    def recv(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message; TimeoutError when `timeout` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if size > MAX_MESSAGE_BYTES:
            raise ChannelClosed(f"message of {size} bytes is over the limit")
        try:
            message = json.loads(self._read(size, deadline))
        except (ValueError, RecursionError) as exc:
            raise ChannelClosed(f"unreadable message: {exc}") from exc
        if not isinstance(message, dict):
            raise ChannelClosed("message is not an object")
        return message

    def send_socket(self, sock: socket.socket) -> None:
        """Hand `sock` to the other process (SCM_RIGHTS); our copy stays open until closed."""
        self.send_fd(sock.fileno(), b"S")

    def recv_socket(self, timeout: float) -> socket.socket:
        return socket.socket(fileno=self.recv_fd(timeout, b"S"))

    def send_fd(self, fd: int, tag: bytes) -> None:
        """Hand descriptor `fd` to the other process; `tag` (one byte) says what it is."""
        socket.send_fds(self.sock, [tag], [fd])

    def recv_fd(self, timeout: float, tag: bytes) -> int:
        self.sock.settimeout(timeout)
        try:
            data, fds, _, _ = socket.recv_fds(self.sock, 1, 1)
        except OSError as exc:
            raise ChannelClosed(str(exc)) from exc
        if data != tag or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise ChannelClosed(f"expected a descriptor tagged {tag!r}")
        return fds[0]

    def close(self) -> None:
        self.sock.close()

    def _read(self, size: int, deadline: float | None) -> bytes:
        chunks: list[bytes] = []
        while size:
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError
                self.sock.settimeout(remaining)
            else:
                self.sock.settimeout(None)
            try:
                chunk = self.sock.recv(min(size, 1 << 20))
            except TimeoutError:
                raise
            except OSError as exc:
                raise ChannelClosed(str(exc)) from exc
            if not chunk:
                raise ChannelClosed("the other end closed the channel")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)
