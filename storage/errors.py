"""Errors a service raises when a request breaks a rule; each reads well to a person."""

from __future__ import annotations


class DomainError(Exception):
    """A request the procedures do not allow. ``str(error)`` is the reason."""


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
