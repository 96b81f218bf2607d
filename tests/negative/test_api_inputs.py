"""Every write endpoint of the REST API, fed what a careless or hostile client sends: broken
JSON, bodies that are not objects, the wrong content type, the wrong type in each declared
field, megabyte strings, NUL and control characters, fields the API does not have, and
bodies over the size limits.

Each input breaks one thing in a call that is otherwise legal — the caller may write to the
object, the object is in a state that allows the action — so the answer must come from
input checking: 4xx (never 5xx, and not the 403/404 of access control) with a JSON object
that says why (API.md: field errors or `detail`), and nothing stored: no row in any table,
no file, no change to the object. Fields the API does not have are ignored (API.md: "`client`
is taken from the caller, never from the body"), so a legal call that also names them may
succeed, but must not store what they say.

Endpoints without a body (start, cancel, read, delete) are sent the same garbage on an
object whose state refuses the action: the garbage must change nothing about the answer.
"""

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils.dateparse import parse_datetime

from tests.api.test_authorization_matrix import MISSING_ID
from tests.negative.api_endpoints import Endpoint, case_for, legal_cases, url, write_endpoints
from tests.negative.support import Snapshot, assert_api_refusal, explain, record, row_of

MEGABYTE = 1024 * 1024
# Built once: every huge-string case shares them.
ONE_MB_TEXT = "x" * MEGABYTE
HUNDRED_K_NAME = "N" * 100_000


@dataclass(frozen=True)
class Request:
    """A request body as it goes on the wire: `json` (any Python value), `raw` bytes with a
    content type, or `multipart` (a dict, files included)."""

    kind: str
    data: Any = None
    content_type: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Input:
    family: str
    label: str
    build: Callable  # (valid body, world) -> Request
    field: str | None = None  # the field it breaks, which decides who sends it
    # Unknown fields on a legal call: a success is fine, as long as nothing they say is stored.
    may_succeed: bool = False
    statuses: tuple[int, ...] | None = None  # when only some 4xx are right


def send(client, method, path, request: Request):
    call = getattr(client, method.lower())
    if request.kind == "multipart":
        return call(path, request.data, format="multipart", **request.meta)
    if request.kind == "json":
        body = json.dumps(request.data).encode()
        return client.generic(method, path, body, "application/json", **request.meta)
    meta = dict(request.meta)
    if request.content_type is None:
        meta["CONTENT_TYPE"] = ""  # what a client that sends no Content-Type header gives
    return client.generic(method, path, request.data, request.content_type or "", **meta)


def _within(name, sub, value):
    """The valid body with one value of a nested object replaced."""

    def build(body, world):
        return Request("json", {**body, name: {**body.get(name, {}), sub: value}})

    return build


def _raw(data: bytes, content_type="application/json", **meta):
    return lambda body, world: Request("raw", data, content_type, meta)


def _with(name, value, kind="json"):
    def build(body, world):
        return Request(kind, {**body, name: value})

    return build


# -- what to send ------------------------------------------------------------------------------

MALFORMED_JSON = {
    "truncated": b'{"title": "Unfinished',
    "trailing garbage": b'{"title": "x"} and more',
    "two documents": b'{"a": 1}{"b": 2}',
    "single quotes": b"{'title': 'x'}",
    "trailing comma": b'{"title": "x",}',
    "bare word": b"undefined",
    "NaN": b'{"title": NaN}',
    "not UTF-8": b'{"title": "\xff\xfe\xfa"}',
    "empty body with a length": b" ",
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "objects nested 50,000 deep": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}
NOT_AN_OBJECT = {
    "an empty list": b"[]",
    "a string": b'"x"',
    "a number": b"123",
    "null": b"null",
    "true": b"true",
    "a float": b"1.5",
}
BROKEN_MULTIPART = {
    "no boundary": ("multipart/form-data", b"--x\r\nContent-Disposition: form-data\r\n\r\n1"),
    "not the declared boundary": (
        "multipart/form-data; boundary=declared",
        b'--other\r\nContent-Disposition: form-data; name="notes"\r\n\r\nx\r\n--other--\r\n',
    ),
    "no closing boundary": (
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n%PDF-1.4',
    ),
    "garbage": ("multipart/form-data; boundary=b", b"\x00\xff" * 512),
    "a boundary of invalid characters": (
        "multipart/form-data; boundary=\x7f\x00",
        b"--\x7f\r\n",
    ),
}

