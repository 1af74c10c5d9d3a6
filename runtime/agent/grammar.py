"""The GBNF grammar of one agent step, built from the same constants the prompt teaches.

Generation starts after the prefilled "Thought: ", so the grammar admits: one line of thought
(no backticks, at most MAX_THOUGHT_CHARS), a blank line at most, the opening fence, code (anything but a closing fence), the
closing fence (and its newline), and then nothing: llama.cpp allows only end-of-turn once the
grammar is complete. The thought is one line because that is the format the prompt teaches and
the models keep to (62 of 63 parsed steps in the first eval runs), and because a thought that may
go on to a second paragraph is where a small model, kept from ending its turn, rambles until the
token limit or writes its own "Observation:" (which stops generation without code).
"""

from __future__ import annotations

from runtime.agent.parse import CODE_CLOSE, CODE_OPEN


MAX_THOUGHT_CHARS = 400
"""Thoughts of real steps are 10-300 characters; a model kept from ending its turn can otherwise
write one line until the token limit (seen: 512 tokens planning a Game of 24 search, no code)."""


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def step_grammar(final: bool = False, opening: str | None = None) -> str:
    """The step format; `final` admits only a `final_answer(...)` call as the code, for the step
    where the run must end (the last one, or after the same result came back twice). `opening`:
    the code must start with this text (a guided first call, `result = solve_24(`; with `final`,
    `final_answer(result`), and the model writes the rest: the arguments and whatever follows."""
    tick = CODE_CLOSE[0]
    # any text without three backticks in a row: a run of one or two is followed by another character
    body = f'( [^{tick}] | "{tick}" [^{tick}] | "{tick * 2}" [^{tick}] )+'
    code = f"code ::= {_literal(opening)} {body}" if opening else f"code ::= {body}"
    rules = []
    if final:  # the call and nothing after it: parentheses balance, so the one that closes the call ends it
        if opening:  # the guided answer: the variable, or a part of it (`result["value"]`), nothing computed on it
            code = f'code ::= {_literal(opening)} ( "[" [^\\]\\n{tick}]+ "]" )* ")" {_literal(chr(10))}'
        else:
            code = f'code ::= "final_answer(" inner ")" {_literal(chr(10))}'
            rules = [f'inner ::= ( [^(){tick}\\n] | "(" inner ")" )+']
    return "\n".join(
        [
            # the closing fence may carry its newline: tokenizers often have "```\n" as one token
            f"root ::= thought {_literal(chr(10))}? {_literal(chr(10) + CODE_OPEN + chr(10))} code {_literal(CODE_CLOSE)} {_literal(chr(10))}?",
            f"thought ::= [^{tick}\\n]{{1,{MAX_THOUGHT_CHARS}}}",
            code,
            *rules,
        ]
    )
