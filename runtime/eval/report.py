"""Compare eval runs: a Markdown table of several run folders, and an optional PNG bar chart.

Summaries are recomputed from each folder's records, so a run that was killed before it could
write summary.json still reports what it finished.
"""

from __future__ import annotations

from pathlib import Path

from runtime.errors import RuntimeUserError
from runtime.eval.records import FAILURES, Summary
from runtime.eval.store import folder_summary, read_records


class ChartUnavailable(RuntimeUserError):
    """--png needs matplotlib, which is optional."""


def load_summary(folder: Path) -> Summary:
    return folder_summary(folder, read_records(folder / "records.jsonl"))


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def accuracy_cell(summary: Summary) -> str:
    low, high = summary.ci95
    return f"{percent(summary.accuracy)} [{100 * low:.0f}–{100 * high:.0f}]"


def markdown_table(summaries: list[Summary], labels: list[str]) -> str:
    """One row per run: accuracy with its 95% interval, cost, and how the misses happened."""
    head = ["run", "suite", "mode", "model", "seed", "n", "accuracy [95% CI]", "steps", "prompt tok", "gen tok", "s/q"]
    head += [kind.replace("_", " ") for kind in FAILURES]
    rows = [head, ["---"] * len(head)]
    for label, s in zip(labels, summaries):
        rows.append(
            [
                label,
                s.config.suite,
                s.config.mode,
                s.config.model,
                str(s.config.seed),
                f"{s.n}/{s.planned}" if s.n < s.planned else str(s.n),
                accuracy_cell(s),
                f"{s.mean_steps:.2f}",
                f"{s.mean_prompt_tokens:.0f}",
                f"{s.mean_completion_tokens:.0f}",
                f"{s.wall_s_per_question:.1f}",
            ]
            + [str(s.failures[kind]) for kind in FAILURES]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def write_chart(summaries: list[Summary], labels: list[str], file: Path) -> None:
    """Accuracy bars with their 95% intervals as error bars, one bar per run."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ChartUnavailable("--png needs matplotlib; install it with: pip install 'runtime[eval]'") from None
    values = [100 * s.accuracy for s in summaries]
    errors = [
        [100 * (s.accuracy - s.ci95[0]) for s in summaries],
        [100 * (s.ci95[1] - s.accuracy) for s in summaries],
    ]
    figure, axes = plt.subplots(figsize=(max(4.0, 1.2 * len(summaries) + 1.5), 4.0))
    axes.bar(range(len(values)), values, yerr=errors, capsize=4, color="#4c72b0")
    axes.set_xticks(range(len(values)), labels, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel("accuracy (%), 95% Wilson interval")
    axes.set_ylim(0, 100)
    figure.tight_layout()
    file.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(file, dpi=120)
    plt.close(figure)
