"""Evaluation harness: suites from real data files, checkers, modes, a resumable runner, reports."""
