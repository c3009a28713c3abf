"""How a use case says that its message should be retried later, or never."""

from __future__ import annotations


class TransientError(Exception):
    """The work could not finish now but will later (a new group not visible yet, a conflict).

    The trigger lets the message go back to the queue, so Service Bus delivers it again.
    """


class CommandRejected(Exception):
    """A command that can never succeed as given (an unknown school or group); not retried."""
