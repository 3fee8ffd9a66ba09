"""Errors the VMM reports to its user as one line (never a traceback)."""


class VMMError(Exception):
    """A condition caused by the input (program, options), reported as one line."""

    exit_status = 2


class BadProgram(VMMError):
    """The guest program file cannot be loaded (malformed, truncated, wrong machine)."""
