"""The distillation pipeline: trajectories → candidates → checked → tools → clusters → merged → box.

Each stage writes its JSONL into the output folder. Records carry a key hashed from what they
were made from, so a rerun reuses every record whose inputs did not change (above all the
teacher's rewrites, the slow part) and recomputes the rest; a changed threshold reclusters
without asking the teacher to rewrite anything again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, Field

from runtime.distill.abstract import abstract, abstract_key, annotate, settled_defaults
from runtime.distill.cluster import ClusterOptions, Embedder, cluster, cluster_key
from runtime.distill.consolidate import call_shape, chained, consolidate, consolidate_key
from runtime.distill.emit import BoxMeta, emit
from runtime.distill.extract import MAX_CASES, extract
from runtime.distill.records import (
    Candidate,
    Checked,
    Cluster,
    DistilledTool,
    DistillError,
    Emitted,
    Trajectory,
    digest,
)
from runtime.distill.score import (
    HeldOut,
    Remaker,
    Score,
    best_version,
    covering,
    describe,
    score,
    score_key,
    with_verified,
)
from runtime.distill.validate import validate, validate_key
from runtime.jsonl import append_jsonl, read_jsonl, write_jsonl
from runtime.model.base import Model
from runtime.sandbox import SandboxPolicy

EXTRACT_VERSION = 3


class DistillOptions(BaseModel):
    cluster: ClusterOptions = Field(default_factory=ClusterOptions)
    box: BoxMeta = Field(default_factory=BoxMeta)
    action_timeout_s: float = 10.0
    held_out: HeldOut | None = Field(
        default=None, description="Questions the teacher never saw: every version of every tool is scored on them."
    )
    keep: int = Field(default=3, ge=1, description="With held_out: at most this many tools, chosen by `covering`.")


class DistillReport(BaseModel):
    """What a run produced, stage by stage (also what --json prints)."""

    out: Path
    trajectories: int
    succeeded: int
    candidates: list[Candidate]
    checked: list[Checked]
    tools: list[DistilledTool]
    clusters: list[Cluster]
    consolidated: list[DistilledTool] = Field(description="One per cluster, in the clusters' order.")
    scores: list[Score] = Field(default_factory=list, description="Every version scored on the held-out questions.")
    kept: list[Score] = Field(default_factory=list, description="The versions the box keeps, best first.")
    emitted: list[Emitted]
    box: Path | None


class DistillPlan(BaseModel):
    """What a run would do (--dry-run): found and checked now, without writing or asking the teacher."""

    out: Path
    trajectories: int
    succeeded: int
    candidates: list[Candidate]
    checked: list[Checked]
    rewrites_cached: int = Field(description="Validated functions whose teacher rewrite is already in abstract.jsonl.")
    rewrites_needed: int
    box: Path


def read_trajectories(file: Path) -> tuple[list[Trajectory], str]:
    """The trajectories and the file's hash (which keys the extract stage)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DistillError(f"cannot read {file}: {exc.strerror}") from None
    trajectories = read_jsonl(file, Trajectory)
    if not trajectories:
        raise DistillError(f"{file} holds no trajectories; write some with `runtime teach`")
    return trajectories, hashlib.sha256(data).hexdigest()


