"""`--ray`: the same run on a local Ray instance that this test starts, records in the same JSONL."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import Settings
from runtime.eval.runner import EvalRequest, run_eval
from runtime.eval.store import read_records
from runtime.eval.workers import EvalWorkerFailed
from tests.unit.test_eval_runner import FakeLoader, config, right, suite  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def ray_cli(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "ray.scripts.scripts", *args], env=env, check=True, capture_output=True, timeout=180
    )


@pytest.fixture(scope="module")
def ray_address(tmp_path_factory):
    """A one-node Ray cluster with 2 CPUs; its workers import the runtime and this test's fakes."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)]),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    ray_cli("start", "--head", f"--port={port}", "--num-cpus=2", "--include-dashboard=false", env=env)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        ray_cli("stop", "--force")


def test_ray_actors_stream_records_into_the_same_resumable_jsonl(suite, tmp_path, ray_address):  # noqa: F811
    settings = Settings(home=tmp_path / "home", max_steps=3, threads=1)
    out = tmp_path / "run"
    loader = FakeLoader(replies=right(suite.items))
    first = run_eval(EvalRequest(config=config(suite), limit=2, out=out), suite, loader, settings)  # locally
    summary = run_eval(
        EvalRequest(config=config(suite), limit=4, workers=2, out=out, ray=ray_address), suite, loader, settings
    )
    assert first.n == 2 and summary.n == 4 and summary.correct == 4
    ids = [r.id for r in read_records(out / "records.jsonl")]
    assert sorted(ids) == sorted(item.id for item in suite.sample(4, seed=0)) and len(set(ids)) == 4

    crashing = FakeLoader(replies=right(suite.items), crash_on=suite.sample(5, seed=0)[4].question)
    with pytest.raises(EvalWorkerFailed, match="simulated crash"):
        run_eval(
            EvalRequest(config=config(suite), limit=5, workers=2, out=out, ray=ray_address), suite, crashing, settings
        )
    assert len(read_records(out / "records.jsonl")) == 4
