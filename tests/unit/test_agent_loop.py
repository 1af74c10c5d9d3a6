"""The CodeAct loop with a scripted model and the real sandbox."""

import pytest

from runtime.agent import Agent, AgentOptions
from runtime.agent import events as ev
from runtime.agent.grammar import step_grammar
from runtime.agent.loop import COMPUTE_FIRST, is_bare_answer, only_shows
from runtime.agent.parse import FORMAT_HELP
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Tool, Toolset, ToolSpec
from tests.fakes import ScriptedModel


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxPolicy(timeout_s=5)) as box:
        yield box


def run(model, sandbox, question="q", **options):
    events = list(Agent(model, sandbox, options=AgentOptions(**options)).run(question))
    assert isinstance(events[-1], ev.RunFinished)
    return events, events[-1].trace


def step(code, thought="do it"):
    return f"{thought}\n```python\n{code}\n```"


def test_two_step_run_answers_with_the_computed_value(sandbox):
    model = ScriptedModel([step("x = sum(p * p for p in [2, 3, 5])\nprint(x)"), step("final_answer(x)")])
    events, trace = run(model, sandbox)
    assert trace.status == "answered"
    assert trace.answer == 38
    assert [s.observation for s in trace.steps] == ["38", "Final answer: 38"]
    kinds = [e.kind for e in events]
    assert kinds[:3] == ["run_started", "prefix_ready", "step_started"]
    assert kinds.count("action") == 2 and kinds.count("final_answer") == 1
    # the observation of step 1 was shown to the model in step 2's prompt
    assert "Observation: 38" in model.prompts[1]


def test_every_prompt_starts_with_the_fixed_prefix(sandbox):
    model = ScriptedModel([step("print(1)"), step("final_answer(1)")])
    run(model, sandbox, question="What is one?")
    prefix = model.prefixes[0][-1]
    assert "final_answer" in prefix and "What is one?" not in prefix
    assert all(p.startswith(prefix) for p in model.prompts)
    assert all(p.endswith("Thought: ") for p in model.prompts)


def test_parse_failure_becomes_an_observation_and_the_run_continues(sandbox):
    model = ScriptedModel(["The answer is obviously 4.", step("final_answer(2 + 2)")])
    events, trace = run(model, sandbox)
    assert trace.status == "answered" and trace.answer == 4
    assert trace.steps[0].error_kind == "parse" and trace.steps[0].code is None
    assert FORMAT_HELP in model.prompts[1]
    assert any(isinstance(e, ev.ParseFailed) for e in events)


def test_runtime_error_is_shown_to_the_model(sandbox):
    model = ScriptedModel([step("print(1 / 0)"), step("final_answer('oops')")])
    _, trace = run(model, sandbox)
    assert not trace.steps[0].ok
    assert "ZeroDivisionError" in trace.steps[0].observation
    assert "ZeroDivisionError" in model.prompts[1]


def test_step_limit_ends_the_run_with_a_clear_status(sandbox):
    model = ScriptedModel([step("print('again')")] * 5)
    _, trace = run(model, sandbox, max_steps=3)
    assert trace.status == "step_limit"
    assert trace.answer is None
    assert len(trace.steps) == 3


def test_generation_stops_at_the_closing_fence(sandbox):
    chatty = step("print(7)") + "\nObservation: 7\nThought: more text the model should not write"
    model = ScriptedModel([chatty, step("final_answer(7)")])
    _, trace = run(model, sandbox)
    assert trace.steps[0].raw.endswith("```")
    assert "should not write" not in model.prompts[1]


def test_trace_records_code_thought_and_timings(sandbox):
    model = ScriptedModel([step("final_answer(3)", thought="easy.")])
    _, trace = run(model, sandbox, question="1+2?")
    record = trace.steps[0]
    assert (record.thought, record.code, record.final) == ("easy.", "final_answer(3)", True)
    assert record.timings.completion_tokens > 0 and record.timings.action_s >= 0
    again = ev.RunTrace.model_validate_json(trace.model_dump_json())
    assert again == trace


