"""Domain errors shared by every app's services, and the transition-table check.

The API and the HTML views translate these: `InvalidTransition` → 409,
`BusinessRuleViolation` → 400, `ActionNotAllowed` → 403, `NotVisible` → 404.
"""

from collections.abc import Iterable, Mapping


class DomainError(Exception):
    """Base for errors a service raises on purpose; the message is safe to show a user."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    """The action is not allowed in the object's current state."""


class BusinessRuleViolation(DomainError):
    """The input breaks a rule of the domain (threshold, gate, missing scores...)."""


class ActionNotAllowed(DomainError):
    """The actor may see the object but may not perform this action on it."""


class NotVisible(DomainError):
    """The actor may not see the object; callers answer exactly as for a missing one."""


def check_transition(
    table: Mapping[str, Iterable[str]], current: str, target: str, *, noun: str
) -> None:
    """Raise `InvalidTransition` unless `target` may follow `current` in `table`."""
    if target not in table.get(current, ()):
        raise InvalidTransition(f"Cannot move {noun} from '{current}' to '{target}'.")
