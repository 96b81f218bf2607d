"""Audit events as CSV, one line at a time, so that an export of any length streams in
constant memory."""

import csv
import json

COLUMNS = [
    "id",
    "time",
    "actor",
    "action",
    "object type",
    "object id",
    "object",
    "engagement",
    "changes",
    "ip",
    "user agent",
]


class _Echo:
    """A file-like object whose write() hands the line back to the caller."""

    def write(self, value):
        return value


def cell(value) -> str:
    """A spreadsheet must not read a cell as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(events, chunk_size: int = 1000):
    """The header, then one line per event. `events` should select_related("target_type");
    it is read with a server-side cursor, `chunk_size` rows at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=chunk_size):
        yield writer.writerow(
            [
                cell(value)
                for value in (
                    event.pk,
                    event.created_at.isoformat(),
                    event.actor_repr or "system",
                    event.action,
                    event.target_type.model if event.target_type_id else "",
                    event.target_id,
                    event.target_repr,
                    event.engagement_id or "",
                    json.dumps(event.changes, ensure_ascii=False, sort_keys=True),
                    event.ip,
                    event.user_agent,
                )
            ]
        )
