"""What the main screen looks like with a finished answer, so visual changes show up in review.

The conversation comes from a saved session, so every number on screen is fixed; a live run would
print real sandbox timings. Update after an intended change: pytest tests/tui --snapshot-update
"""

from __future__ import annotations

from datetime import datetime

from runtime.agent.events import StepRecord, StepTimings
from runtime.tui.sessions import Asked, ChatOptions, Session, SessionLog, SessionStore, StepSaved, TitleSet, TurnEnded
from runtime.tui.widgets.prompt import PromptInput
from runtime.tui.widgets.steps import StepView
from tests.fakes import ScriptedModel
from tests.tui.helpers import ready

CODE = "primes = [n for n in range(2, 30) if all(n % d for d in range(2, n))]\nprint(primes[:5], sum(primes[:5]))"


def saved_session(settings) -> str:
    store = SessionStore(settings)
    log = SessionLog(
        store.path("snapshot"), Session(id="snapshot", created=datetime(2026, 1, 1, 10, 0), options=ChatOptions(boxes=False))
    )
    log.record(TitleSet(title="Primes"))
    log.record(Asked(question="What is the sum of the first five primes?", at=datetime(2026, 1, 1, 10, 1)))
    timings = StepTimings(
        prompt_tokens=412, cached_tokens=380, completion_tokens=48, prefill_s=0.4, decode_s=2.1, action_s=0.004
    )
    log.record(
        StepSaved(
            record=StepRecord(
                step=1,
                raw="",
                thought="I will list the primes below 30 and add the first five.",
                code=CODE,
                observation="[2, 3, 5, 7, 11] 28",
                ok=True,
                timings=timings,
            )
        )
    )
    log.record(
        StepSaved(
            record=StepRecord(
                step=2,
                raw="",
                thought="The sum is 28.",
                code="final_answer(28)",
                observation="Final answer: 28",
                ok=True,
                final=True,
                answer=28,
                timings=timings.model_copy(update={"prompt_tokens": 489, "completion_tokens": 17}),
            )
        )
    )
    log.record(TurnEnded(status="answered", answer=28, wall_s=5.2))
    return log.session.id


def test_main_screen_with_a_finished_answer(make_app, settings, snap_compare):
    app = make_app(ScriptedModel([]), resume=saved_session(settings))

    async def expanded(pilot) -> None:
        screen = await ready(pilot)
        screen.query_one(PromptInput).cursor_blink = False
        for step in screen.query(StepView):
            step.collapsed = False

    assert snap_compare(app, terminal_size=(120, 40), run_before=expanded)