WRONG_JSON_VALUES = {
    "text": [{}, [], True],
    "uri": [
        "not a url",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        {},
        [],
    ],
    "enum": ["not-a-choice", 7, [], {}, True],
    "integer": ["abc", 1.5, 10**30, -(10**30), -1, 0, True, [], {}, ""],
    "boolean": [[], {}, "maybe", 2],
    "date": ["2026-02-30", "2026-13-01", "30/01/2026", "not a date", 20260101, [], {}],
    "datetime": [
        "2026-02-30T10:00:00Z",
        "2026-03-01T10:00:00",  # no time zone (API.md: times are ISO 8601 with time zone)
        "2026-03-01T25:00:00Z",
        "yesterday",
        1767225600,
        [],
        {},
    ],
    "decimal": ["abc", "NaN", "Infinity", "-Infinity", "1e400", 1e308, "1" + "0" * 40, [], {}],
    "array": ["x", {"a": 1}, 123, True, [None], [{}], [[]], ["abc"], [10**30], [-1], [1.5]],
    "object": ["x", [], 5, True],
}
WRONG_FORM_VALUES = {
    "integer": ["abc", "1.5", "1" + "0" * 30, "-1", "0", ""],
    "enum": ["not-a-choice", "\u00e9"],
    "file": ["not-a-file", ""],
}
# Characters no text field has a use for, and one PostgreSQL cannot store at all (NUL).
CONTROL_TEXT = {
    "a NUL inside": "before\x00after",
    "only a NUL": "\x00",
    "an escape sequence": "title\x1b[2J\x1b[31mred",
    "a bell": "ding\x07",
    "a backspace": "abc\x08\x08\x08xyz",
    "a lone surrogate": "\ud800",
}


def smuggled_values(world) -> dict:
    """Names the write serializers do not declare, with values that would matter if stored:
    another tenant's client and people, read-only states, privileges."""
    stranger = world.user("northwind.manager")
    return {
        "id": MISSING_ID,
        "client": world.client("northwind").pk,
        # Values no legal call of the sweep produces (none of them rejects or misses work).
        "status": "rejected",
        "reference": "ENG-SMUGGLED",
        "created_at": "2001-01-01T00:00:00Z",
        "updated_at": "2001-01-01T00:00:00Z",
        "uploaded_by": stranger.pk,
        "submitted_by": stranger.pk,
        "author": stranger.pk,
        "reviewer": stranger.pk,
        "consecutive_failures": 99,
        "disabled_at": "2001-01-01T00:00:00Z",
        "sha256": "0" * 64,
        "size": 1,
        "filename": "smuggled.exe",
        "content_type": "application/x-msdownload",
        "version": 99,
        "sla_state": "missed",
        "current_version": 99,
        "is_superuser": True,
        "is_staff": True,
        "role": "client_admin",
        "__proto__": {"is_superuser": True},
        "no_such_field": "stored?",
    }


def _smuggle(endpoint: Endpoint):
    declared = {f.name for f in endpoint.fields}

    def build(body, world):
        extra = {k: v for k, v in smuggled_values(world).items() if k not in declared}
        if endpoint.multipart:
            extra = {k: v for k, v in extra.items() if isinstance(v, (str, int))}
            return Request("multipart", {**body, **extra})
        return Request("json", {**body, **extra})

    return build


def _plain(body) -> dict:
    """The body without its file, never empty: an empty body is no content at all, whatever
    its declared type (and the transitions accept that)."""
    plain = {k: v for k, v in body.items() if isinstance(v, (list, dict, str, int, float))}
    return plain or {"reason": "Sent in the wrong format."}


def _flat(body) -> dict:
    return {k: v if isinstance(v, (list, str, int)) else json.dumps(v) for k, v in body.items()}


def _form_encoded(body, world):
    encoded = urlencode(_flat(_plain(body)), doseq=True).encode()
    return Request("raw", encoded, "application/x-www-form-urlencoded")


def _multipart(body, world):
    return Request("raw", encode_multipart(BOUNDARY, _flat(_plain(body))), MULTIPART_CONTENT)


def _json_text(content_type):
    def build(body, world):
        return Request("raw", json.dumps(_plain(body)).encode(), content_type)

    return build


def _padded_json(size):
    def build(body, world):
        return Request("json", {**_plain(body), "padding": "p" * size})

    return build


def _declared_length(length, content_type="application/json"):
    """A small body whose Content-Length claims `length` bytes: the limit must be applied to
    what is declared, before anything is read."""
    return lambda body, world: Request(
        "raw", b'{"title": "x"}', content_type, {"CONTENT_LENGTH": str(length)}
    )


