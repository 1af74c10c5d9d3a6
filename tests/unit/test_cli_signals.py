"""Ctrl-C and SIGTERM end a command with one line and the shell's status, after its cleanup ran."""

import signal
import subprocess
import sys
import time

import pytest

SLEEPER = """
import time
import click
from runtime.cli.main import cli

@cli.command()
def sleeper():
    try:
        print("ready", flush=True)
        time.sleep(60)
    finally:
        print("cleaned up", flush=True)

cli(prog_name="runtime")
"""


@pytest.mark.parametrize(("sig", "status", "line"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_unwinds_the_command_and_exits_with_the_shells_status(sig, status, line):
    proc = subprocess.Popen(
        [sys.executable, "-c", SLEEPER, "sleeper"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a background job's SIGINT may be ignored by its shell; the child restores the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler),
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == status
    assert "cleaned up" in out  # the command's finally ran
    assert err.strip() == line and "Traceback" not in err


def test_an_in_process_command_puts_the_sigterm_handler_back():
    # CliRunner tests run commands inside pytest: a SIGTERM to pytest afterwards must not raise Terminated
    from click.testing import CliRunner

    from runtime.cli.main import cli

    before = signal.getsignal(signal.SIGTERM)
    assert CliRunner().invoke(cli, ["doctor", "--help"]).exit_code == 0
    assert signal.getsignal(signal.SIGTERM) is before