class Distiller:
    """Runs the stages into one output folder; `teacher` None keeps the LLM steps deterministic."""

    def __init__(
        self,
        out: Path,
        options: DistillOptions,
        teacher: Model | None,
        embedder: Callable[[], Embedder],
        on_progress: Callable[[str], None] = lambda _m: None,
    ) -> None:
        self.out = out
        self.options = options
        self.teacher = teacher
        self._embedder = embedder
        self.say = on_progress
        self.policy = SandboxPolicy(timeout_s=options.action_timeout_s)
        self.modules = list(self.policy.allowed_modules)
        self.remaker = Remaker(teacher) if teacher else None

    def _file(self, stage: str) -> Path:
        return self.out / f"{stage}.jsonl"

    # -- stages ----------------------------------------------------------------------------

    def extract(self, trajectories: list[Trajectory], file_hash: str, write: bool = True) -> list[Candidate]:
        key = digest("extract", EXTRACT_VERSION, MAX_CASES, file_hash)
        stamp = self.out / "extract.key"
        if stamp.is_file() and stamp.read_text().strip() == key:
            return read_jsonl(self._file("extract"), Candidate)
        candidates = extract(trajectories, self.policy)
        if write:
            write_jsonl(self._file("extract"), candidates)
            stamp.write_text(key + "\n")
        return candidates

    def validate(self, candidates: list[Candidate], write: bool = True) -> list[Checked]:
        known = {c.key: c for c in read_jsonl(self._file("validate"), Checked)}
        checked = [known.get(validate_key(c)) or validate(c, self.policy) for c in candidates]
        if write:
            write_jsonl(self._file("validate"), checked)
        return checked

    def abstract(self, candidates: list[Candidate]) -> list[DistilledTool]:
        file = self._file("abstract")
        known = {t.key: t for t in read_jsonl(file, DistilledTool)}
        teacher = self.teacher.name if self.teacher else None
        tools = []
        for n, candidate in enumerate(candidates, start=1):
            key = abstract_key(candidate, teacher)
            if key not in known:
                self.say(f"abstract {n}/{len(candidates)}: {candidate.name}")
                known[key] = abstract(candidate, self.teacher, self.modules, self.policy)
                append_jsonl(file, known[key])
            tools.append(known[key])
        write_jsonl(file, tools)
        return tools

    def cluster(self, tools: list[DistilledTool]) -> list[Cluster]:
        file = self._file("cluster")
        key = cluster_key(tools, self.options.cluster)
        known = read_jsonl(file, Cluster)
        if known and all(c.key == key for c in known):
            return known
        if len(tools) < 2:
            clusters = (
                [Cluster(key=key, id=1, members=[t.key for t in tools], names=[t.name for t in tools])] if tools else []
            )
        else:
            clusters = cluster(tools, self._embedder(), self.policy, self.options.cluster)
        write_jsonl(file, clusters)
        return clusters

    def consolidate(self, clusters: list[Cluster], tools: list[DistilledTool]) -> list[DistilledTool]:
        file = self._file("consolidate")
        known = {t.key: t for t in read_jsonl(file, DistilledTool)}
        by_key = {t.key: t for t in tools}
        teacher = self.teacher.name if self.teacher else None
        merged = []
        for group in clusters:
            key = consolidate_key(group, teacher)
            if key not in known:
                if len(group.members) > 1:
                    self.say(f"consolidate cluster {group.id}: {', '.join(group.names)}")
                members = [by_key[k] for k in group.members]
                known[key] = consolidate(group, members, self.teacher, self.modules, self.policy)
                append_jsonl(file, known[key])
            merged.append(known[key])
        write_jsonl(file, merged)
        return merged

    def score(self, versions: list[DistilledTool], held_out: HeldOut) -> list[Score]:
        file = self._file("score")
        known = {s.key: s for s in read_jsonl(file, Score)}
        scores = []
        for n, tool in enumerate(versions, start=1):
            key = score_key(tool, held_out, self.teacher.name if self.teacher else None)
            if key not in known:
                self.say(f"score {n}/{len(versions)}: {tool.name} ({tool.how}) on {len(held_out.items)} questions")
                known[key] = score(tool, held_out, self.policy, self.remaker)
                append_jsonl(file, known[key])
            scores.append(known[key])
        return scores

    def select(
        self,
        clusters: list[Cluster],
        merged: list[DistilledTool],
        versions: dict[str, list[DistilledTool]],
        held_out: HeldOut,
    ) -> tuple[list[Score], list[tuple[DistilledTool, Score]]]:
        """Per cluster the version that solves most held-out questions; of those, the few that together
        solve most (`covering`), with settled parameters defaulted (`settled_defaults`)."""
        groups = [[tool, *(v for m in group.members for v in versions.get(m, []))] for group, tool in zip(clusters, merged)]
        flat = list({(v.name, v.code): v for g in groups for v in g}.values())
        scores = dict(zip([(v.name, v.code) for v in flat], self.score(flat, held_out)))
        best = [best_version([(v, scores[(v.name, v.code)]) for v in g]) for g in groups]
        ranked = sorted((pair for pair in best if pair[1].solved), key=lambda pair: -pair[1].solved)
        shape = (len(ranked[0][0].params), call_shape(ranked[0][0])) if ranked else None
        chain = chained([t for t, _ in ranked if (len(t.params), call_shape(t)) == shape]) if ranked else None
        if chain is not None:  # after the singles: on a tie the simpler tool wins
            best.append((chain, self.score([chain], held_out)[0]))
            scores[(chain.name, chain.code)] = best[-1][1]
        write_jsonl(self._file("score"), list(scores.values()))  # this run's, without stale ones
        chosen = covering(best, self.options.keep)
        return list(scores.values()), [(settled_defaults(with_verified(t, s)), s) for t, s in chosen]

    def emit(self, tools: list[DistilledTool], meta: BoxMeta | None = None) -> tuple[list[Emitted], Path | None]:
        folder = self.out / "box"
        emitted = emit(tools, folder, meta or self.options.box, self.options.action_timeout_s)
        write_jsonl(self._file("emit"), emitted)
        return emitted, folder if any(e.kept for e in emitted) else None

    # -- whole runs ------------------------------------------------------------------------

    def run(self, trajectories_file: Path) -> DistillReport:
        self.out.mkdir(parents=True, exist_ok=True)
        trajectories, file_hash = read_trajectories(trajectories_file)
        succeeded = sum(t.succeeded for t in trajectories)
        self.say(f"extract: {succeeded} of {len(trajectories)} trajectories succeeded")
        candidates = self.extract(trajectories, file_hash)
        self.say(f"validate: {len(candidates)} functions found")
        checked = self.validate(candidates)
        valid = [c for c, v in zip(candidates, checked) if v.ok]
        self.say(f"abstract: {len(valid)} functions reproduce their recorded calls")
        abstracted = self.abstract(valid)
        tools = [t for t in abstracted if t.ok]
        self.say(f"cluster: {len(tools)} tools")
        clusters = self.cluster(tools)
        consolidated = self.consolidate(clusters, tools)
        merged = [t for t in consolidated if t.ok]
        scores: list[Score] = []
        kept: list[Score] = []
        meta = self.options.box
        held_out = self.options.held_out
        if held_out is not None:
            # a member's other versions: its rewrite may generalise worse than the teacher's own code
            versions = {
                t.key: [t, annotate(c)] if t.how == "rewritten" else [t] for c, t in zip(valid, abstracted) if t.ok
            }
            groups = [(g, t) for g, t in zip(clusters, consolidated) if t.ok]
            scores, chosen = self.select([g for g, _ in groups], [t for _, t in groups], versions, held_out)
            for tool, found in chosen:
                self.say(f"keep {tool.name} ({found.how}): solved {found.solved} of {found.total} held-out questions")
            merged, kept = [t for t, _ in chosen], [s for _, s in chosen]
            meta = meta.model_copy(update={"description": describe(chosen, held_out)})
        self.say(f"emit: {len(merged)} tools from {len(clusters)} clusters")
        emitted, box = self.emit(merged, meta)
        return DistillReport(
            out=self.out,
            trajectories=len(trajectories),
            succeeded=succeeded,
            candidates=candidates,
            checked=checked,
            tools=tools,
            clusters=clusters,
            consolidated=consolidated,
            scores=scores,
            kept=kept,
            emitted=emitted,
            box=box,
        )

    def plan(self, trajectories_file: Path) -> DistillPlan:
        """Extract and validate in memory (reusing what the folder has), count the teacher calls to come."""
        trajectories, file_hash = read_trajectories(trajectories_file)
        candidates = self.extract(trajectories, file_hash, write=False)
        checked = self.validate(candidates, write=False)
        valid = [c for c, v in zip(candidates, checked) if v.ok]
        teacher = self.teacher.name if self.teacher else None
        cached = {t.key for t in read_jsonl(self._file("abstract"), DistilledTool)}
        hits = sum(abstract_key(c, teacher) in cached for c in valid)
        return DistillPlan(
            out=self.out,
            trajectories=len(trajectories),
            succeeded=sum(t.succeeded for t in trajectories),
            candidates=candidates,
            checked=checked,
            rewrites_cached=hits,
            rewrites_needed=(len(valid) - hits) if teacher else 0,
            box=self.out / "box",
        )
