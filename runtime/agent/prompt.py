"""The CodeAct system prompt: the step format, the tools as Python stubs, one worked example.

The prompt is the fixed prefix of every run, so it is kept short (prefill is the slow part on a
CPU) and deterministic (its KV state is cached on disk by its exact tokens).
"""

from __future__ import annotations

from runtime.agent.parse import CODE_CLOSE, CODE_OPEN, OBSERVATION, THOUGHT
from runtime.tools import ToolSpec

TASK_PREFIX = "Task: "
COT_SYSTEM = "You are a careful problem solver. Think step by step in a few short lines, then give the answer."
"""The chain-of-thought system prompt: the CoT baseline's, and the first-thought plan's, which is
meant to open the same reasoning the baseline would write."""

_INSTRUCTIONS = f"""You are an expert problem solver who answers tasks by writing Python code.
Work in steps. In each step write:
{THOUGHT} one or two short sentences about what to do next.
{CODE_OPEN}
# Python code for this step
{CODE_CLOSE}
Then stop and wait. The code runs in a Python sandbox; what it prints is sent back to you as
"{OBSERVATION} ...". Variables persist between steps. Use print() to see values.
Never calculate in your head: compute every number with code and print it, and call
final_answer only after you have seen the printed result.
Then call final_answer(answer) in a code block, with the answer in the form
the task asks for (a number, an expression, a name), not a sentence.
Rules: always write exactly one code block per step; never write "{OBSERVATION}" yourself;
only these modules can be imported: {{modules}}."""

WORKED_ANSWER = "2431"
"""The worked example's answer: a model with nothing better to say answers it (answers.py)."""

WORKED_EXAMPLE = f"""Example:
{TASK_PREFIX}What is the product of the three smallest two-digit primes?
{THOUGHT} I will find the primes between 10 and 99 and multiply the first three.
{CODE_OPEN}
primes = [n for n in range(10, 100) if all(n % d for d in range(2, n))]
product = primes[0] * primes[1] * primes[2]
print(primes[:3], product)
{CODE_CLOSE}
{OBSERVATION} [11, 13, 17] {WORKED_ANSWER}
{THOUGHT} The product is {WORKED_ANSWER}, held in `product`.
{CODE_OPEN}
final_answer(product)
{CODE_CLOSE}"""


def static_prompt(modules: list[str]) -> str:
    """The part of the system prompt that never changes between questions (cached on disk)."""
    return f"{_INSTRUCTIONS.format(modules=', '.join(modules))}\n\n{WORKED_EXAMPLE}"


def tools_section(tools: list[ToolSpec]) -> str:
    """The tools picked for this question, after the static part so it stays a shared prefix."""
    if not tools:
        return ""
    stubs = "\n\n".join(t.render() for t in tools)
    return (
        "\n\nThese tool functions are ready to call in your code (no import needed); "
        "use one when it fits the task:\n"
        f"{CODE_OPEN}\n{stubs}\n{CODE_CLOSE}"
    )


def more_tools_section(tools: list[ToolSpec]) -> str:
    """Tools that fit this task but not the fixed list (`ToolPick.shown`): after that list, whose
    prompt state is then cached, and in the system prompt, away from the task's values: next to
    the task, the 0.5B model called `solve_24([3, 3, 8, 8])`, the docstring's example, on 2 of its
    first 3 Game of 24 questions.

    It opens with a space: Qwen's tokenizer reads a fence and the newlines after it as one piece,
    so "```\n\n" would end the fixed list on another token than the cached state holds."""
    if not tools:
        return ""
    stubs = "\n\n".join(t.render() for t in tools)
    return f" \n\nAlso ready to call:\n{CODE_OPEN}\n{stubs}\n{CODE_CLOSE}"


def task_message(question: str, hints: list[str] | None = None, demo: ToolSpec | None = None) -> str:
    """The question; `hints` name the tools that fit it best, since small models overlook a tool
    listed among a dozen and work the answer out by hand instead (docs/mcp-box.md). Names only:
    with the signature in the hint the 1.5B model's fact lookup in tests/e2e/test_retrieval_e2e.py
    went wrong; a call with wrong arguments is answered with the signature instead.

    `demo`: the tool that clearly fits, shown in one verified call and its result, then the
    answer passed on as the variable: small models retyped, changed or dropped a tool's result
    (on Game of 24 they answered `24`, or asked the tool for another target)."""
    if not hints:
        return f"{TASK_PREFIX}{question}"
    calls = " or ".join(f"{name}(...)" for name in hints)
    defined = "it is" if len(hints) == 1 else "they are"
    message = f"{TASK_PREFIX}{question}\nHint: call {calls} in your code; {defined} already defined."
    code = demo.demonstration() if demo is not None else None
    if demo is None or code is None or demo.example is None:
        return message
    shown = demo.example.result if isinstance(demo.example.result, str) else repr(demo.example.result)
    return (
        f"{message} For example, with other values:\n{CODE_OPEN}\n{code}\n{CODE_CLOSE}\n"
        f"{OBSERVATION} {shown}\nThen, for this task's values, answer with the variable: final_answer(result)."
    )


def observation_message(observation: str) -> str:
    return f"{OBSERVATION} {observation}"
