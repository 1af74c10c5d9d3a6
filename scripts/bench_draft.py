"""Decode speed of the agent's real steps with and without prompt-lookup drafting, output asserted equal.

The agent (shipped boxes, tool pick, step grammar: `AgentKit`, as `runtime solve` builds it)
answers questions of several kinds through a model that decodes every step several ways from the
same cached prompt, alternating which goes first:
- off: drafting off, on the batch-invariant context that drafting needs (`RUNTIME_DRAFT` > 0);
- on (one per `--draft` size): drafting on, same context; its text, log-probabilities and KV
  tokens are asserted equal to off's;
- base (unless `--no-base`): today's default, a second model loaded with `RUNTIME_DRAFT=0`
  (f16 K cache, no flash attention); its numbers differ in the last bits, so its text may differ
  and is only counted;
- base-on (one per `--base-draft` size): drafting on today's context, where a batch's logits differ in
  the last bits from a single token's: what drafting would gain without the batch-invariant
  context, its steps that differ from base counted, not asserted.
The agent goes on with off's step. Decode tok/s = tokens / decode seconds over all steps.

    python scripts/bench_draft.py [--models qwen2.5-coder-0.5b qwen2.5-coder-1.5b] [--draft 1 2] [--base-draft 2 8] [--limit 10] [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from runtime import kit as agent_kit
from runtime.agent import events as ev
from runtime.config import Settings
from runtime.eval.suites import game24_prompt
from runtime.model.backend import LlamaModel
from runtime.model.base import Generation, Prompt, Sampling, Until
from runtime.model.store import resolve

QUESTIONS = [
    game24_prompt([4, 7, 8, 8]),
    game24_prompt([1, 5, 5, 5]),
    game24_prompt([3, 3, 8, 8]),
    "Tom has 3 boxes of 12 pencils and gives away 7 pencils. How many pencils does he have left?",
    "A train travels 180 km in 2.5 hours. What is its average speed in km per hour?",
    "Anna is 4 years older than Ben, and together they are 30. How old is Anna?",
    "What day of the week was 14 March 2021?",
    "How many days are there between 2024-02-10 and 2024-05-03?",
    "What is the sum of the squares of the first 20 prime numbers?",
    "How many times does the letter r occur in 'strawberry raspberry'?",
]


@dataclass
class Tally:
    """Tokens and decode seconds of one way of decoding, over all steps."""

    tokens: int = 0
    seconds: float = 0.0
    drafted: int = 0
    accepted: int = 0
    differs: int = 0
    steps: list[float] = field(default_factory=list)

    def add(self, generation: Generation) -> None:
        self.tokens += generation.completion_tokens
        self.seconds += generation.decode_s
        self.drafted += generation.drafted_tokens
        self.accepted += generation.accepted_tokens

    @property
    def tok_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


class Bench:
    """The model the agent drives: decodes each step every way, checks, and times them."""

    def __init__(self, model: LlamaModel, base: LlamaModel | None, drafts: list[int], base_drafts: list[int]) -> None:
        self.model, self.base, self.drafts, self.base_drafts = model, base, drafts, base_drafts
        self.name, self.end_of_turn, self.capabilities = model.name, model.end_of_turn, model.capabilities
        self.tallies: dict[str, Tally] = {"off": Tally(), **{f"on{k}": Tally() for k in drafts}}
        if base is not None:
            self.tallies["base"] = Tally()
            self.tallies.update({f"base-on{k}": Tally() for k in base_drafts})
        self.calls = 0

    def warm_prefix(self, *args, **kwargs):
        if self.base is not None:
            self.base.warm_prefix(*args, **kwargs)
        return self.model.warm_prefix(*args, **kwargs)

    def _decode(self, model: LlamaModel, prompt: Prompt, sampling: Sampling, until: Until | None, draft: int):
        model.draft = draft
        *pieces, generation = model.stream(prompt, sampling, until)
        assert isinstance(generation, Generation)
        return pieces, generation, list(model.llm.input_ids[: model.llm.n_tokens])

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        one = sampling.model_copy(update={"max_tokens": 1})
        self._decode(self.model, prompt, one, None, 0)  # the prompt into the KV cache: every way starts there
        ways: list[tuple[str, LlamaModel, int]] = [("off", self.model, 0)] + [(f"on{k}", self.model, k) for k in self.drafts]
        if self.base is not None:
            self._decode(self.base, prompt, one, None, 0)
            ways += [("base", self.base, 0)] + [(f"base-on{k}", self.base, k) for k in self.base_drafts]
        if self.calls % 2:
            ways.reverse()
        self.calls += 1
        results = {name: self._decode(model, prompt, sampling, until, draft) for name, model, draft in ways}
        off_pieces, off, off_tokens = results["off"]
        for name, (pieces, generation, tokens) in results.items():
            if name.startswith("base"):
                self.tallies[name].differs += generation.text != results["base"][1].text if "-" in name else generation.text != off.text
            elif name != "off":
                assert (pieces, tokens) == (off_pieces, off_tokens), f"{name}: output differs from off"
                assert (generation.text, generation.mean_logprob) == (off.text, off.mean_logprob), name
            self.tallies[name].add(generation)
        yield from off_pieces
        yield off


def load(settings: Settings, name: str, draft: int) -> LlamaModel:
    loaded = settings.model_copy(update={"draft": draft})
    return LlamaModel(*resolve(loaded, name), loaded)


def bench_model(settings: Settings, tools: agent_kit.KitTools, name: str, args: argparse.Namespace) -> None:
    model = load(settings, name, max(args.draft))
    base = None if args.no_base else load(settings, name, 0)
    bench = Bench(model, base, args.draft, args.base_draft)
    kit = agent_kit.AgentKit(settings, bench, tools)
    print(f"\n== {name}: threads={settings.threads}, drafts {args.draft}, load average at start "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    for question in QUESTIONS[: args.limit]:
        started = time.perf_counter()
        before = {k: (t.tokens, t.seconds, t.accepted) for k, t in bench.tallies.items()}
        trace = next(e for e in kit.run(question) if isinstance(e, ev.RunFinished)).trace
        parts = []
        for key, tally in bench.tallies.items():
            tokens, seconds, accepted = (a - b for a, b in zip((tally.tokens, tally.seconds, tally.accepted), before[key]))
            rate = f" {accepted}acc" if key.startswith("on") else ""
            parts.append(f"{key} {tokens / seconds if seconds else 0:.1f}{rate}")
        print(f"  {time.perf_counter() - started:5.0f} s, {len(trace.steps)} steps, {trace.status:10s} "
              f"load {os.getloadavg()[0]:.2f} | tok/s {', '.join(parts)} | {question[:48]!r}", flush=True)
    off = bench.tallies["off"]
    print(f"{name}: {bench.calls} steps, {off.tokens} tokens; decode tok/s (load average at end {os.getloadavg()[0]:.2f})")
    for key, tally in bench.tallies.items():
        line = f"  {key:5s} {tally.tok_s:6.2f} tok/s  {tally.seconds:7.1f} s"
        if "on" in key:
            line += (f"  acceptance {tally.accepted}/{tally.drafted} = {tally.accepted / max(tally.drafted, 1):.2f}, "
                     f"{tally.accepted / max(tally.tokens, 1):.2f} of the tokens")
        if key.startswith("on"):
            line += f"  ratio on/off {tally.tok_s / off.tok_s:.3f}"
            if "base" in bench.tallies:
                line += f"  ratio on/base {tally.tok_s / bench.tallies['base'].tok_s:.3f}"
        if key == "base":
            line += f"  ratio off/base {off.tok_s / tally.tok_s:.3f}  steps whose text differs from off: {tally.differs}"
        if key.startswith("base-on"):
            line += (f"  ratio {key}/base {tally.tok_s / bench.tallies['base'].tok_s:.3f}  steps whose text differs "
                     f"from base: {tally.differs}")
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
    parser.add_argument("--draft", type=int, nargs="+", default=[2], help="draft sizes to compare (default: %(default)s)")
    parser.add_argument("--limit", type=int, default=len(QUESTIONS))
    parser.add_argument("--max-steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-base", action="store_true", help="skip today's default context (a second model)")
    parser.add_argument("--base-draft", type=int, nargs="*", default=[], help="draft sizes to try on today's context too")
    args = parser.parse_args()
    settings = Settings(max_steps=args.max_steps, **({"threads": args.threads} if args.threads else {}))
    tools = agent_kit.open_tools(settings, agent_kit.ToolChoice(retrieval=False))
    for name in args.models:
        bench_model(settings, tools, name, args)


if __name__ == "__main__":
    main()
