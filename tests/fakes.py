"""A scripted stand-in for the model's text; everything else in the tests is real."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from runtime.model.base import (
    Capability,
    ChatMessage,
    Generation,
    PrefillProgress,
    PrefixInfo,
    Prompt,
    Sampling,
    StopEarly,
    Until,
    checkpoint_lengths,
    system_cuts,
)

Candidate = str | tuple[str, float]
"""A scripted candidate action: its text, or its text and mean token log-probability."""


class ScriptedModel:
    """Replies with the given texts in order, streamed in small pieces, honouring stop and `until`.

    For `sample_n`, a reply that is a list gives the candidates of that step in the order they
    finish decoding; a plain string is every candidate. `decode_s` is how long each candidate
    takes to "decode", during which `stop_early` is polled as the real model does.
    """

    name = "scripted"
    end_of_turn = "<|im_end|>"
    capabilities: frozenset[Capability] = frozenset({"grammar", "prefix_cache"})

    def __init__(self, replies: list[str | list[Candidate]], decode_s: float = 0.0) -> None:
        self.replies = list(replies)
        self.decode_s = decode_s
        self.prompts: list[str] = []
        """Each prompt as the chat template below renders it."""
        self.prefixes: list[list[str]] = []
        """Each warmed prefix's checkpoints as text (the prompt up to each cut)."""
        self.checkpoints: list[list[list[int]]] = []
        """Each warmed prefix's checkpoints as the prompt's own tokens."""
        self._vocab: dict[str, int] = {}
        self.grammars: list[str | None] = []
        self.temperatures: list[float] = []

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str:
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return f"{turns}<|im_start|>assistant\n{continue_assistant}"

    def text(self, prompt: Prompt) -> str:
        return self.render(prompt.messages, prompt.continue_assistant)

    def tokenize(self, text: str) -> list[int]:
        """A toy tokenizer that, like Qwen's, merges text across a checkpoint's end: a word with
        the space before it, punctuation with the newlines after it ("```" + "\n\n" is one token),
        the chat template's markers apart."""
        pieces = re.findall(r"<\|im_(?:start|end)\|>| ?\w+| ?(?:(?!<\|im_)[^\s\w])+[\r\n]*|\s*[\r\n]+|\s+", text)
        return [self._vocab.setdefault(piece, len(self._vocab)) for piece in pieces]

    def warm_prefix(
        self, messages: list[ChatMessage], system_parts: list[str], progress: PrefillProgress | None = None
    ) -> PrefixInfo:
        """Cut as the llama backend cuts (see `LlamaModel.warm_prefix`), recording what it cut."""
        prompt = self.render(messages)
        cuts = system_cuts(self.render, system_parts, prompt)
        tokens = self.tokenize(prompt)
        lengths = checkpoint_lengths(self.tokenize, prompt, tokens, cuts)
        self.prefixes.append([prompt[:cut] for cut in cuts])
        self.checkpoints.append([tokens[:n] for n in lengths])
        n = lengths[-1] if lengths else 0
        if progress:  # as the real model reports a prefix it computes: at the start, then as it goes
            progress(0, n)
            progress(n, n)
        return PrefixInfo(tokens=n, source="computed", seconds=0.0, computed_tokens=n)

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        text_in, reply = self._next(prompt, sampling)
        assert isinstance(reply, str), "a list of candidates was scripted for a single-candidate step"
        reply = _cut(reply, sampling.stop)
        text = ""
        for i in range(0, len(reply), 7):
            piece = reply[i : i + 7]
            text += piece
            yield piece
            if until is not None and until(text):
                break
        yield _generation(text_in, text, decode_s=0.001)

    def sample_n(
        self, prompt: Prompt, n: int, sampling: Sampling, until: Until | None = None, stop_early: StopEarly | None = None
    ) -> Generator[Generation, None, None]:
        text_in, reply = self._next(prompt, sampling)
        candidates = reply if isinstance(reply, list) else [reply] * n
        assert len(candidates) == n, f"{len(candidates)} candidates scripted, {n} asked for"
        for candidate in candidates:
            text, logprob = candidate if isinstance(candidate, tuple) else (candidate, -1.0)
            if _decoding_stopped(self.decode_s, stop_early):
                return
            yield _generation(text_in, _until(_cut(text, sampling.stop), until), self.decode_s, logprob)

    def _next(self, prompt: Prompt, sampling: Sampling) -> tuple[str, str | list[Candidate]]:
        """Record what was asked for; the prompt's text and the next scripted reply."""
        text_in = self.text(prompt)
        self.prompts.append(text_in)
        self.grammars.append(sampling.grammar)
        self.temperatures.append(sampling.temperature)
        return text_in, self.replies.pop(0) if self.replies else "I have nothing more to say."


def _generation(prompt: str, text: str, decode_s: float, logprob: float = 0.0) -> Generation:
    return Generation(
        text=text,
        prompt_tokens=len(prompt.split()),
        cached_tokens=0,
        completion_tokens=len(text.split()),
        prefill_s=0.0,
        decode_s=decode_s,
        finish="stop",
        mean_logprob=logprob,
    )


def _cut(text: str, stop: list[str]) -> str:
    cuts = [text.index(s) for s in stop if s in text]
    return text[: min(cuts)] if cuts else text


def _until(text: str, until: Until | None) -> str:
    """The text up to where `until` stops it, checked every 7 characters as `stream` does."""
    for end in range(7, len(text) + 7, 7):
        if until is not None and until(text[:end]):
            return text[:end]
    return text


def _decoding_stopped(seconds: float, stop_early: StopEarly | None) -> bool:
    """Wait `seconds` as if decoding, polling `stop_early` like the real decode loop does every step."""
    deadline = time.monotonic() + seconds
    while True:
        if stop_early is not None and stop_early():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


class ScriptedServer:
    """An OpenAI-compatible endpoint that streams scripted replies (server-sent events, 7 characters
    an event), lists one model, and keeps every request body: model text over real HTTP."""

    def __init__(self, replies: list[str], model: str = "scripted-server") -> None:
        self.replies = list(replies)
        self.model = model
        self.bodies: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        script = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._send(200, "application/json", json.dumps({"data": [{"id": script.model}]}).encode())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                script.bodies.append({"path": self.path, **body})
                text = script.replies.pop(0) if script.replies else "Thought: done.\n```python\nfinal_answer(0)\n```"
                text = _cut(text, body.get("stop", []))
                events = [{"choices": [{"delta": {"content": text[i : i + 7]}, "finish_reason": None}]} for i in range(0, len(text), 7)]
                events.append({"choices": [{"delta": {}, "finish_reason": "stop"}]})
                events.append({"choices": [], "usage": {"prompt_tokens": 100, "completion_tokens": len(events) - 1}})
                stream = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                try:
                    self._send(200, "text/event-stream", stream.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: `until` or a stop string ended the reply

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler
