"""A teacher behind an OpenAI-compatible HTTP endpoint (`--teacher-url`), for users who have one.

It satisfies the agent's Model protocol, so the same teach and rewrite code drives it. The
server applies its own chat template, so `render` only packs the messages into one string (the
agent treats prompts as opaque) and `stream` unpacks them into a /chat/completions request.
Standard library only; nothing here runs unless a URL is given.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from typing import Any

from runtime.errors import RuntimeUserError
from runtime.model.base import ChatMessage, Generation, PrefillProgress, PrefixInfo

_MESSAGE = "\x1e"
_ROLE = "\x1f"
_MAX_STOPS = 4  # the OpenAI API accepts at most four stop strings


class TeacherUnavailable(RuntimeUserError):
    """The teacher endpoint could not be reached or answered with something other than a completion."""


def endpoint(url: str) -> str:
    """`http://host/v1` or the full `.../chat/completions` URL."""
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def cut_until(text: str, until: Callable[[str], bool] | None) -> str:
    """The shortest prefix, ending at a line break, at which a local model would have stopped."""
    if until is None:
        return text
    for end in [i + 1 for i, c in enumerate(text) if c == "\n"] + [len(text)]:
        if until(text[:end]):
            return text[:end]
    return text


class RemoteChatModel:
    """Chat completions over HTTP; sampling settings are passed through, grammars are not."""

    end_of_turn = "\x1e<end of turn>"

    def __init__(self, url: str, name: str, api_key: str | None = None, timeout_s: float = 300.0) -> None:
        self.url = endpoint(url)
        self.name = name
        self._api_key = api_key
        self._timeout_s = timeout_s

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str:
        packed = "".join(f"{_MESSAGE}{m.role}{_ROLE}{m.content}" for m in messages)
        return packed + f"{_MESSAGE}assistant{_ROLE}{continue_assistant}"

    def warm_prefix(self, prompt: str, cuts: list[int], progress: PrefillProgress | None = None) -> PrefixInfo:
        return PrefixInfo(tokens=0, source="computed", seconds=0.0)

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        stop: list[str],
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
    ) -> Iterator[str | Generation]:
        messages, prefix = _unpack(prompt)
        body = {
            "model": self.name,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "seed": seed,
            "stream": False,
        }
        stops = [s for s in stop if s != self.end_of_turn][:_MAX_STOPS]
        if stops:
            body["stop"] = stops
        started = time.perf_counter()
        reply = self._post(body)
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] or ""
        except (KeyError, IndexError, TypeError):
            raise TeacherUnavailable(f"{self.url} answered without a chat completion: {str(reply)[:200]}") from None
        if prefix and text.startswith(prefix.strip()):
            text = text[len(prefix.strip()) :].lstrip(" ")
        text = cut_until(text, until)
        usage = reply.get("usage") or {}
        yield text
        yield Generation(
            text=text,
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            cached_tokens=0,
            completion_tokens=int(usage.get("completion_tokens", len(text.split()))),
            prefill_s=0.0,
            decode_s=time.perf_counter() - started,
            finish="length" if choice.get("finish_reason") == "length" else "stop",
        )

    def sample_n(
        self,
        prompt: str,
        n: int,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        stop: list[str],
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
        stop_early: Callable[[], bool] | None = None,
    ) -> Generator[Generation, None, None]:
        """One request per candidate, each with its own seed (servers differ in support for `n`)."""
        for i in range(n):
            if stop_early is not None and stop_early():
                return
            for item in self.stream(
                prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=seed + i,
                stop=stop,
                until=until,
            ):
                if isinstance(item, Generation):
                    yield item

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            raise TeacherUnavailable(f"{self.url} answered HTTP {exc.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            raise TeacherUnavailable(f"cannot reach the teacher at {self.url}: {exc}") from None
        except json.JSONDecodeError:
            raise TeacherUnavailable(f"{self.url} did not answer with JSON") from None


def _unpack(prompt: str) -> tuple[list[dict[str, str]], str]:
    """The messages packed by `render`, and the start of the assistant's reply it asked for."""
    messages = []
    for chunk in prompt.split(_MESSAGE)[1:]:
        role, _, content = chunk.partition(_ROLE)
        messages.append({"role": role, "content": content})
    prefix = messages.pop()["content"] if messages and messages[-1]["role"] == "assistant" else ""
    return messages, prefix
