"""One line under the conversation: what the agent is doing and how fast the model writes."""

from __future__ import annotations

import time

from textual.widgets import Static

from runtime.agent.events import StepRecord
from runtime.tui.sessions import Turn
from runtime.tui.text import plural


class StatusBar(Static):
    """Live tokens/s while generating, estimated from streamed pieces (one per token from llama.cpp)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", markup=False, id=id)
        self._step = 0
        self._pieces = 0
        self._first = 0.0

    def idle(self, message: str) -> None:
        self.update(message)

    def step_started(self, step: int) -> None:
        self._step, self._pieces = step, 0
        self.update(f"step {step} · reading the prompt… · Esc to stop")

    def text_arrived(self) -> None:
        """Rate since the first piece, so the prompt's prefill time does not drag it down."""
        now = time.perf_counter()
        if self._pieces == 0:
            self._first = now
        self._pieces += 1
        elapsed = now - self._first
        rate = f"{(self._pieces - 1) / elapsed:.1f} tok/s" if elapsed > 0 else "… tok/s"
        self.update(f"step {self._step} · generating · {rate} · Esc to stop")

    def running_code(self) -> None:
        self.update(f"step {self._step} · running code · Esc to stop")

    def step_finished(self, record: StepRecord) -> None:
        t = record.timings
        rate = t.completion_tokens / t.decode_s if t.decode_s > 0 else 0.0
        self.update(f"step {record.step} done · {t.completion_tokens} tok at {rate:.1f} tok/s")

    def run_ended(self, turn: Turn) -> None:
        tokens = sum(s.timings.completion_tokens for s in turn.steps)
        decode = sum(s.timings.decode_s for s in turn.steps)
        rate = f" · {tokens / decode:.1f} tok/s" if decode > 0 else ""
        label = {"answered": "answered", "step_limit": "no answer", "cancelled": "stopped", "error": "failed"}
        self.update(f"{label.get(turn.status or '', 'ended')} · {plural(len(turn.steps), 'step')}{rate} · ready")
