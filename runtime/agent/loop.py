"""The CodeAct loop: the model writes Thought + code, the sandbox runs it, the output comes back.

The agent owns no I/O: it takes a Model, a Sandbox and a Toolset and yields typed events.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Generator, Iterator

from pydantic import BaseModel, Field

from runtime.agent import events as ev
from runtime.agent.answers import answer_problem, copied_example, foreign_values, uses_task_values
from runtime.agent.first_thought import first_thought
from runtime.agent.grammar import step_grammar
from runtime.agent.parse import (
    FORMAT_HELP,
    OBSERVATION,
    THOUGHT,
    ParsedStep,
    ParseError,
    has_complete_block,
    parse_step,
)
from runtime.agent.prompt import (
    WORKED_ANSWER,
    more_tools_section,
    observation_message,
    static_prompt,
    task_message,
    tools_section,
)
from runtime.agent.sag import discard, run_candidates, settle, tally
from runtime.config import MAX_CANDIDATES
from runtime.model.base import (
    ChatMessage,
    Generation,
    Model,
    PrefillProgress,
    PrefixInfo,
    Prompt,
    Sampling,
)
from runtime.retrieval.models import DOC_OPEN
from runtime.sandbox import ExecResult, Sandbox
from runtime.tools import ToolCall, ToolSpec

_MAX_OBSERVATION_CHARS = 2000
_REPEATED = "You ran this same code in the previous step and it failed the same way: write different code."
_REPEATED_RESULT = "This is the same result as in the previous step: if it answers the task, call final_answer with it."
_SHORT_RESULT = 40
NO_OUTPUT = "(no output; use print() to see values)"
_RESULT_NUDGE = _REPEATED_RESULT.split(":")[0]
"""The part every same-result nudge starts with, whether or not it names the result."""
COMPUTE_FIRST = (
    "Error: final_answer was not accepted: nothing has been computed yet. Do not answer from memory: "
    "compute or check the answer with code and print it, then call final_answer."
)


READ_OPENING = "The passages say"
"""The thought that follows printed passages starts by saying what they say: the 1.5B model
otherwise decided BoolQ questions with `if "meter" in text` instead of reading what it printed."""

GUIDED_VARIABLE = "result"
ANSWERED = "{tool} answered this task: pass what it returned to final_answer."


def _repeat_hint(previous: ev.StepRecord, record: ev.StepRecord) -> str | None:
    """A nudge when a step repeats the one before it, which a small model at T=0 otherwise does to
    the step limit. Observations are compared before any nudge was added to them."""
    if not record.ok and record.code and record.code == previous.code:
        return _REPEATED
    same = _plain(record.observation) == _plain(previous.observation) != NO_OUTPUT  # nothing printed is no result
    if record.ok and not record.final and previous.ok and same:
        result = record.observation.strip()
        if "\n" in result or len(result) > _SHORT_RESULT:
            return _REPEATED_RESULT
        return f"{_REPEATED_RESULT[:-1]}: final_answer({_as_argument(result)})."
    return None


def _as_argument(result: str) -> str:
    """A printed result as final_answer's argument: a literal as it is, other text quoted, since a
    printed expression such as `2 + 4 + 6 + 12` would be evaluated to 24 when passed bare."""
    return result if _is_literal(result) else repr(result)


def _is_literal(value: str | ast.expr) -> bool:
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def is_bare_answer(code: str) -> bool:
    """The action is only `final_answer(<literal>)`: an answer the model wrote, not one code computed."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False
    if len(body) != 1 or not isinstance(body[0], ast.Expr) or not isinstance(call := body[0].value, ast.Call):
        return False
    if not isinstance(call.func, ast.Name) or call.func.id != "final_answer" or call.keywords or len(call.args) != 1:
        return False
    return _is_literal(call.args[0])


