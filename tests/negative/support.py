"""What every negative-input case checks, and the count of inputs sent.

A refused input must leave no trace: `Snapshot` takes the row count of every table and the
set of files under the media root's parent (so that a file name that climbs out of
MEDIA_ROOT is caught too), and `assert_unchanged` compares. The tables that record refused
attempts on purpose are left out: the audit trail's `access.*` and `auth.*` events
(denials, failed sign-ins), django-axes' attempt logs, and sessions.
"""

import html
from collections import Counter
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection
from django.forms import BaseForm
from django.test import Client
from django.utils.http import url_has_allowed_host_and_scheme

# Inputs sent, by family; printed at the end of the run (see conftest.py).
SENT: Counter = Counter()

# Audit events that record a refusal rather than a change.
ATTEMPT_ACTIONS = ("access.", "auth.")
UNTRACKED_APPS = {"axes", "sessions"}


def record(family: str) -> None:
    SENT[family] += 1


# -- nothing stored ----------------------------------------------------------------------------

_COUNT_SQL: list[str] = []


def _count_sql() -> str:
    """One query that counts the rows of every table of every installed model (the
    prefixes of refusal events are parameters: `ATTEMPT_ACTIONS`)."""
    if not _COUNT_SQL:
        quote = connection.ops.quote_name
        columns, tables = [], set()
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.proxy or not meta.managed or meta.app_label in UNTRACKED_APPS:
                continue
            if meta.db_table in tables:
                continue
            tables.add(meta.db_table)
            where = ""
            if meta.label == "audit.AuditEvent":
                action = quote(meta.get_field("action").column)
                where = " WHERE " + " AND ".join(f"{action} NOT LIKE %s" for _ in ATTEMPT_ACTIONS)
            table = quote(meta.db_table)
            # Table names from the models, quoted; the only values are parameters.
            columns.append(f"(SELECT COUNT(*) FROM {table}{where}) AS {table}")  # noqa: S608
        _COUNT_SQL.append("SELECT " + ", ".join(columns))
    return _COUNT_SQL[0]


def row_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_count_sql(), [f"{prefix}%" for prefix in ATTEMPT_ACTIONS])
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def stored_files() -> set[str]:
    """Every file under the media root's parent folder (the session's temporary folder)."""
    root = Path(settings.MEDIA_ROOT).parent
    return {str(path) for path in root.rglob("*") if path.is_file()}


def row_of(obj) -> dict | None:
    """The object's current row, or None once it is gone."""
    if obj is None:
        return None
    fresh = type(obj)._default_manager.filter(pk=obj.pk).first()
    if fresh is None:
        return None
    return {field.attname: getattr(fresh, field.attname) for field in fresh._meta.concrete_fields}


class Snapshot:
    """Row counts, files, and the target object's row, to compare after a request."""

    def __init__(self, target=None):
        self.target = target
        self.counts = row_counts()
        self.files = stored_files()
        self.row = row_of(target)

    def assert_unchanged(self, label: str) -> None:
        counts = row_counts()
        changed = {
            table: (before, counts[table])
            for table, before in self.counts.items()
            if counts[table] != before
        }
        assert not changed, f"{label}: rows were stored (table: before → after): {changed}"
        new_files = stored_files() - self.files
        assert not new_files, f"{label}: files were written: {sorted(new_files)}"
        if self.target is not None:
            assert row_of(self.target) == self.row, f"{label}: the target object changed"


# -- a clear refusal -----------------------------------------------------------------------------


def texts(value) -> list[str]:
    """Every string in a JSON error answer, however nested (field errors of a list's items or
    of a nested object come as lists and dicts)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return []


def explain(response) -> str:
    if getattr(response, "streaming", False):
        return f"{response.status_code} (streamed {response.get('Content-Type')})"
    where = f" → {response['Location']}" if response.has_header("Location") else ""
    return f"{response.status_code}{where}: {response.content[:400]!r}"


def assert_api_refusal(response, label: str, *, access_ok: bool = False) -> None:
    """4xx (never 5xx) with a JSON object that says why: field errors or a `detail`. Unless
    `access_ok`, a 403 or 404 means the case reached access control, not input checking."""
    status = response.status_code
    assert 400 <= status < 500, f"{label}: {explain(response)}"
    if not access_ok:
        assert status not in (403, 404), f"{label}: refused by access control: {explain(response)}"
    assert response["Content-Type"].startswith("application/json"), f"{label}: {explain(response)}"
    body = response.json()
    assert isinstance(body, dict) and body, f"{label}: {explain(response)}"
    assert any(text.strip() for text in texts(body)), f"{label}: no message: {body!r}"


def form_errors(response) -> list[str]:
    """The errors of every bound form the page was rendered with."""
    errors = []
    contexts = response.context or []
    for context in contexts if isinstance(contexts, list) else [contexts]:
        for value in context.flatten().values():
            if isinstance(value, BaseForm) and value.is_bound:
                errors += [str(e) for field_errors in value.errors.values() for e in field_errors]
                errors += [str(e) for e in getattr(value, "rubric_errors", [])]
    return errors


def error_messages(response) -> list[str]:
    return [
        str(message)
        for message in get_messages(response.wsgi_request)
        if message.level >= message_levels.ERROR
    ]


def assert_html_refusal(response, label: str) -> None:
    """A 4xx page, the form shown again with its errors, or (for the action buttons that
    redirect back) a redirect carrying an error message; never 5xx, never silence."""
    status = response.status_code
    assert status < 500, f"{label}: {explain(response)}"
    if status in (301, 302, 303):
        assert error_messages(response), (
            f"{label}: redirected without an error: {explain(response)}"
        )
        return
    assert status == 200 or 400 <= status < 500, f"{label}: {explain(response)}"
    content = response.content.decode(errors="replace")
    errors = form_errors(response)
    if status == 200:
        assert errors, f"{label}: answered 200 without a form error"
    if errors:
        shown = [e for e in errors if html.escape(e) in content or e in content]
        assert shown, f"{label}: the form's errors {errors} are not on the page"
    else:
        assert content.strip(), f"{label}: an empty {status} page"


def same_session(client) -> Client:
    """A new test client in the given client's session, without its other cookies: the
    messages a refused post leaves in a cookie must not be read as the next post's."""
    fresh = Client()
    if settings.SESSION_COOKIE_NAME in client.cookies:
        fresh.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME]
    return fresh


def offsite(location: str) -> bool:
    """Whether a redirect leaves the site."""
    return not url_has_allowed_host_and_scheme(location, allowed_hosts={"testserver"})