def _multipart_fields(count):
    def build(body, world):
        return Request("multipart", {**body, **{f"field{i}": "x" for i in range(count)}})

    return build


def family_inputs(endpoint: Endpoint, family: str) -> list[Input]:
    """The inputs of one family for one endpoint; empty when the family does not apply."""
    inputs = []
    accepted = set(endpoint.media_types)

    if family == "malformed":
        if endpoint.multipart:
            for label, (content_type, data) in BROKEN_MULTIPART.items():
                inputs.append(Input(family, label, _raw(data, content_type)))
            inputs.append(Input(family, "1,001 form fields", _multipart_fields(1001)))
        elif "application/json" in accepted:
            for label, data in MALFORMED_JSON.items():
                inputs.append(Input(family, label, _raw(data)))

    elif family == "not-an-object" and "application/json" in accepted:
        for label, data in NOT_AN_OBJECT.items():
            inputs.append(Input(family, label, _raw(data)))
        inputs.append(
            Input(family, "the body inside a list", lambda body, world: Request("json", [body]))
        )

    elif family == "content-type" and endpoint.has_body:
        if "text/plain" not in accepted:
            inputs.append(Input(family, "JSON sent as text/plain", _json_text("text/plain")))
        if "application/x-www-form-urlencoded" not in accepted:
            inputs.append(Input(family, "form-encoded", _form_encoded))
        if "multipart/form-data" not in accepted:
            inputs.append(Input(family, "multipart", _multipart))
        if "application/json" not in accepted:
            inputs.append(Input(family, "JSON", _json_text("application/json")))
        inputs += [
            Input(family, "no Content-Type", _json_text(None)),
            Input(
                family, "XML", _raw(b"<engagement><title>x</title></engagement>", "application/xml")
            ),
            Input(
                family,
                "UTF-8 JSON declared as UTF-16",
                _json_text("application/json; charset=utf-16"),
            ),
        ]

    elif family == "wrong-type":
        for f in endpoint.fields:
            values = (WRONG_FORM_VALUES if endpoint.multipart else WRONG_JSON_VALUES).get(
                f.kind, []
            )
            if f.nullable:
                values = [v for v in values if v != ""]  # blank is null for a nullable id
            elif not endpoint.multipart and f.kind != "file":
                values = [*values, None]
            if f.kind == "array" and f.items == "enum":
                values = [*values, ["not-a-choice"], [1]]
            kind = "multipart" if endpoint.multipart else "json"
            for value in values:
                inputs.append(
                    Input(family, f"{f.name}={value!r:.40}", _with(f.name, value, kind), f.name)
                )
            for sub in f.properties:  # one wrong value at a time inside a nested object
                for value in WRONG_JSON_VALUES[sub.kind][:5]:
                    label = f"{f.name}.{sub.name}={value!r:.40}"
                    inputs.append(Input(family, label, _within(f.name, sub.name, value), f.name))

    elif family == "huge-string":
        kind = "multipart" if endpoint.multipart else "json"
        for f in endpoint.text_fields():
            inputs.append(
                Input(family, f"1 MB in {f.name}", _with(f.name, ONE_MB_TEXT, kind), f.name)
            )
            inputs.append(
                Input(
                    family,
                    f"100,000 characters in {f.name}",
                    _with(f.name, HUNDRED_K_NAME, kind),
                    f.name,
                )
            )

    elif family == "control-chars":
        kind = "multipart" if endpoint.multipart else "json"
        for f in endpoint.fields:
            if f.kind in ("text", "uri"):
                for label, value in CONTROL_TEXT.items():
                    if kind == "multipart" and label == "a lone surrogate":
                        continue  # cannot be encoded in a form body at all
                    inputs.append(
                        Input(family, f"{label} in {f.name}", _with(f.name, value, kind), f.name)
                    )
            elif f.kind in ("enum", "integer", "date", "datetime", "decimal"):
                inputs.append(
                    Input(family, f"a NUL in {f.name}", _with(f.name, "1\x00", kind), f.name)
                )

    elif family == "unknown-fields" and endpoint.has_body:
        inputs.append(
            Input(family, "fields the API does not have", _smuggle(endpoint), may_succeed=True)
        )

    elif family == "oversize":
        inputs.append(
            Input(
                family,
                "Content-Length over REQUEST_MAX_BYTES",
                _declared_length(settings.REQUEST_MAX_BYTES + 1),
                statuses=(413,),
            )
        )
        if endpoint.multipart:
            inputs.append(
                Input(
                    family,
                    "Content-Length over UPLOAD_MAX_BYTES",
                    _declared_length(settings.UPLOAD_MAX_BYTES + 128 * 1024, MULTIPART_CONTENT),
                    statuses=(400, 413),
                )
            )
            inputs.append(
                Input(
                    family,
                    "a form field over DATA_UPLOAD_MAX_MEMORY_SIZE",
                    _with("padding", "p" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1), "multipart"),
                    statuses=(400, 413),
                )
            )
        elif "application/json" in accepted:
            inputs.append(
                Input(
                    family,
                    "a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE",
                    _padded_json(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
                    statuses=(400, 413),
                )
            )
    return inputs


FAMILIES = (
    "malformed",
    "not-an-object",
    "content-type",
    "wrong-type",
    "huge-string",
    "control-chars",
    "unknown-fields",
    "oversize",
)


def planned_api_inputs() -> int:
    endpoints = write_endpoints()
    with_body = sum(len(family_inputs(e, f)) for e in endpoints if e.has_body for f in FAMILIES)
    without_body = sum(len(IGNORED_BODIES) + 1 for e in endpoints if not e.has_body)
    return with_body + without_body


# -- endpoints that take a body --------------------------------------------------------------------

BODY_CASES = [
    pytest.param(endpoint, family, id=f"{endpoint.name} {family}")
    for endpoint in write_endpoints()
    if endpoint.has_body
    for family in FAMILIES
    if family_inputs(endpoint, family)
]


class Caller:
    """One legal call of the matrix, arranged once (its setup can be costly) and then sent
    each input of a family, every input in its own savepoint."""

    def __init__(self, world, api, cheap_password, endpoint, case, username):
        self.world, self.endpoint, self.case, self.username = world, endpoint, case, username
        if case.setup:
            case.setup(world)
        self.user = world.user(username)
        if case.anonymous:
            cheap_password(self.user)
        self.target = case.target(world, self.user) if case.target else None
        self.client = api(None if case.anonymous else username)
        self.path = url(endpoint.route, self.target and self.target.pk)
        # Every input is rolled back, so one picture of the arranged state serves them all.
        self.snapshot = Snapshot(self.target)
        self.body = None if endpoint.multipart else case.body(world, self.user)

    def valid_body(self):
        if self.body is None:  # a file is read once: a fresh one for every upload
            return self.case.body(self.world, self.user)
        return copy.deepcopy(self.body)

    def send(self, input_):
        request = input_.build(self.valid_body(), self.world)
        response = send(self.client, self.endpoint.method, self.path, request)
        record(f"api {input_.family}")
        label = f"{self.endpoint.name} as {self.username}, {input_.family}: {input_.label}"
        return response, self.snapshot, label


def callers(world, api, cheap_password, endpoint, inputs):
    """The inputs grouped by the legal call they break, each group under its arrangement."""
    groups, chosen = {}, {}
    for input_ in inputs:
        if input_.field not in chosen:
            chosen[input_.field] = case_for(endpoint.key, world, input_.field)
        case, username = chosen[input_.field]
        groups.setdefault((id(case), username), (case, username, []))[2].append(input_)
    for case, username, group in groups.values():
        arrangement = transaction.savepoint()
        try:
            caller = Caller(world, api, cheap_password, endpoint, case, username)
            yield caller, group
        finally:
            transaction.savepoint_rollback(arrangement)


def _is(stored, smuggled) -> bool:
    """Whether a stored value is what was smuggled (times are compared as times)."""
    if isinstance(stored, datetime) and isinstance(smuggled, str):
        return stored == parse_datetime(smuggled)
    return stored == smuggled


def _assert_nothing_smuggled_stored(response, snapshot, world, label):
    smuggled = smuggled_values(world)
    body = response.json()
    shown = {k: body[k] for k in smuggled if k in body and _is(body[k], smuggled[k])}
    assert not shown, f"{label}: the answer shows smuggled values as stored: {shown}"
    if snapshot.row is None:
        return
    after = row_of(snapshot.target) or {}
    for name, value in smuggled.items():
        for column in (name, f"{name}_id"):
            if column in after and after[column] != snapshot.row[column]:
                assert not _is(after[column], value), f"{label}: {column} was set from the body"


@pytest.mark.parametrize(("endpoint", "family"), BODY_CASES)
def test_a_write_endpoint_refuses_bad_input_and_stores_nothing(
    endpoint, family, world, api, cheap_password
):
    inputs = family_inputs(endpoint, family)
    for caller, group in callers(world, api, cheap_password, endpoint, inputs):
        for input_ in group:
            savepoint = transaction.savepoint()
            try:
                response, snapshot, label = caller.send(input_)
                if input_.may_succeed and 200 <= response.status_code < 300:
                    _assert_nothing_smuggled_stored(response, snapshot, caller.world, label)
                    continue
                assert_api_refusal(response, label)
                if input_.statuses:
                    assert response.status_code in input_.statuses, f"{label}: {explain(response)}"
                snapshot.assert_unchanged(label)
            finally:
                transaction.savepoint_rollback(savepoint)


# -- endpoints without a body ----------------------------------------------------------------------

IGNORED_BODIES = {
    "malformed JSON": _raw(b'{"broken": '),
    "a list": _raw(b"[]"),
    "text/plain": _raw(b"hello", "text/plain"),
    "no Content-Type": _raw(b"hello", None),
    "a megabyte of JSON": lambda body, world: Request("json", {"padding": ONE_MB_TEXT}),
    "a NUL": _raw(b'{"reason": "\\u0000"}'),
    "fields the API does not have": lambda body, world: Request("json", smuggled_values(world)),
}


def _read_notification(world, username):
    notification = world.notification_for(username)
    notification.read_at = notification.created_at
    notification.save(update_fields=["read_at"])
    return notification


# For each endpoint that takes no body: who calls it, on what, so that the action is refused
# (or, for marking read, already done): the garbage must not change that answer.
REFUSING = {
    ("deliverables/{pk}/start/", "POST"): (
        "bio.analyst",
        lambda w: w.deliverable("Interim efficacy report"),  # in review: nothing to start
    ),
    ("deliverables/{pk}/cancel/", "POST"): (
        "alpha.manager",
        lambda w: w.deliverable("Statistical analysis plan"),  # accepted: closed
    ),
    ("notifications/{pk}/read/", "POST"): (
        "alpha.manager",
        lambda w: _read_notification(w, "alpha.manager"),  # read already
    ),
    ("webhooks/{pk}/", "DELETE"): (
        "alpha.manager",
        lambda w: w.webhook("alpha-pharma"),  # managers do not manage webhooks
    ),
    ("auth/token/", "DELETE"): (
        "alpha.manager",
        lambda w: None,  # revoking is idempotent: the caller signed in without a token
    ),
}

NO_BODY_CASES = [
    pytest.param(endpoint, id=endpoint.name)
    for endpoint in write_endpoints()
    if not endpoint.has_body
]


def test_every_endpoint_without_a_body_has_a_refusing_arrangement():
    without = {endpoint.key for endpoint in write_endpoints() if not endpoint.has_body}
    assert without == set(REFUSING), sorted(without ^ set(REFUSING))


def test_every_write_endpoint_with_a_body_has_a_legal_call_in_the_matrix():
    missing = [e.name for e in write_endpoints() if e.has_body and not legal_cases(e.key)]
    assert not missing, f"No role of the authorization matrix may call {missing}"


def test_the_sweep_covers_every_write_endpoint():
    swept = {endpoint.key for endpoint, _ in (p.values for p in BODY_CASES)}
    swept |= {p.values[0].key for p in NO_BODY_CASES}
    assert swept == {endpoint.key for endpoint in write_endpoints()}
    assert ("engagements/{pk}/", "PATCH") in swept  # the discovery is not empty


@pytest.mark.parametrize("endpoint", NO_BODY_CASES)
def test_an_endpoint_without_a_body_ignores_whatever_body_it_is_sent(endpoint, world, api):
    username, arrange = REFUSING[endpoint.key]
    target = arrange(world)
    client = api(username)
    path = url(endpoint.route, target and target.pk)
    baseline = client.generic(endpoint.method, path)
    assert baseline.status_code < 500, explain(baseline)
    inputs = [(label, build(None, world)) for label, build in IGNORED_BODIES.items()]
    inputs.append(
        (
            "Content-Length over REQUEST_MAX_BYTES",
            _declared_length(settings.REQUEST_MAX_BYTES + 1)(None, world),
        )
    )
    for label, request in inputs:
        snapshot = Snapshot(target)
        response = send(client, endpoint.method, path, request)
        record("api ignored-body")
        where = f"{endpoint.name} as {username}: {label}"
        if label.startswith("Content-Length"):
            assert_api_refusal(response, where, access_ok=True)
            assert response.status_code == 413, explain(response)
        else:
            assert response.status_code == baseline.status_code, f"{where}: {explain(response)}"
        snapshot.assert_unchanged(where)
