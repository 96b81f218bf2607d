"""What the scale benchmarks share: the database URL, Django set-up, a progress bar, the
load generator and the table printer. Not part of the app."""

import http.client
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kpo_scale"


def fail(script: str, message: str) -> None:
    print(f"{script}: {message}", file=sys.stderr)
    sys.exit(2)


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def connect(url: str, dbname: str | None = None):
    import psycopg2

    parts = urlsplit(url)
    return psycopg2.connect(
        host=parts.hostname or "localhost",
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname=dbname or database_name(url),
    )


def setup_django(url: str, var_dir: str, settings: str = "kpo.settings") -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": url,
            "VAR_DIR": var_dir,
            # Wake-ups go to an in-memory broker: nothing here needs a worker.
            "CELERY_BROKER_URL": "memory://",
            "DEBUG": "false",
        }
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def read_state(url: str) -> dict:
    """The ids and tokens that seed_scale.py recorded (table `bench_state`)."""
    connection = connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT value FROM bench_state")
            return json.loads(cursor.fetchone()[0])
    finally:
        connection.close()


class Progress:
    """One line on stderr: label, bar, percentage, rows and elapsed seconds."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done, self.shown = max(total, 1), label, 0, -1
        self.started = time.perf_counter()

    def update(self, count: int) -> None:
        self.done += count
        percent = min(100, self.done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            bar = "#" * (percent // 4) + "-" * (25 - percent // 4)
            print(
                f"\r  {self.label:<14} [{bar}] {percent:3d}% {self.done:>11,} rows "
                f"{time.perf_counter() - self.started:6.1f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        print(file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def _worker(port, path, headers, count, latencies, errors, lock):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    mine = []
    for _ in range(count):
        started = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            status = repr(exc)
        mine.append(time.perf_counter() - started)
        if status != 200:
            with lock:
                errors.append(status)
    connection.close()
    with lock:
        latencies.extend(mine)


def measure(port: int, path: str, headers: dict, requests: int, concurrency: int) -> dict:
    """`requests` GETs of `path` spread over `concurrency` keep-alive connections on loopback.

    Returns req/s over the whole run and the p50/p95 latency in milliseconds. Any answer other
    than 200 is an error: a benchmark of error pages would mean nothing.
    """
    latencies, errors, lock = [], [], threading.Lock()
    per_thread = [
        requests // concurrency + (i < requests % concurrency) for i in range(concurrency)
    ]
    threads = [
        threading.Thread(
            target=_worker, args=(port, path, headers, n, latencies, errors, lock), daemon=True
        )
        for n in per_thread
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"GET {path}: {len(errors)} answers were not 200, e.g. {errors[0]}")
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
    }


def fetch(port: int, path: str, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def print_table(title: str, rows: list[dict], concurrency: int) -> None:
    print()
    print(f"{title} (concurrency {concurrency})")
    header = (
        f"| {'endpoint':<44} | {'app req/s':>9} | {'p50 ms':>7} | {'p95 ms':>7} "
        f"| {'base req/s':>10} | {'p50 ms':>7} | {'p95 ms':>7} | {'ratio':>5} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|")
    for row in rows:
        app, base = row["app"], row["base"]
        ratio = app["p50"] / base["p50"] if base["p50"] else float("nan")
        print(
            f"| {row['name']:<44} | {app['rps']:>9.1f} | {app['p50']:>7.1f} | {app['p95']:>7.1f} "
            f"| {base['rps']:>10.1f} | {base['p50']:>7.1f} | {base['p95']:>7.1f} "
            f"| {ratio:>4.2f}x |"
        )


class Server:
    """The app under gunicorn on the scale database, with the baseline views mounted
    (bench/baseline_settings.py), as production runs it: DEBUG off, persistent database
    connections, the Redis cache. Stopped on exit, by its own process group."""

    def __init__(self, url: str, workers: int = 2, redis_url: str = "redis://127.0.0.1:6379/5"):
        self.url, self.workers, self.redis_url = url, workers, redis_url
        self.port = free_port()
        self.process = None

    def __enter__(self):
        import subprocess
        import tempfile

        self.var_dir = tempfile.mkdtemp(prefix="kpo-bench-web-")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.baseline_settings",
            "DATABASE_URL": self.url,
            "DB_CONN_MAX_AGE": "60",
            "REDIS_URL": self.redis_url,
            "CELERY_BROKER_URL": "memory://",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "VAR_DIR": self.var_dir,
            "LOG_LEVEL": "WARNING",
            # The benchmark is one user hammering one endpoint: exactly what the API's
            # per-user throttle exists to stop.
            "API_THROTTLE_USER": "1000000/minute",
            "API_THROTTLE_TOKEN": "1000000/minute",
            "PYTHONPATH": str(ROOT),
        }
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "kpo.wsgi:application",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--chdir",
                str(ROOT),
                "--timeout",
                "300",
                "--log-level",
                "warning",
            ],
            env=env,
            start_new_session=True,
        )
        wait_for_port(self.port)
        return self

    def __exit__(self, *exc):
        import shutil
        import signal
        import subprocess

        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        shutil.rmtree(self.var_dir, ignore_errors=True)
        return False


def run_pairs(port: int, pairs: list[dict], requests: int, concurrencies: list[int], title: str):
    """Warm each path up, check it answers 200, then measure app and baseline in turn."""
    for pair in pairs:
        for side in ("app", "base"):
            status, body = fetch(port, pair[side], pair["headers"])
            if status != 200:
                raise RuntimeError(f"GET {pair[side]} answered {status}: {body[:300]!r}")
            pair.setdefault("bytes", {})[side] = len(body)
            measure(port, pair[side], pair["headers"], 3, 1)
    results = {}
    for concurrency in concurrencies:
        rows = []
        for pair in pairs:
            app = measure(port, pair["app"], pair["headers"], requests, concurrency)
            base = measure(port, pair["base"], pair["headers"], requests, concurrency)
            rows.append({"name": pair["name"], "app": app, "base": base})
        print_table(title, rows, concurrency)
        results[concurrency] = rows
    return results