def test_tools_are_listed_in_the_prompt_and_callable():
    spec = ToolSpec(
        name="double",
        qualified_name="test.double",
        description="Return twice n.",
        signature="(n: int) -> int",
        param_names=["n"],
    )
    toolset = Toolset([Tool(spec=spec, handler=lambda args: args["n"] * 2)])
    model = ScriptedModel([step("final_answer(double(21))")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        events = list(Agent(model, box, tools=toolset.specs()).run("q"))
    static, listed, with_tools = model.prefixes[0]
    assert "def double(n: int) -> int:" in listed and with_tools.startswith(listed)
    # the tools come after the static instructions, so another tool selection reuses that part
    assert "def double" not in static and with_tools.startswith(static)
    assert model.prompts[0].startswith(with_tools)
    assert events[-1].trace.answer == 42


def test_a_fitting_tool_the_fixed_list_lacks_follows_it():
    # the fixed list's prompt state (`runtime warm`) stays a start of every question's prompt
    listed_spec = ToolSpec(name="triple", qualified_name="t.triple", signature="(n: int) -> int", param_names=["n"])
    spec = ToolSpec(name="double", qualified_name="t.double", signature="(n: int) -> int", param_names=["n"])
    toolset = Toolset([Tool(spec=s, handler=lambda args: args["n"] * 2) for s in (listed_spec, spec)])
    model = ScriptedModel([step("final_answer(double(21))")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        agent = Agent(model, box, tools=[listed_spec], task_tools=[spec], hints=["double"], fits="double")
        events = list(agent.run("q"))
    static, listed, system = model.prefixes[0]
    assert "def triple" in listed and "def double" not in listed
    assert system.startswith(listed + " \n\nAlso ready to call:") and "def double" in system
    assert events[0].tools == ["triple", "double"] and events[-1].trace.answer == 42


def test_hinted_tools_are_named_in_the_task(sandbox):
    spec = ToolSpec(name="double", qualified_name="t.double", signature="(n: int) -> int", param_names=["n"])
    model = ScriptedModel([step("final_answer(1)")])
    list(Agent(model, sandbox, tools=[spec], hints=["double"]).run("q"))
    assert "Task: q\nHint: call double(...) in your code; it is already defined." in model.prompts[0]


def test_a_repeated_failing_action_is_pointed_out(sandbox):
    model = ScriptedModel([step("print(undefined_name)")] * 2 + [step("final_answer(0)")])
    _, trace = run(model, sandbox)
    assert "previous step" not in trace.steps[0].observation
    assert "same code in the previous step" in trace.steps[1].observation
    assert "same code in the previous step" in model.prompts[2]


def test_a_repeated_failing_action_stays_in_the_history_once(sandbox):
    model = ScriptedModel([step("print(undefined_name)")] * 3 + [step("final_answer(0)")])
    _, trace = run(model, sandbox)
    assert [s.code for s in trace.steps[:3]] == ["print(undefined_name)"] * 3  # the trace keeps every step
    for prompt in model.prompts[1:]:
        assert prompt.count("print(undefined_name)") == 1  # the model sees its code once, not three times
    assert model.prompts[3].count("NameError") == 1 and "write different code" in model.prompts[3]


def test_a_repeated_failure_or_a_repeated_result_gets_a_nudge(sandbox):
    model = ScriptedModel(
        [step("1 / 0"), step("1 / 0"), step("print(7)"), step("print(3 + 4)"), step("print(7)"), step("final_answer(7)")]
    )
    _, trace = run(model, sandbox, max_steps=6)
    first, again, seven, same, third, _ = (s.observation for s in trace.steps)
    assert "same code" not in first and again.endswith("failed the same way: write different code.")
    assert seven == "7"
    nudge = "7\nThis is the same result as in the previous step: if it answers the task, call final_answer with it: final_answer(7)."
    assert same == nudge and third == nudge  # compared without the earlier nudge
    assert "final_answer(7)." in model.prompts[4]
    assert model.temperatures == [0.0, 0.0, 0.7, 0.0, 0.7, 0.7]  # after each nudge, a sampled step: greedy would repeat
    step_format, answer_only = step_grammar(), step_grammar(final=True)
    assert model.grammars == [step_format] * 4 + [answer_only] * 2  # after a repeated result, and at the last step


def test_a_repeated_printed_expression_is_suggested_as_a_string(sandbox):
    code = "print('2 + 4 + 6 + 12')"
    model = ScriptedModel([step(code), step(code), step("final_answer('2 + 4 + 6 + 12')")])
    _, trace = run(model, sandbox)
    assert trace.steps[1].observation.endswith("final_answer('2 + 4 + 6 + 12').")  # bare, it would evaluate to 24
    assert trace.answer == "2 + 4 + 6 + 12"


def test_printing_nothing_twice_is_not_a_result_to_answer_with(sandbox):
    model = ScriptedModel([step("x = 1"), step("x = 1"), step("final_answer(x)")])
    _, trace = run(model, sandbox)
    assert trace.steps[1].observation == "(no output; use print() to see values)"  # no "final_answer('(no output...')"
    assert model.grammars[2] == step_grammar()  # and no answer-only step forced after it


def test_a_wrong_final_answer_call_names_final_answer(sandbox):
    model = ScriptedModel([step("final_answer(value='a')"), step("final_answer('a')")])
    _, trace = run(model, sandbox)
    assert trace.steps[0].observation.startswith("Error: TypeError: final_answer() got an unexpected keyword argument 'value'")


def test_the_last_step_may_only_answer(sandbox):
    model = ScriptedModel([step("print(1)"), step("print(2)"), step("final_answer(2)")])
    _, trace = run(model, sandbox, max_steps=3)
    assert model.grammars == [step_grammar(), step_grammar(), step_grammar(final=True)]
    assert trace.answer == 2


def test_compute_first_refuses_an_answer_written_from_memory(sandbox):
    """The prompt asks for final_answer only after a printed result; compute_first holds it to that."""
    model = ScriptedModel([step("final_answer('8 + 4 * 1 * 4')"), step("print(8 + 4 * 1 * 4)"), step("final_answer(24)")])
    events, trace = run(model, sandbox, compute_first=True)
    first = trace.steps[0]
    assert not first.ok and not first.final and first.answer is None and first.error_kind == "unchecked"
    assert first.observation == COMPUTE_FIRST and f"Observation: {COMPUTE_FIRST}" in model.prompts[1]
    assert trace.status == "answered" and trace.answer == 24 and len(trace.steps) == 3
    assert [e.answer for e in events if isinstance(e, ev.FinalAnswer)] == [24]


def test_compute_first_accepts_computed_answers_and_the_last_step(sandbox):
    computed = ScriptedModel([step("final_answer(17 * 23 + 5)")])
    assert run(computed, sandbox, compute_first=True)[1].answer == 396  # code did the arithmetic
    at_limit = ScriptedModel([step("final_answer(3)"), step("final_answer(3)")])
    _, trace = run(at_limit, sandbox, compute_first=True, max_steps=2)
    assert trace.answer == 3 and trace.steps[0].error_kind == "unchecked"  # the last step must answer
    off = ScriptedModel([step("final_answer(3)")])
    assert run(off, sandbox)[1].answer == 3  # off by default: the answer is taken as before


@pytest.mark.parametrize(
    ("code", "bare"),
    [
        ("final_answer(24)", True),
        ("final_answer('(1 + 2) * 8')", True),
        ("final_answer(-3.5)", True),
        ("# sure\nfinal_answer([1, 2])", True),
        ("final_answer(x)", False),
        ("final_answer(6 * 4)", False),
        ("print(1)\nfinal_answer(1)", False),
        ("final_answer(answer=1)", False),
        ("def f(:", False),
    ],
)
def test_a_bare_answer_is_a_literal_alone(code, bare):
    assert is_bare_answer(code) is bare


def _puzzle_tools() -> tuple[Toolset, list[ToolSpec]]:
    """solve_24 and check_24 stand-ins with real handlers: the parent answers the sandbox's calls."""
    from runtime.tools import ToolExample

    solve = ToolSpec(
        name="solve_24", qualified_name="math.solve_24", description="Solve the Game of 24.",
        signature="(numbers: list[int]) -> str | None", param_names=["numbers"],
        example=ToolExample(args={"numbers": [3, 3, 8, 8]}, result="8 / (3 - 8 / 3)"),
    )
    check = ToolSpec(
        name="check_24", qualified_name="math.check_24", description="Check a Game of 24 answer.",
        signature="(expression: str, numbers: list[int]) -> dict", param_names=["expression", "numbers"],
    )

    def checked(args):
        ok = args["expression"].replace(" ", "") == "8*(4+7-8)"
        return {"ok": ok, "value": "24" if ok else "12", "reason": "correct" if ok else "equals 12, not 24"}

    toolset = Toolset([Tool(spec=solve, handler=lambda args: "8 * (4 + 7 - 8)"), Tool(spec=check, handler=checked)])
    return toolset, [solve, check]


GAME = "Use the numbers 4 7 8 8 and + - * / to make 24. Answer with the expression only."


def test_a_tool_that_fits_is_demonstrated_with_a_verified_call():
    toolset, specs = _puzzle_tools()
    model = ScriptedModel([step("result = solve_24([4, 7, 8, 8])\nprint(result)"), step("final_answer(result)")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        options = AgentOptions(guided_call=False)
        agent = Agent(model, box, tools=specs, options=options, hints=["solve_24"], fits="solve_24", calls=toolset.calls)
        trace = list(agent.run(GAME))[-1].trace
    assert trace.answer == "8 * (4 + 7 - 8)"
    task = model.prompts[0].split("Task: ")[-1]
    assert "result = solve_24(numbers=[3, 3, 8, 8])" in task and "Observation: 8 / (3 - 8 / 3)" in task
    assert model.grammars == [step_grammar(), step_grammar()]


def test_the_target_number_is_refused_as_an_answer_and_the_model_tries_again():
    toolset, specs = _puzzle_tools()
    model = ScriptedModel([step("result = solve_24([4, 7, 8, 8])\nprint(result)"), step("final_answer(24)"),
                           step("final_answer(result)")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        trace = list(Agent(model, box, tools=specs, calls=toolset.calls).run(GAME))[-1].trace
    assert trace.status == "answered" and trace.answer == "8 * (4 + 7 - 8)"
    assert trace.steps[1].error_kind == "unchecked" and "target" in trace.steps[1].observation


def test_an_answer_the_runs_own_check_rejected_is_never_returned():
    toolset, specs = _puzzle_tools()
    guess = "final_answer('(4 + 7) * 8 / 8')"
    model = ScriptedModel([step("print(check_24('(4 + 7) * 8 / 8', [4, 7, 8, 8]))"), step(guess), step(guess)])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        agent = Agent(model, box, tools=specs, options=AgentOptions(max_steps=3), calls=toolset.calls)
        trace = list(agent.run(GAME))[-1].trace
    assert trace.status == "step_limit" and trace.answer is None
    assert all("equals 12, not 24" in s.observation for s in trace.steps[1:])


def test_a_call_that_copies_the_demonstrations_values_is_sent_back():
    toolset, specs = _puzzle_tools()
    model = ScriptedModel([step("result = solve_24([3, 3, 8, 8])\nprint(result)"),
                           step("result = solve_24([4, 7, 8, 8])\nprint(result)"), step("final_answer(result)")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        options = AgentOptions(guided_call=False)
        agent = Agent(model, box, tools=specs, options=options, hints=["solve_24"], fits="solve_24", calls=toolset.calls)
        trace = list(agent.run(GAME))[-1].trace
    assert not trace.steps[0].ok and "example's values" in trace.steps[0].observation
    assert trace.answer == "8 * (4 + 7 - 8)" and len(trace.steps) == 3


def test_a_guided_call_opens_the_first_step_and_the_tools_answer_becomes_the_final_answer():
    toolset, specs = _puzzle_tools()
    model = ScriptedModel([step("result = solve_24([4, 7, 8, 8])\nprint(result)"), step("final_answer(result)")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        agent = Agent(model, box, tools=specs, options=AgentOptions(guided_call=True), hints=["solve_24"],
                      fits="solve_24", calls=toolset.calls)
        trace = list(agent.run(GAME))[-1].trace
    assert trace.answer == "8 * (4 + 7 - 8)"
    assert "solve_24 answered this task" in trace.steps[0].observation
    assert "For example" not in model.prompts[0]  # the grammar shows the call; a demonstration got copied
    assert model.grammars == [
        step_grammar(opening="result = solve_24("), step_grammar(final=True, opening="final_answer(result")
    ]


def test_a_guided_call_whose_result_the_step_computes_on_is_not_taken_as_the_answer():
    # `runtime solve "What is the sum of the squares of the first 20 primes?"` called
    # `result = nth_prime(20)`, went on computing, and was made to answer 71, nth_prime's result
    toolset, specs = _puzzle_tools()
    computed = "result = solve_24([4, 7, 8, 8])\nlength = len(result)\nprint(length)"
    model = ScriptedModel([step(computed), step("final_answer(result)")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        agent = Agent(model, box, tools=specs, options=AgentOptions(guided_call=True), hints=["solve_24"],
                      fits="solve_24", calls=toolset.calls)
        trace = list(agent.run(GAME))[-1].trace
    assert "answered this task" not in trace.steps[0].observation
    assert model.grammars[1] == step_grammar()  # the model writes its own next step
    assert trace.answer == "8 * (4 + 7 - 8)"


@pytest.mark.parametrize(
    ("code", "shows"),
    [
        ("result = solve_24([4, 7, 8, 8])\nprint(result)", True),
        ("result = solve_24([4, 7, 8, 8])", True),
        ("result = solve_24([4, 7, 8, 8])\nresult", True),
        ("numbers = [1, 8, 10, 11]\nresult = solve_24(numbers)\nprint(result)", True),
        ("n = nth_prime(20)\nresult = solve_24([n])\nprint(result)", False),
        ("result = nth_prime(20)\ntotal = sum(p * p for p in range(result))\nprint(total)", False),
        ("result = nth_prime(20)\nprint(result + 1)", False),
        ("result = nth_prime(20)\nprint(result, 'is the 20th')", False),
        ("result = (", False),
    ],
)
def test_only_shows_tells_a_call_shown_from_a_call_computed_on(code, shows):
    assert only_shows(code, "result") is shows


def test_the_thought_after_printed_passages_opens_by_saying_what_they_say(sandbox):
    # The 1.5B model decided BoolQ questions with `if "meter" in text` instead of reading the passage it
    # had printed; opening its next thought with "The passages say" made it read (docs/agent.md)
    passage = "<document>\nThe garden gates open at 6:45 every Saturday.\n</document>"
    model = ScriptedModel([step(f"print({passage!r})"), step("final_answer('6:45')", thought=" the gates open at 6:45.")])
    _, trace = run(model, sandbox)
    assert trace.answer == "6:45"
    assert not model.prompts[0].endswith("The passages say")
    assert model.prompts[1].endswith("Thought: The passages say")
    assert trace.steps[1].raw.startswith("Thought: The passages say the gates open at 6:45.")
