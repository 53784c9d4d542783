"""Errors a service raises when a request breaks a rule; each reads well to a person.

The message is a ``Msg``: ``str(error)`` is the zh-Hans text (the CLI, the logs),
and the chat renders ``error.message`` in the person's own language.
"""

from __future__ import annotations

from storage.i18n import Msg


class DomainError(Exception):
    """A request the procedures do not allow."""

    def __init__(self, template: str, /, **params: object) -> None:
        self.message = Msg(template, **params)
        super().__init__(str(self.message))


class NotFound(DomainError):
    pass


class PermissionDenied(DomainError):
    pass


class IllegalTransition(DomainError):
    pass


class AlreadyRecorded(IllegalTransition):
    pass


class InvalidInput(DomainError):
    pass
