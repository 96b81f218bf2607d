"""Where the current request comes from, so services can audit "from where" without every
call site passing the request down. Celery tasks and commands leave it empty."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestOrigin:
    ip: str | None = None
    user_agent: str = ""


_origin: ContextVar[RequestOrigin | None] = ContextVar("request_origin", default=None)


def current_origin() -> RequestOrigin:
    return _origin.get() or RequestOrigin()


def set_origin(origin: RequestOrigin):
    return _origin.set(origin)


def reset_origin(token) -> None:
    _origin.reset(token)
