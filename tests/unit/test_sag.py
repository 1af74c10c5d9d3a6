"""Self-consistent action generation with scripted candidates and the real sandbox."""

import pytest

from runtime.agent import Agent, AgentOptions
from runtime.agent import events as ev
from runtime.agent.parse import FORMAT_HELP
from runtime.agent.sag import observation_key
from runtime.agent.summary import vote_lines
from runtime.sandbox import ExecResult, Sandbox, SandboxPolicy
from runtime.tools import Tool, Toolset, ToolSpec
from tests.fakes import ScriptedModel


@pytest.fixture
def sandbox():
    with Sandbox(SandboxPolicy(timeout_s=5)) as box:
        yield box


def step(code, thought="do it"):
    return f"{thought}\n```python\n{code}\n```"


def run(model, sandbox, n, question="q", tools=None, **options):
    agent = Agent(model, sandbox, tools=tools, options=AgentOptions(sag=n, **options))
    events = list(agent.run(question))
    assert isinstance(events[-1], ev.RunFinished)
    return events, events[-1].trace


def votes(events):
    return [e for e in events if isinstance(e, ev.Vote)]


def test_the_largest_group_of_observations_wins(sandbox):
    right = [step("print(123 * 456)"), step("x = 123 * 456\nprint(x)"), step("y = 56088.0\nprint(y)")]
    wrong = [step("print(123 * 465)"), step("print(132 * 456)")]
    model = ScriptedModel([[wrong[0], right[0], wrong[1], right[1], right[2]], step("final_answer(1)")])
    events, trace = run(model, sandbox, 5)
    vote = votes(events)[0]
    assert [g.size for g in vote.groups] == [3, 1, 1]
    assert vote.groups[0].observation == "56088"
    assert vote.candidates[vote.winner].group == 0
    assert vote_lines(vote) == ["3/5 agree: 56088", "1/5 agree: 57195", "1/5 agree: 60192"]
    assert trace.steps[0].observation == "56088"
    assert trace.steps[0].vote == vote  # recorded in the trace
    assert "Observation: 56088" in model.prompts[1]


def test_losing_candidates_leave_no_state_behind(sandbox):
    winner, loser = step("a = 1\nprint(a)"), step("leak = 2\nprint(leak)")
    check = step("try:\n    leak\n    seen = True\nexcept NameError:\n    seen = False\nfinal_answer([seen, a])")
    model = ScriptedModel([[loser, winner, winner], check])
    _, trace = run(model, sandbox, 3)
    assert trace.answer == [False, 1]


def test_the_winner_is_not_run_again_and_identical_code_runs_once(sandbox):
    count = step("n = 0")
    bump = "n += 1\nprint(n)"
    model = ScriptedModel(
        [count, [step(bump, "add one"), step(bump, "increment"), step(bump, "bump it")], step("final_answer(n)")]
    )
    events, trace = run(model, sandbox, 3)
    assert trace.answer == 1  # a re-run of the winner, or of each copy, would give more
    vote = votes(events)[1]
    assert vote.executions == 1
    assert [g.size for g in vote.groups] == [3]


def test_equal_groups_are_decided_by_mean_logprob(sandbox):
    candidates = [(step("print(1)"), -0.5), (step("print(2)"), -0.3), (step("print(1.0)"), -0.9), (step("print(2)  #"), -2.0)]
    model = ScriptedModel([candidates, step("final_answer(0)")])
    events, trace = run(model, sandbox, 4)
    vote = votes(events)[0]
    assert [g.size for g in vote.groups] == [2, 2]
    assert vote.winner == 1 and trace.steps[0].observation == "2"


def test_equal_logprobs_are_decided_by_shorter_code(sandbox):
    candidates = [(step("x = 7\nprint(x + 1)"), -0.5), (step("print(7)"), -0.5)]
    model = ScriptedModel([candidates, step("final_answer(0)")])
    _, trace = run(model, sandbox, 2)
    assert trace.steps[0].code == "print(7)"


def test_a_final_answer_votes_on_its_answer(sandbox):
    candidates = [step("final_answer(56089)"), step("print('checking')\nfinal_answer(56088.0)"), step("final_answer(56088)")]
    model = ScriptedModel([candidates])
    events, trace = run(model, sandbox, 3)
    vote = votes(events)[0]
    assert [g.size for g in vote.groups] == [2, 1]
    assert trace.status == "answered" and trace.answer == 56088
    assert vote_lines(vote) == ["2/3 agree: 56088", "1/3 agree: 56089"]


def test_failed_candidates_are_dropped_from_the_vote(sandbox):
    candidates = [step("print(1 / 0)"), "no code at all", step("print(41 + 1)")]
    model = ScriptedModel([candidates, step("final_answer(0)")])
    events, trace = run(model, sandbox, 3)
    vote = votes(events)[0]
    assert [g.size for g in vote.groups] == [1]
    assert [c.group for c in vote.candidates] == [None, None, 0]
    assert vote.candidates[1].error_kind == "parse"
    assert trace.steps[0].ok and trace.steps[0].observation == "42"


def test_when_all_fail_the_most_common_error_is_the_observation(sandbox):
    candidates = [step("print(undefined)"), step("print(1 / 0)"), "prose only", step("y = 1 / 0")]
    model = ScriptedModel([candidates, step("final_answer(0)")])
    events, trace = run(model, sandbox, 4)
    vote = votes(events)[0]
    assert vote.groups == []
    assert vote_lines(vote)[0].startswith("4/4 failed; most common: Error: ZeroDivisionError")
    record = trace.steps[0]
    assert not record.ok and "ZeroDivisionError" in record.observation
    assert record.code in ("print(1 / 0)", "y = 1 / 0")
    assert "ZeroDivisionError" in model.prompts[1]


