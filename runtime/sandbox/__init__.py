"""Run the model's code actions in a confined worker process.

    with Sandbox(SandboxPolicy(timeout_s=5), toolset) as sandbox:
        result = sandbox.run("x = 6 * 7\nx")      # result.value == "42"
        fork = sandbox.fork()                      # candidates from the same state
        fork.run("x += 1")
        sandbox.commit(fork)                       # x == 43 in the session now
"""

from runtime.sandbox.policy import ExecResult, SandboxPolicy
from runtime.sandbox.session import Sandbox, SandboxError, SandboxFork

__all__ = ["ExecResult", "Sandbox", "SandboxError", "SandboxFork", "SandboxPolicy"]
