"""`--model URL` against a real OpenAI-compatible server: llama-cpp-python's own (`python -m
llama_cpp.server`, its `server` extra, in the dev extra here) serving a shipped GGUF, started by
the test on a free port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.model.base import ChatMessage, Generation, Prompt, Sampling
from runtime.model.openai_compat import OpenAIModel
from runtime.model.store import resolve

pytestmark = pytest.mark.e2e

MODEL = "qwen2.5-coder-0.5b"
_START_S = 180


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + _START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {server.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not answer within {_START_S} s:\n{log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def server_url(e2e_settings, tmp_path_factory) -> Iterator[str]:
    _, gguf = resolve(e2e_settings, MODEL)
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--n_threads", str(e2e_settings.threads), "--n_ctx", "4096",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_up(url, server, log)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_solve_with_a_server_url_answers(server_url, e2e_home):
    env = {**os.environ, "RUNTIME_HOME": str(e2e_home), "RUNTIME_THREADS": "2"}
    command = [sys.executable, "-m", "runtime.cli.main", "solve", "--model", server_url, "--no-boxes", "--no-retrieval", "--json", "What is 2+3?"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stderr[-2000:]
    trace = json.loads(result.stdout)
    assert trace["model"] == MODEL and trace["status"] == "answered" and float(trace["answer"]) == 5
    assert trace["prefix"] is None  # the server keeps its own prompt cache: nothing to warm


def test_streaming_stops_and_candidates_on_the_real_server(server_url):
    model = OpenAIModel(server_url)
    prompt = Prompt(messages=[ChatMessage(role="user", content="Count from 1 to 20, separated by commas.")])
    items = list(model.stream(prompt, Sampling(max_tokens=60, stop=["7"]), until=lambda text: "10" in text))
    generation = items[-1]
    assert isinstance(generation, Generation) and "".join(items[:-1]) == generation.text
    assert "7" not in generation.text and generation.finish == "stop" and "6" in generation.text
    assert generation.completion_tokens > 0  # counted by chunks: this server sends no usage when streaming
    candidates = list(model.sample_n(prompt, 2, Sampling(max_tokens=8, temperature=0.8, seed=1)))
    assert len(candidates) == 2 and all(c.text for c in candidates)
