"""A model behind an OpenAI-compatible server (`--model http://host:port/v1`): llama.cpp's or
llama-cpp-python's server, vLLM, Ollama, or a hosted API.

The server applies its own chat template, so the conversation is sent as messages. The start of
the assistant's reply that a prompt asks for ("Thought: ") cannot be sent (the API has no way to
continue a message): the server's model writes its own, which is cut off when it repeats it.
Replies are streamed (server-sent events), so a consumer sees text as it comes and a stop string
or `until` ends the request early. Neither capability of the llama backend is here: servers
differ in whether and how they take a grammar, and they keep their own prompt cache.
Standard library only; nothing here runs unless a URL is given.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Generator, Iterator
from contextlib import closing
from http.client import HTTPResponse
from typing import Any, Literal

from pydantic import BaseModel

from runtime.errors import ModelUnavailable
from runtime.model.base import (
    Capability,
    ChatMessage,
    ContextFull,
    Generation,
    PrefillProgress,
    PrefixInfo,
    Prompt,
    Sampling,
    StopEarly,
    Until,
    candidate_seed,
    first_stop,
    held_back,
)

_MAX_STOPS = 4
"""The OpenAI API accepts at most four stop strings; the rest are applied here."""


def is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


class Endpoint(BaseModel):
    """Where the server is (`.../v1`) and which of its models to use (`URL#name`; None = its first)."""

    base: str
    model: str | None = None

    @classmethod
    def parse(cls, spec: str) -> Endpoint:
        url, fragment = urllib.parse.urldefrag(spec)
        return cls(base=url.rstrip("/").removesuffix("/chat/completions"), model=fragment or None)


class _Chunk(BaseModel):
    """What one server-sent event carries."""

    text: str = ""
    finish: str | None = None
    usage: dict[str, Any] = {}


class OpenAIModel:
    """Chat completions over HTTP, streamed; a `Model` without grammar or prefix cache."""

    capabilities: frozenset[Capability] = frozenset()
    end_of_turn = ""
    """Nothing to stop at: the server ends the assistant's turn itself."""

    def __init__(self, spec: str, name: str | None = None, api_key: str | None = None, timeout_s: float = 300.0) -> None:
        """`spec`: `http://host:port/v1`, optionally `#model-name`; `name` overrides that name. Without
        either the server is asked for its models, which also checks that it is there."""
        endpoint = Endpoint.parse(spec)
        self.url = endpoint.base
        self._api_key = api_key
        self._timeout_s = timeout_s
        self.name = name or endpoint.model or self._first_model()

    def warm_prefix(
        self, messages: list[ChatMessage], system_parts: list[str], progress: PrefillProgress | None = None
    ) -> PrefixInfo | None:
        return None

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        """Yield text pieces as the server sends them, then one Generation with the totals.

        Stop strings beyond the API's four, and `until`, are applied here; either closes the
        request. Text that might begin a stop string is held back until it is known not to.
        """
        if sampling.grammar is not None:
            raise ValueError(f"{self.url} has no grammar capability: check Model.capabilities before asking for one")
        stops = [s for s in sampling.stop if s]
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [m.model_dump() for m in prompt.messages],
            "max_tokens": sampling.max_tokens,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": sampling.seed,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if stops:
            body["stop"] = stops[:_MAX_STOPS]
        started = time.perf_counter()
        first_piece: float | None = None
        raw, text, shown, chunks, usage = "", "", 0, 0, {}
        opening = prompt.continue_assistant
        finish: Literal["stop", "length", "callback"] = "stop"
        with closing(self._post("/chat/completions", body)) as response:
            for chunk in _events(response):
                usage = chunk.usage or usage
                if chunk.finish == "length":
                    finish = "length"
                if not chunk.text:
                    continue
                first_piece = first_piece or time.perf_counter()
                chunks += 1
                raw += chunk.text
                reply = _after_opening(raw, opening)
                if reply is None:
                    continue
                checked, text = len(text), reply
                cut = first_stop(text, stops)
                if cut is not None:
                    text, finish = text[:cut], "stop"
                    break
                end = _until_end(text, checked, until)
                if end is not None:
                    text, finish = text[:end], "callback"
                    break
                safe = len(text) - held_back(text, stops)
                if safe > shown:
                    yield text[shown:safe]
                    shown = safe
        if len(text) > shown:
            yield text[shown:]
        ended = time.perf_counter()
        decoding_from = first_piece or ended
        yield Generation(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            cached_tokens=0,
            completion_tokens=int(usage.get("completion_tokens", chunks)),
            prefill_s=decoding_from - started,
            decode_s=ended - decoding_from,
            finish=finish,
        )

    def sample_n(
        self, prompt: Prompt, n: int, sampling: Sampling, until: Until | None = None, stop_early: StopEarly | None = None
    ) -> Generator[Generation, None, None]:
        """One request per candidate, each with its own seed (servers differ in support for `n`)."""
        for i in range(n):
            if stop_early is not None and stop_early():
                return
            candidate = sampling.model_copy(update={"seed": candidate_seed(sampling.seed, i)})
            *_, generation = self.stream(prompt, candidate, until)
            assert isinstance(generation, Generation)
            yield generation

    def _first_model(self) -> str:
        with closing(self._request(urllib.request.Request(f"{self.url}/models", headers=self._headers()))) as response:
            try:
                return str(json.loads(response.read())["data"][0]["id"])
            except (ValueError, KeyError, IndexError, TypeError):
                raise ModelUnavailable(f"{self.url}/models does not list a model; name one as {self.url}#NAME") from None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _post(self, path: str, body: dict[str, Any]) -> HTTPResponse:
        data = json.dumps(body).encode()
        return self._request(urllib.request.Request(f"{self.url}{path}", data=data, headers=self._headers()))

    def _request(self, request: urllib.request.Request) -> HTTPResponse:
        try:
            return urllib.request.urlopen(request, timeout=self._timeout_s)
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            if exc.code == 400 and "context" in detail.lower():
                raise ContextFull(f"the conversation no longer fits the server's context: {detail}") from None
            raise ModelUnavailable(f"{request.full_url} answered HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ModelUnavailable(f"cannot reach the model server at {self.url}: {reason}") from None


def _events(response: HTTPResponse) -> Iterator[_Chunk]:
    """The chunks of a server-sent event stream of chat completion deltas, until `[DONE]`."""
    for line in response:
        if not line.startswith(b"data:"):
            continue
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        try:
            event = json.loads(payload)
            choice = (event.get("choices") or [{}])[0]
            yield _Chunk(
                text=(choice.get("delta") or {}).get("content") or "",
                finish=choice.get("finish_reason"),
                usage=event.get("usage") or {},
            )
        except (ValueError, AttributeError, TypeError):
            raise ModelUnavailable(f"the server sent something other than a chat completion: {payload[:200]!r}") from None


def _until_end(text: str, checked: int, until: Until | None) -> int | None:
    """Where `until` first holds in the text after `checked`, tried at each line end and at the end:
    a chunk may hold several tokens, and a local model would have stopped at the first of them."""
    if until is None:
        return None
    ends = [i + 1 for i in range(checked, len(text)) if text[i] == "\n"] + [len(text)]
    return next((end for end in ends if until(text[:end])), None)


def _after_opening(raw: str, opening: str) -> str | None:
    """The reply without the opening the prompt asked for, where the server's model repeated it;
    None while too little has come to tell."""
    head = opening.strip()
    if not head:
        return raw
    start = raw.lstrip()
    if len(start) < len(head) and head.startswith(start):
        return None
    if not start.startswith(head):
        return raw
    rest = start[len(head) :]
    return rest.lstrip(" ") if opening.endswith(" ") else rest  # the opening's own space is not said twice