def test_when_no_candidate_parses_the_format_help_is_the_observation(sandbox):
    model = ScriptedModel([["just prose", "more prose"], step("final_answer(0)")])
    events, trace = run(model, sandbox, 2)
    assert trace.steps[0].error_kind == "parse" and trace.steps[0].observation == FORMAT_HELP
    assert any(isinstance(e, ev.ParseFailed) for e in events)
    assert trace.answer == 0  # the session still works after every fork was discarded


def test_repeated_tool_calls_within_a_step_run_once():
    calls = []
    spec = ToolSpec(name="lookup", qualified_name="t.lookup", signature="(q: str) -> str", param_names=["q"])
    toolset = Toolset([Tool(spec=spec, handler=lambda args: calls.append(args["q"]) or args["q"].upper())])
    # the two that agree come last: were they first, their majority could end the decoding before
    # the third candidate is started (a race that made this test fail about one run in ten)
    candidates = [step("print(lookup(q='a'), lookup('b'))"), step("print(lookup('a'))"), step("r = lookup('a')\nprint(r)")]
    model = ScriptedModel([candidates, step("final_answer(lookup('a'))")])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        events, trace = run(model, box, 3, tools=toolset.specs())
    vote = votes(events)[0]
    assert sorted(calls[:2]) == ["a", "b"] and (vote.tool_calls, vote.cached_tool_calls) == (2, 2)
    assert calls[2:] == ["a"]  # the cache lasts one step: the next step calls the tool again
    assert trace.answer == "A"


def test_decoding_stops_once_a_group_holds_a_majority(sandbox):
    agree = step("print(6 * 7)")
    model = ScriptedModel([[agree, agree, agree, step("print(1)"), step("print(2)")], step("final_answer(0)")], decode_s=0.3)
    events, _ = run(model, sandbox, 5)
    vote = votes(events)[0]
    assert vote.abandoned == 2 and len(vote.candidates) == 3
    assert vote_lines(vote)[-1] == "2/5 not finished (the vote was already decided)"
    assert vote.groups[0].size == 3


def test_decoding_stops_once_failures_leave_the_leader_out_of_reach(sandbox):
    agree = step("print(6 * 7)")
    candidates = [agree, "prose", step("print(1 / 0)"), step("x = 42\nprint(x)"), step("print(2)")]
    model = ScriptedModel([candidates, step("final_answer(0)")], decode_s=0.3)
    events, _ = run(model, sandbox, 5)
    vote = votes(events)[0]
    assert vote.abandoned == 1 and vote.groups[0].size == 2  # 2 > 0 + the 1 still decoding


def test_decoding_goes_on_while_the_runner_up_could_still_catch_up(sandbox):
    candidates = [step("print(1)"), step("print(1.0)"), step("print(2)"), step("print(2.0)"), step("print(3)")]
    model = ScriptedModel([candidates, step("final_answer(0)")], decode_s=0.2)
    events, _ = run(model, sandbox, 5)
    vote = votes(events)[0]
    assert vote.abandoned == 0 and [g.size for g in vote.groups] == [2, 2, 1]


def test_first_thought_starts_the_first_thought_of_the_agent(sandbox):
    plan = "First multiply 123 by 456.\nThen check it.\n\nSo the answer is 56088.\nAnswer: 56088"
    model = ScriptedModel([plan, step("final_answer(123 * 456)", thought=" I will compute it.")])
    events, trace = run(model, sandbox, 1, first_thought=True)
    assert trace.first_thought == "First multiply 123 by 456. Then check it."
    assert "Think step by step" in model.prompts[0]
    assert model.prompts[1].endswith("Thought: First multiply 123 by 456. Then check it.")
    assert trace.steps[0].raw.startswith("Thought: First multiply 123 by 456. Then check it. I will compute it.")
    assert trace.answer == 56088
    assert [e.kind for e in events][:2] == ["run_started", "first_thought"]


def test_a_stop_while_candidates_decode_ends_the_run_cancelled_and_keeps_no_fork_state(sandbox):
    import time

    model = ScriptedModel([step("leak = 1\nprint(leak)")], decode_s=30.0)
    started = time.monotonic()
    agent = Agent(model, sandbox, options=AgentOptions(sag=3), should_stop=lambda: time.monotonic() - started > 0.2)
    trace = list(agent.run("q"))[-1].trace
    assert trace.status == "cancelled" and trace.steps == []
    assert time.monotonic() - started < 5
    assert "NameError" in sandbox.run("print(leak)").error


def test_observation_key_folds_whitespace_and_number_formats():
    def key(**fields):
        return observation_key(ExecResult(ok=True, **fields))

    assert key(stdout="a  b\n\n 56088\n") == key(stdout="a b 56088.0")
    assert key(stdout="0.30000000000000004") == key(stdout="0.3")
    assert key(stdout="1.5") != key(stdout="1.6")
    assert key(stdout="x\n", value="3") == key(stdout="x 3")
    assert key(final=True, answer=56088) == key(final=True, answer=56088.0) != key(stdout="56088")


def test_compute_first_refuses_a_winning_answer_written_from_memory(sandbox):
    model = ScriptedModel([[step("final_answer(7)"), step("final_answer(7)")], [step("print(3 + 4)")] * 2, step("final_answer(7)")])
    _, trace = run(model, sandbox, 2, compute_first=True)
    assert trace.steps[0].error_kind == "unchecked" and not trace.steps[0].final
    assert trace.status == "answered" and trace.answer == 7 and len(trace.steps) == 3
