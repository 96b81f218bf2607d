"""The write endpoints of the REST API as the sweep calls them.

Every POST, PUT, PATCH and DELETE route comes from the URL resolver (tests/api/routes.py);
how to call it legally — the caller, the object, a valid body, the arrangement that makes the
action allowed — comes from the authorization matrix's table, and which fields it declares,
with their types, from the app's own OpenAPI schema. The sweep then breaks one thing at a
time in that legal call, so that a refusal can only come from input checking.
"""

from dataclasses import dataclass
from functools import cache

from drf_spectacular.generators import SchemaGenerator

from tests.api.routes import API_PREFIX, discovered_write_routes
from tests.api.test_authorization_matrix import TABLE as MATRIX

# Who calls: a manager or a provider's worker before an admin (admins will need a second
# factor in the browser; the API client here authenticates directly either way).
PREFERRED_CALLERS = (
    "alpha.manager",
    "bio.lead",
    "bio.analyst",
    "bio.qa",
    "alpha.admin",
    "bio.admin",
    "alpha.viewer",
)


@dataclass(frozen=True)
class Field:
    """One field of a request body, as the OpenAPI schema declares it."""

    name: str
    kind: str  # text, enum, integer, boolean, date, datetime, decimal, uri, array, object, file
    nullable: bool = False
    items: str | None = None  # the kind of an array's items
    properties: tuple["Field", ...] = ()  # the fields of a nested object


@dataclass(frozen=True)
class Endpoint:
    route: str
    method: str
    media_types: tuple[str, ...]  # what the schema says the body may be sent as
    fields: tuple[Field, ...]

    @property
    def key(self):
        return (self.route, self.method)

    @property
    def name(self):
        return f"{self.method} {self.route}"

    @property
    def has_body(self):
        return bool(self.media_types)

    @property
    def multipart(self):
        return self.media_types == ("multipart/form-data",)

    def text_fields(self):
        return [f for f in self.fields if f.kind in ("text", "uri")]


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _kind(prop: dict) -> str:
    prop = _resolve(prop)
    if "enum" in prop:
        return "enum"
    kind = prop.get("type")
    if kind == "string":
        return {
            "binary": "file",
            "date": "date",
            "date-time": "datetime",
            "decimal": "decimal",
            "uri": "uri",
        }.get(prop.get("format"), "text")
    return kind


def _field(name: str, prop: dict) -> Field:
    resolved = _resolve(prop)
    kind = _kind(prop)
    return Field(
        name=name,
        kind=kind,
        nullable=bool(resolved.get("nullable")),
        items=_kind(resolved["items"]) if kind == "array" else None,
        properties=tuple(
            _field(sub, sub_prop) for sub, sub_prop in resolved.get("properties", {}).items()
        )
        if kind == "object"
        else (),
    )


def _endpoint(route: str, method: str) -> Endpoint:
    path = "/" + API_PREFIX + route.replace("{pk}", "{id}")
    operation = schema()["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    media_types = tuple(sorted(content))
    fields = ()
    if content:
        # Every media type of one operation shares the same body schema.
        body = _resolve(next(iter(content.values()))["schema"])
        fields = tuple(
            _field(name, prop)
            for name, prop in body.get("properties", {}).items()
            if not _resolve(prop).get("readOnly")
        )
    return Endpoint(route, method, media_types, fields)


@cache
def write_endpoints() -> tuple[Endpoint, ...]:
    return tuple(_endpoint(route, method) for route, method in sorted(discovered_write_routes()))


# -- how to call each legally --------------------------------------------------------------------


def allowed_caller(case) -> str | None:
    for username in PREFERRED_CALLERS:
        if 200 <= case.own.get(username, 0) < 300:
            return username
    return None


def legal_cases(key) -> list:
    """The matrix's rows for the endpoint in which some role of the table succeeds."""
    return [case for case in MATRIX if case.key == key and allowed_caller(case)]


def case_for(key, world, field=None):
    """The matrix row to build on, and its caller: the first row whose valid body names
    `field` (the engagement's staffing is the provider's to send, its terms the client's),
    else the first legal row."""
    cases = legal_cases(key)
    if field is not None:
        for case in cases:
            username = allowed_caller(case)
            if field in case.body(world, world.user(username)):
                return case, username
    return cases[0], allowed_caller(cases[0])


def url(route, pk=None) -> str:
    return "/" + API_PREFIX + (route.format(pk=pk) if "{pk}" in route else route)
