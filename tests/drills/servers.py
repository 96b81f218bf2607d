"""Private servers for the failure drills: a throwaway PostgreSQL cluster, a Redis and the app
under gunicorn, each on a free port of the loopback, so that a drill can stop and start them
without touching the PostgreSQL and Redis that other test runs share.

PostgreSQL refuses to run as root: as root its cluster belongs to the `postgres` user and
every server command runs through `runuser`. Every process is started in its own session
and stopped in teardown, on failure too.
"""

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import redis
import requests

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE = "kpo"


def free_port() -> int:
    """A port of the loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, what: str, poll: float = 0.1, log=None):
    """Poll `condition()` until it is true; fail with `what` (and the tail of `log()`)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            tail = f"\n{log()[-3000:]}" if log else ""
            raise AssertionError(f"{what} not within {timeout}s{tail}")
        time.sleep(poll)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _signal_group(process, sig) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


# -- PostgreSQL --------------------------------------------------------------------------------


def postgres_bindir() -> Path | None:
    """The newest PostgreSQL server installed as Debian lays it out (15 on our machines)."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


def postgres_missing() -> str | None:
    """Why a private cluster cannot be had here, or None."""
    if postgres_bindir() is None:
        return "needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "runs as root and needs a `postgres` user to own the private cluster"
        if shutil.which("runuser") is None:
            return "runs as root and needs `runuser`"
    return None


class PostgresServer:
    """A cluster of its own: trust authentication, no fsync (nothing here must survive a
    crash), TCP on the loopback only."""

    def __init__(self):
        self.bindir = postgres_bindir()
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kpo-drill-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "server.log"
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        done = subprocess.run(  # noqa: S603 - fixed programs, arguments of our own
            [*self.as_owner, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args[:2])} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
                f"\n{self.log()[-3000:]}"
            )

    def log(self) -> str:
        return _read(self.logfile)

    def init(self) -> "PostgresServer":
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        return self

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=60",
                "-c shared_buffers=32MB",
            ]
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            timeout=90,
        )

    def stop(self, mode: str = "fast") -> None:
        """`fast` is what a service restart does: open sessions are ended, in-flight
        transactions rolled back."""
        self._run(
            str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        try:
            if self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE):
        """A connection of the test itself, in autocommit: to look at what the app wrote."""
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5
        )
        connection.autocommit = True
        return connection

    def create_database(self, database: str = DATABASE) -> None:
        connection = self.connect("postgres")
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{database}"')
        finally:
            connection.close()


class Database:
    """Plain SQL against the private cluster, reconnecting after a restart."""

    def __init__(self, server: PostgresServer):
        self.server = server
        self._connection = None

    def rows(self, sql: str, params=()) -> list[tuple]:
        if self._connection is None or self._connection.closed:
            self._connection = self.server.connect()
        try:
            with self._connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            self.close()
            raise

    def value(self, sql: str, params=()):
        [(value,)] = self.rows(sql, params)
        return value

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(psycopg2.Error):
                self._connection.close()
            self._connection = None


# -- Redis -------------------------------------------------------------------------------------


def redis_missing() -> str | None:
    return None if shutil.which("redis-server") else "needs `redis-server`"


class RedisServer:
    """A Redis that keeps nothing on disk: when it comes back after a stop it is empty, as a
    replaced cache node would be. Whatever the app had queued in it is gone; what must not
    be lost is in the database."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.logfile = directory / "redis.log"
        self.process = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
                "--logfile",
                str(self.logfile),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(self.ping, timeout=15, what="Redis answering", log=lambda: _read(self.logfile))

    def ping(self) -> bool:
        client = redis.Redis.from_url(self.url(), socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGKILL: Redis is simply gone, with whatever it held."""
        if self.process is None:
            return
        _signal_group(self.process, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def flush(self) -> None:
        client = redis.Redis.from_url(self.url(), socket_timeout=5)
        try:
            client.flushall()
        finally:
            client.close()


# -- the app -----------------------------------------------------------------------------------


def app_environment(
    postgres: PostgresServer, redis_server: RedisServer, var_dir: Path, **extra
) -> dict:
    """The environment of every app process of a drill: development settings with DEBUG off
    (so an error looks as it would in production), the private servers, its own VAR_DIR and
    a file-based mailbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    for name in ("CELERY_BROKER_URL", "DATABASE_URL_FILE", "REDIS_URL_FILE", "EMAIL_FILE_PATH"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="kpo.settings",
        DJANGO_ENV="development",
        DEBUG="0",
        DATABASE_URL=postgres.url(),
        REDIS_URL=redis_server.url(),
        VAR_DIR=str(var_dir),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(var_dir / "mail"),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argument list
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Gunicorn:
    """kpo.wsgi under gunicorn, as production serves it: a master and sync workers."""

    def __init__(self, env: dict, log_path: Path, workers: int = 2):
        self.env, self.log_path, self.workers = env, log_path, workers
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self._log_file = None

    def start(self) -> "Gunicorn":
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                sys.executable,
                "-m",
                "gunicorn",
                "kpo.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--error-logfile",
                "-",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._answers, timeout=60, what="gunicorn answering", log=self.log)
        return self

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log()[-4000:]}")
        try:
            # The first request of a worker loads the URLs and views: give it time.
            requests.get(f"{self.base_url}/accounts/login/", timeout=15)
        except requests.RequestException:
            return False
        return True

    def worker_pids(self) -> set[int]:
        """The master's children: a worker that died and was replaced shows as a new pid."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def log(self) -> str:
        return _read(self.log_path)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            # Quick shutdown: nothing is in flight when a drill ends.
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)
        _signal_group(self.process, signal.SIGKILL)
        try:
            self.process.wait(timeout=10)
        finally:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None
