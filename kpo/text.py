"""What text a user may send: anything printable, with tabs and line breaks, but no control
characters and no lone surrogates.

NUL cannot be stored at all (PostgreSQL refuses it in any string, so it would otherwise be a
500). The other control characters have no use in a title, a brief or a comment, and some do
harm where the text ends up: an escape sequence rewrites the terminal of whoever reads a log
or a CSV export, a backspace or a carriage-return trick hides what came before. A lone
surrogate (possible in JSON's `\\ud800`) is not Unicode and cannot be encoded to UTF-8.

The API applies this to every string of every request body (`kpo.rest` parsers); HTML forms
to each text field (`CheckedTextForm`), so the error is shown next to the field.
"""

import re

from django import forms
from django.core.exceptions import ValidationError

# The most a free-text field without a limit of its own in the database (a brief, a
# description, notes) may hold: pages of text, not megabytes.
LONG_TEXT_MAX_LENGTH = 20_000

# C0 controls but tab, line feed and carriage return; DEL and the C1 controls; surrogates.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` may not be stored, or None if it may."""
    match = _UNWANTED.search(value)
    if match is None:
        return None
    character = match.group()
    if "\ud800" <= character <= "\udfff":
        return "Text must be valid Unicode; this contains a lone surrogate code point."
    return f"Text cannot contain control characters (found U+{ord(character):04X})."


def no_control_characters(value) -> None:
    """A Django validator for text fields."""
    problem = text_problem(value) if isinstance(value, str) else None
    if problem:
        raise ValidationError(problem, code="control_characters")


class CheckedTextForm(forms.Form):
    """A form whose text fields (every `CharField`, whatever its widget) refuse control
    characters, with the error next to the field."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                field.validators.append(no_control_characters)
