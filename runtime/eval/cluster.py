"""The same harness on Ray (`--ray auto|ADDRESS`): one model per actor, records streamed back.

Ray's ActorPool schedules the questions; the parent stays the only writer of the run folder, so
resume and crash safety are those of a local run. Each node needs the runtime and the model
packages installed, as on the machine running `runtime eval`.
"""

from __future__ import annotations

from collections.abc import Generator

from runtime.config import Settings
from runtime.errors import RuntimeUserError
from runtime.eval.records import QuestionRecord, RunConfig
from runtime.eval.solvers import ModelLoader, open_solver, solve_item
from runtime.eval.suites import SuiteItem
from runtime.eval.workers import EvalWorkerFailed


class RayUnavailable(RuntimeUserError):
    """--ray needs the optional `cluster` extra."""


class EvalActor:
    """Loads the model once on its node, then answers one question per call."""

    def __init__(self, config: RunConfig, loader: ModelLoader, settings: Settings) -> None:
        self.checker = config.checker
        self.solver = open_solver(config, loader, settings)

    def solve(self, item: SuiteItem) -> QuestionRecord:
        return solve_item(self.solver, self.checker, item)


def ray_records(
    config: RunConfig, loader: ModelLoader, settings: Settings, todo: list[SuiteItem], actors: int, address: str
) -> Generator[QuestionRecord, None, None]:
    """Records in the order they finish; each actor reserves `settings.threads` CPUs for llama.cpp."""
    try:
        import ray
        from ray.util import ActorPool
    except ImportError:
        raise RayUnavailable("--ray needs the cluster extra: pip install 'runtime[cluster]'") from None
    ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=settings.threads)(EvalActor)
        pool = ActorPool([remote.remote(config, loader, settings) for _ in range(min(actors, len(todo)))])
        try:
            yield from pool.map_unordered(lambda actor, item: actor.solve.remote(item), todo)
        except ray.exceptions.RayError as exc:
            raise EvalWorkerFailed(f"a Ray actor failed: {exc}") from None
    finally:
        ray.shutdown()
