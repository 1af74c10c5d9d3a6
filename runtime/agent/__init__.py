"""The CodeAct agent: prompt, parsing of model output, the step loop, and its typed events."""

from runtime.agent.events import Event, RunTrace
from runtime.agent.loop import Agent, AgentOptions

__all__ = ["Agent", "AgentOptions", "Event", "RunTrace"]
