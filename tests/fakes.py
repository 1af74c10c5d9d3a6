"""A scripted stand-in for the model's text; everything else in the tests is real."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from runtime.model.base import ChatMessage, Generation, PrefixInfo


class ScriptedModel:
    """Replies with the given texts in order, streamed in small pieces, honouring stop and `until`."""

    name = "scripted"
    end_of_turn = "<|im_end|>"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.prefixes: list[str] = []
        self.grammars: list[str | None] = []

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str:
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return f"{turns}<|im_start|>assistant\n{continue_assistant}"

    def warm_prefix(self, checkpoints: list[str]) -> PrefixInfo:
        self.prefixes.append(checkpoints)
        return PrefixInfo(tokens=len(checkpoints[-1].split()), source="computed", seconds=0.0)

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
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        reply = self.replies.pop(0) if self.replies else "I have nothing more to say."
        cuts = [reply.index(s) for s in stop if s in reply]
        if cuts:
            reply = reply[: min(cuts)]
        text = ""
        for i in range(0, len(reply), 7):
            piece = reply[i : i + 7]
            text += piece
            yield piece
            if until is not None and until(text):
                break
        yield Generation(
            text=text,
            prompt_tokens=len(prompt.split()),
            cached_tokens=0,
            completion_tokens=len(text.split()),
            prefill_s=0.0,
            decode_s=0.001,
            finish="stop",
        )