def only_shows(code: str, variable: str) -> bool:
    """The action assigns `variable` from a call and at most shows it (`print(result)`, `result`),
    nothing else but literal inputs: only then is the tool's result the step's answer. `runtime
    solve "What is the sum of the squares of the first 20 primes?"` called `result =
    nth_prime(20)` and went on computing with it; taking its 71 as the answer was wrong."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return False

    def shown(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id == variable
        return (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
            and not node.keywords and all(isinstance(a, ast.Name) and a.id == variable for a in node.args)
        )

    def allowed(statement: ast.stmt) -> bool:
        if isinstance(statement, ast.Assign):  # the call, or its inputs written out (`numbers = [1, 8, 10, 11]`)
            targets = statement.targets
            if len(targets) != 1 or not isinstance(targets[0], ast.Name):
                return False
            if targets[0].id == variable:
                return isinstance(statement.value, ast.Call)
            return _is_literal(statement.value)
        return isinstance(statement, ast.Expr) and shown(statement.value)

    return bool(body) and all(allowed(statement) for statement in body)


def _plain(observation: str) -> str:
    return observation.split(f"\n{_RESULT_NUDGE}")[0]


class _Stopped(Exception):
    """The user stopped the run while SAG candidates were decoding."""


class AgentOptions(BaseModel):
    max_steps: int = 6
    max_tokens_per_step: int = 512
    temperature: float = 0.0
    unstick_temperature: float = Field(
        default=0.7, ge=0, description="A step after a repeat nudge is sampled this hot: greedy would repeat again."
    )
    top_p: float = 0.95
    seed: int = 0
    grammar: bool = True
    sag: int = Field(default=1, ge=1, le=MAX_CANDIDATES, description="Candidate actions per step; 1 = off.")
    sag_temperature: float = 0.4
    sag_top_p: float = 0.8
    first_thought: bool = False
    compute_first: bool = Field(
        default=False,
        description="Refuse a bare final_answer(literal) until some step has run without error, as the prompt asks.",
    )
    guided_call: bool = Field(
        default=True, description="With the grammar, the first step's code opens with a call of the tool that fits."
    )


def render_observation(result: ExecResult) -> str:
    """What the model reads after its action: printed output, last value, or the error."""
    parts = [result.stdout.rstrip()] if result.stdout.strip() else []
    if result.value is not None and not result.final:
        parts.append(result.value)
    if result.error:
        parts.append(f"Error: {result.error}")
    if result.final:
        parts.append(f"Final answer: {result.answer}")
    text = "\n".join(parts) or NO_OUTPUT
    if len(text) > _MAX_OBSERVATION_CHARS:
        text = text[:_MAX_OBSERVATION_CHARS] + f"\n[... {len(text) - _MAX_OBSERVATION_CHARS} more characters cut]"
    return text


class Agent:
    """Runs one question to a final answer or the step limit, yielding events as it goes."""

    def __init__(
        self,
        model: Model,
        sandbox: Sandbox,
        tools: list[ToolSpec] | None = None,
        task_tools: list[ToolSpec] | None = None,
        options: AgentOptions | None = None,
        instructions: str = "",
        should_stop: Callable[[], bool] = lambda: False,
        hints: list[str] | None = None,
        fits: str | None = None,
        calls: list[ToolCall] | None = None,
        prefill_progress: PrefillProgress | None = None,
    ) -> None:
        """`instructions`: extra system text after the fixed prompt (e.g. a teacher's brief), cached with it.

        `should_stop` is polled while SAG candidates decode (no events flow then, so a consumer
        could not stop the run by closing the event stream); when it turns true the run ends
        "cancelled" and the step's forks are discarded. `hints`: tool names the task message points
        out (see `task_message`). `fits`: the listed tool that fits the question best: the task
        shows a call of it, and the first step's code may open with that call (`guided_call`).
        `task_tools`: tools that fit the task but not the system prompt's fixed list of `tools`,
        shown after it. `calls`: the log of the sandbox's tool calls, to refuse an answer a check
        just rejected.
        `prefill_progress` hears how far the prompt prefix is computed (no events flow while it is,
        and it can take a minute).
        """
        self.hints = hints or []
        self._calls = calls if calls is not None else []
        self.options = options or AgentOptions()
        self._task_tools = task_tools or []
        fitting = next((t for t in (tools or []) + self._task_tools if t.name == fits), None)
        guided = (
            self.options.grammar and "grammar" in model.capabilities and self.options.guided_call and fitting is not None
        )
        # with a guided call the grammar shows the call: a demonstration's values were copied instead
        self._demo = fitting if fitting is not None and fitting.example is not None and not guided else None
        self._prefill_progress = prefill_progress
        self.model = model
        self._should_stop = should_stop
        self.sandbox = sandbox
        self.tools = tools or []
        extra = f"\n\n{instructions}" if instructions else ""
        self._static = static_prompt(list(sandbox.policy.allowed_modules)) + extra
        self._listed = self._static + tools_section(self.tools)
        self.system = self._listed + more_tools_section(self._task_tools)
        constrained = self.options.grammar and "grammar" in model.capabilities
        self._grammar = step_grammar() if constrained else None
        self._final_grammar = step_grammar(final=True) if constrained else None
        self._guided_grammar = step_grammar(opening=f"{GUIDED_VARIABLE} = {fits}(") if guided else None
        self._answer_grammar = step_grammar(final=True, opening=f"final_answer({GUIDED_VARIABLE}") if guided else None
        self._shown = self.system + (task_message("", [fits], self._demo) if fits else "")
        """The examples the model was shown: an answer copied from them is not this task's."""
        self._question = ""
        self._first_call = self._seen_calls = 0
        self._fits = fits if fitting is not None else None
        self._tool_answered = False
        self._foreign: list[str] = []
        self._refused: list[str] = []
        self._stop = [f"\n{OBSERVATION}", model.end_of_turn]

    def system_parts(self) -> list[str]:
        """Cacheable starts of the system message: the static instructions, those plus the listed
        tools (the same for every question), then those plus the tools that fit this one."""
        return [self._static, self._listed, self.system]

    def warm_prefix(self, question: str) -> PrefixInfo | None:
        """Put the prompt's fixed start into the model's KV cache (from memory, disk, or computed);
        None from a backend without a prefix cache."""
        return self.model.warm_prefix(self._messages(question), self.system_parts(), self._prefill_progress)

    def _messages(self, question: str) -> list[ChatMessage]:
        return [
            ChatMessage(role="system", content=self.system),
            ChatMessage(role="user", content=task_message(question, self.hints, self._demo)),
        ]

    def run(self, question: str) -> Iterator[ev.Event]:
        started = time.perf_counter()
        self._question, self._first_call, self._refused = question, len(self._calls), []
        self._seen_calls = self._first_call
        tools = [t.name for t in self.tools + self._task_tools]
        trace = ev.RunTrace(question=question, model=self.model.name, status="step_limit", tools=tools, hints=self.hints)
        yield ev.RunStarted(question=question, model=self.model.name, tools=tools)
        plan = ""
        if self.options.first_thought:  # before the prefix: the plan's own prompt evicts it from the KV cache
            thought = first_thought(self.model, question, self.options.seed)
            trace.first_thought = plan = thought.text
            yield thought
        prefix = self.warm_prefix(question)
        if prefix is not None:
            trace.prefix = ev.PrefixReady(**prefix.model_dump())
            yield trace.prefix
        messages = self._messages(question)
        hint: str | None = None
        answered = False  # the fitting tool returned a result for the task's values (guided_call)
        for step in range(1, self.options.max_steps + 1):
            yield ev.StepStarted(step=step)
            opening = f"{THOUGHT} {plan}" if step == 1 and plan else f"{THOUGHT} "
            # the last step, or one after the same result twice, must answer (as smolagents asks for
            # a final answer at its step limit); the grammar makes its code a final_answer call
            must_answer = step == self.options.max_steps or (hint or "").startswith(_RESULT_NUDGE) or answered
            if trace.steps and DOC_OPEN in trace.steps[-1].observation:
                opening = f"{THOUGHT} {READ_OPENING}"
            grammar = self._final_grammar if must_answer else self._grammar
            if step == 1 and self._guided_grammar and not must_answer:
                grammar = self._guided_grammar
            if answered:  # the answer is what the guided call returned
                grammar = self._answer_grammar
            # the prompt's rule "final_answer only after you have seen the printed result", enforced
            bare_ok = must_answer or not self.options.compute_first or any(s.ok for s in trace.steps)
            try:
                if self.options.sag > 1:
                    record = yield from self._vote_step(step, messages, opening, grammar, bare_ok)
                else:
                    temperature = max(self.options.temperature, self.options.unstick_temperature if hint else 0.0)
                    record = yield from self._step(step, messages, opening, temperature, grammar, bare_ok)
            except _Stopped:
                trace.status = "cancelled"
                break
            if hint := _repeat_hint(trace.steps[-1], record) if trace.steps else None:
                record.observation += f"\n{hint}"  # greedy decoding would loop on it forever
            answered = self._tool_answered and record.ok and not record.final
            if answered:
                record.observation += f"\n{ANSWERED.format(tool=self._fits)}"
            trace.steps.append(record)
            yield ev.StepFinished(record=record)
            if record.final:
                trace.status, trace.answer = "answered", record.answer
                yield ev.FinalAnswer(step=step, answer=record.answer)
                break
            observed = ChatMessage(role="user", content=observation_message(record.observation))
            if hint == _REPEATED:  # keep one copy: each copy in the context makes the next one likelier
                messages[-1] = observed
                continue
            messages += [ChatMessage(role="assistant", content=record.raw), observed]
        trace.wall_s = time.perf_counter() - started
        yield ev.RunFinished(trace=trace)

    def _read_calls(self, code: str) -> str | None:
        """Look at the tool calls this step's `code` made: returns the demonstration's arguments when
        the step called the tool with them instead of the task's, and notes whether the fitting tool
        answered for the task's own values in a step that only showed its result (then, with
        `guided_call`, the next step must answer)."""
        new_calls = self._calls[self._seen_calls :]
        self._seen_calls = len(self._calls)
        self._tool_answered = self._guided_grammar is not None and only_shows(code, GUIDED_VARIABLE) and any(
            c.name == self._fits and isinstance(c.result, str | int | float) and c.result not in ("", True, False)
            and uses_task_values(self._question, c.arguments)
            for c in new_calls
        )
        self._foreign = sorted(  # values the task never gives, passed to the tool that fits it (`target=30`)
            {a for c in new_calls if c.name == self._fits for a in foreign_values(self._question, c.arguments)}
        )
        demo = self._demo
        if demo is None or demo.example is None:
            return None
        copied = copied_example(self._question, demo.example.args, new_calls, demo.name)
        return None if copied is None else ", ".join(f"{k}={v!r}" for k, v in copied.arguments.items())

    def _answer_problem(self, answer: object) -> str | None:
        """Why a final answer is refused (see runtime.agent.answers); a form complaint is made once
        per answer, so a model that insists is believed, but a refuted answer is never accepted."""
        calls = self._calls[self._first_call :]
        problem = answer_problem(self._question, answer, calls, self._shown, WORKED_ANSWER)
        key = repr(answer)
        if problem is None or (key in self._refused and not problem.firm):
            return None
        self._refused.append(key)
        return problem.reason

    def _generate(
        self, step: int, messages: list[ChatMessage], opening: str, temperature: float, grammar: str | None
    ) -> Iterator[ev.Event | Generation]:
        sampling = Sampling(
            max_tokens=self.options.max_tokens_per_step,
            temperature=temperature,
            top_p=self.options.top_p,
            seed=self.options.seed + step,
            stop=self._stop,
            grammar=grammar,
        )
        prompt = Prompt(messages=messages, continue_assistant=opening)
        yield from (
            item if isinstance(item, Generation) else ev.TextDelta(step=step, text=item)
            for item in self.model.stream(prompt, sampling, has_complete_block)
        )

    def _step(
        self,
        step: int,
        messages: list[ChatMessage],
        opening: str,
        temperature: float,
        grammar: str | None,
        bare_ok: bool = True,
    ) -> Generator[ev.Event, None, ev.StepRecord]:
        """One Thought → code → Observation cycle; returns its StepRecord (via StopIteration)."""
        generation: Generation | None = None
        for item in self._generate(step, messages, opening, temperature, grammar):
            if isinstance(item, Generation):
                generation = item
            else:
                yield item
        assert generation is not None
        raw = f"{opening}{generation.text}".rstrip()
        timings = ev.StepTimings(
            prompt_tokens=generation.prompt_tokens,
            cached_tokens=generation.cached_tokens,
            completion_tokens=generation.completion_tokens,
            prefill_s=generation.prefill_s,
            decode_s=generation.decode_s,
        )
        try:
            parsed = parse_step(raw)
        except ParseError as exc:
            yield ev.ParseFailed(step=step, text=raw, message=str(exc))
            return ev.StepRecord(step=step, raw=raw, observation=str(exc), error_kind="parse", timings=timings)
        yield ev.ActionParsed(step=step, thought=parsed.thought, code=parsed.code)
        result = self.sandbox.run(parsed.code)
        return (yield from self._observed(step, raw, parsed, result, timings, bare_ok=bare_ok))

    def _vote_step(
        self, step: int, messages: list[ChatMessage], opening: str, grammar: str | None, bare_ok: bool = True
    ) -> Generator[ev.Event, None, ev.StepRecord]:
        """A step with self-consistent action generation: N candidates, run in forks, the majority's kept."""
        sampling = Sampling(
            max_tokens=self.options.max_tokens_per_step,
            temperature=self.options.sag_temperature,
            top_p=self.options.sag_top_p,
            seed=self.options.seed + step,
            stop=self._stop,
            grammar=grammar,
        )
        prompt = Prompt(messages=messages, continue_assistant=opening)
        found = run_candidates(self.model, self.sandbox, prompt, self.options.sag, sampling, self._should_stop)
        if self._should_stop():
            discard(found)
            raise _Stopped
        vote = tally(found, step, render_observation)
        winner = found.outcomes[vote.winner]
        settle(self.sandbox, found, winner)
        yield vote
        generation = winner.generation
        timings = ev.StepTimings(
            prompt_tokens=generation.prompt_tokens,
            cached_tokens=generation.cached_tokens,
            completion_tokens=generation.completion_tokens,
            prefill_s=generation.prefill_s,
            decode_s=max(o.generation.decode_s for o in found.outcomes),
        )
        if winner.parsed is None or (result := winner.result) is None:
            yield ev.ParseFailed(step=step, text=winner.raw, message=FORMAT_HELP)
            return ev.StepRecord(
                step=step, raw=winner.raw, observation=FORMAT_HELP, error_kind="parse", timings=timings, vote=vote
            )
        yield ev.ActionParsed(step=step, thought=winner.parsed.thought, code=winner.parsed.code)
        return (yield from self._observed(step, winner.raw, winner.parsed, result, timings, vote, bare_ok))

    def _observed(
        self,
        step: int,
        raw: str,
        parsed: ParsedStep,
        result: ExecResult,
        timings: ev.StepTimings,
        vote: ev.Vote | None = None,
        bare_ok: bool = True,
    ) -> Generator[ev.Event, None, ev.StepRecord]:
        """Report what the action gave; returns the step's record. Without `bare_ok`, an answer the
        model only wrote down (`final_answer(24)`) is refused: on Game of 24 all 261 such
        first-step answers in our runs were wrong (docs/agent.md)."""
        timings.action_s = result.duration_s
        if (copied := self._read_calls(parsed.code)) is not None:
            text = (
                f"Error: that call used the example's values {copied}, not this task's. "
                f"Call {self._demo.name if self._demo else 'the tool'} again with the values given in the task."
            )
            yield ev.ObservationEvent(step=step, text=text, ok=False, error_kind="unchecked", duration_s=result.duration_s)
            return ev.StepRecord(
                step=step, raw=raw, thought=parsed.thought, code=parsed.code, observation=text, ok=False,
                error_kind="unchecked", timings=timings, vote=vote,
            )
        refused = result.final and not bare_ok and is_bare_answer(parsed.code)
        observation = COMPUTE_FIRST if refused else render_observation(result)
        if self._foreign and not result.final:
            given = ", ".join(self._foreign)
            observation += f"\nNote: {self._fits} was given {given}, which the task does not give; use the task's values."
        if result.final and not refused and (problem := self._answer_problem(result.answer)):
            shown = render_observation(result.model_copy(update={"final": False}))  # what it printed first
            refused, observation = True, f"{shown}\nError: final_answer was not accepted: {problem}."
            if shown == NO_OUTPUT:
                observation = f"Error: final_answer was not accepted: {problem}."
        ok, kind = (False, "unchecked") if refused else (result.ok, result.error_kind)
        yield ev.ObservationEvent(step=step, text=observation, ok=ok, error_kind=kind, duration_s=result.duration_s)
        return ev.StepRecord(
            step=step,
            raw=raw,
            thought=parsed.thought,
            code=parsed.code,
            observation=observation,
            ok=ok,
            error_kind=kind,
            final=result.final and not refused,
            answer=None if refused else result.answer,
            timings=timings,
            vote=vote,
        )
