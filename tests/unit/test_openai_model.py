"""The OpenAI-compatible backend against a scripted server on 127.0.0.1: what goes over the wire,
what comes back, and the agent, solve and eval running on it with the real sandbox."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from runtime.agent import Agent, AgentOptions
from runtime.agent import events as ev
from runtime.cli.main import cli
from runtime.config import Settings
from runtime.errors import ModelUnavailable
from runtime.eval.runner import EvalRequest, run_eval
from runtime.eval.solvers import LlamaLoader
from runtime.eval.store import read_records
from runtime.model.base import ChatMessage, Generation, Prompt, Sampling
from runtime.model.open import open_model
from runtime.model.openai_compat import OpenAIModel
from runtime.sandbox import Sandbox
from tests.fakes import ScriptedServer
from tests.unit.test_eval_runner import config, gold, settings, suite  # noqa: F401  (fixtures)

HI = Prompt(messages=[ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="hi")])
ANSWER = "Thought: Add them.\n```python\nfinal_answer(2 + 3)\n```"


def pieces_and_generation(model: OpenAIModel, prompt: Prompt, sampling: Sampling, until=None):
    items = list(model.stream(prompt, sampling, until))
    generation = items[-1]
    assert isinstance(generation, Generation)
    assert "".join(items[:-1]) == generation.text  # what was streamed is the whole text
    return items[:-1], generation


def test_messages_go_as_messages_and_the_reply_streams_back():
    with ScriptedServer(["Hello there, how can I help you today?"], model="served") as server:
        model = OpenAIModel(server.url)
        pieces, generation = pieces_and_generation(model, HI, Sampling(max_tokens=20, temperature=0.5, seed=7))
    assert model.name == "served"  # asked the server for its models
    assert len(pieces) > 1 and generation.text == "Hello there, how can I help you today?"
    assert generation.completion_tokens == 6 and generation.prompt_tokens == 100  # the server's usage
    body = server.bodies[0]
    assert body["path"] == "/v1/chat/completions" and body["stream"] is True
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert (body["model"], body["max_tokens"], body["temperature"], body["seed"]) == ("served", 20, 0.5, 7)
    assert "stop" not in body


def test_the_reply_start_the_prompt_asks_for_is_not_repeated():
    prompt = HI.model_copy(update={"continue_assistant": "Thought: "})
    with ScriptedServer(["Thought: yes\n```python\nx = 1\n```\nmore text", "No thought here."]) as server:
        model = OpenAIModel(server.url + "#named")
        _, repeated = pieces_and_generation(model, prompt, Sampling(max_tokens=10), until=lambda t: t.rstrip().endswith("```"))
        _, plain = pieces_and_generation(model, prompt, Sampling(max_tokens=10))
    assert repeated.text == "yes\n```python\nx = 1\n```\n" and repeated.finish == "callback"
    assert plain.text == "No thought here."
    assert server.bodies[0]["model"] == "named" and server.bodies[0]["messages"][-1]["role"] == "user"


def test_a_repeated_opening_that_ends_in_a_word_keeps_the_space_after_it():
    """After printed passages the agent opens with "Thought: The passages say"; the server's model
    writes it again and goes on with " that ...", whose space belongs to the reply."""
    prompt = HI.model_copy(update={"continue_assistant": "Thought: The passages say"})
    with ScriptedServer(["Thought: The passages say that it opens at 6:45."]) as server:
        _, generation = pieces_and_generation(OpenAIModel(server.url), prompt, Sampling(max_tokens=20))
    assert generation.text == " that it opens at 6:45."


def test_stop_strings_past_the_api_limit_are_applied_here_and_never_shown():
    stops = ["\nA:", "\nB:", "\nC:", "\nD:", "\nObservation:"]
    with ScriptedServer(["Thought: ok\nObservation: invented"]) as server:
        pieces, generation = pieces_and_generation(OpenAIModel(server.url), HI, Sampling(max_tokens=30, stop=stops))
    assert server.bodies[0]["stop"] == stops[:4]
    assert generation.text == "Thought: ok" and generation.finish == "stop"
    assert "Observation" not in "".join(pieces)


def test_candidates_each_have_their_own_seed():
    with ScriptedServer(["a", "b", "c"]) as server:
        model = OpenAIModel(server.url)
        texts = [g.text for g in model.sample_n(HI, 3, Sampling(max_tokens=5, temperature=0.7, seed=5))]
    assert texts == ["a", "b", "c"]
    assert len({b["seed"] for b in server.bodies}) == 3


def test_no_grammar_and_no_prefix_cache():
    with ScriptedServer([]) as server:
        model = OpenAIModel(server.url)
        assert model.capabilities == frozenset() and model.warm_prefix(HI.messages, ["Be brief."]) is None
        with pytest.raises(ValueError, match="no grammar capability"):
            list(model.stream(HI, Sampling(max_tokens=5, grammar="root ::= \"x\"")))
    assert server.bodies == []


def test_an_unreachable_server_is_a_user_error():
    with ScriptedServer([]) as server:
        url = server.url
    with pytest.raises(ModelUnavailable, match="cannot reach the model server"):
        OpenAIModel(url, timeout_s=2)


def test_open_model_takes_a_url(tmp_path):
    with ScriptedServer([]) as server:
        said: list[str] = []
        model = open_model(Settings(home=tmp_path), server.url, lambda *_: None, said.append)
    assert isinstance(model, OpenAIModel) and model.name == "scripted-server"
    assert said == [f"connecting to {server.url}"]


def test_the_agent_runs_on_a_server_without_grammar_or_prefix_events():
    with ScriptedServer(["Thought: Compute it.\n```python\nprint(2 + 3)\n```", ANSWER]) as server:
        with Sandbox() as sandbox:
            agent = Agent(OpenAIModel(server.url), sandbox, options=AgentOptions(grammar=True))
            events = list(agent.run("What is 2+3?"))
    trace = events[-1].trace
    assert trace.status == "answered" and trace.answer == 5 and trace.prefix is None
    assert not any(isinstance(e, ev.PrefixReady) for e in events)
    assert "grammar" not in server.bodies[0]
    second = server.bodies[1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"].startswith("Thought: Compute it.") and "5" in second[3]["content"]


def test_solve_with_a_url_answers(home):
    with ScriptedServer([ANSWER]) as server:
        result = CliRunner().invoke(cli, ["solve", "--model", server.url, "--no-boxes", "--no-retrieval", "--json", "What is 2+3?"])
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    assert trace["answer"] == 5 and trace["model"] == "scripted-server"


def test_eval_runs_on_a_url(suite, settings, tmp_path):  # noqa: F811
    items = suite.sample(2, seed=0)
    with ScriptedServer([f"Add.\nAnswer: {gold(items[0])}", f"Answer: {gold(items[1]) + 1}"]) as server:
        loader = LlamaLoader(name=server.url)
        loader.prepare(settings, lambda *_: None)  # nothing to assemble for a server
        request = EvalRequest(config=config(suite, mode="cot"), limit=2, out=tmp_path / "run")
        summary = run_eval(request, suite, loader, settings)
    records = {r.id: r for r in read_records(tmp_path / "run" / "records.jsonl")}
    assert [records[i.id].outcome for i in items] == ["correct", "wrong_answer"] and summary.n == 2
    assert all(b["model"] == "scripted-server" for b in server.bodies)
