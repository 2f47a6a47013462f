"""The Dockerfile and docker-compose.yml, read as Docker would (they cannot be built here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per line of the Dockerfile, continuation lines joined."""
    joined = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _all(word: str) -> list[str]:
    return [rest for found, rest in _instructions() if found == word]


def _healthcheck_command() -> list[str]:
    (healthcheck,) = _all("HEALTHCHECK")
    command = json.loads(healthcheck[healthcheck.index("CMD ") + 4 :])
    assert isinstance(command, list)
    return [str(part) for part in command]


def test_the_image_holds_what_the_package_and_the_check_need() -> None:
    copied = {source for rest in _all("COPY") for source in rest.split()[:-1]}
    # pyproject's readme, both packages, and the manifest `reelbot check` compares scopes with.
    assert {"pyproject.toml", "README.md", "bot", "providers", "manifest.yml"} <= copied
    ignored = (REPO / ".dockerignore").read_text().split()
    assert "manifest.yml" not in ignored
    (workdir,) = _all("WORKDIR")
    copy_manifest = next(r for r in _all("COPY") if "manifest.yml" in r.split()[:-1])
    assert copy_manifest.split()[-1] in ("./", ".", f"{workdir}/", f"{workdir}/manifest.yml")
    assert json.loads(_all("CMD")[-1]) == ["reelbot", "run"]


def test_the_port_exposed_is_the_port_the_bot_listens_on() -> None:
    env = " ".join(_all("ENV"))
    port = next(p.split("=", 1)[1] for p in env.split() if p.startswith("PORT="))
    assert _all("EXPOSE") == [port]


def test_the_healthcheck_asks_healthz_with_python_alone() -> None:
    command = _healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "curl" not in " ".join(command) and "wget" not in " ".join(command)
    assert "/healthz" in command[2]
    compile(command[2], "HEALTHCHECK", "exec")


class _Health(BaseHTTPRequestHandler):
    status = 200
    asked: list[str] = []

    def do_GET(self) -> None:
        type(self).asked.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, format: str, *args: Any) -> None:
        return None


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_passes_only_when_healthz_says_ok(
    health_server: ThreadingHTTPServer, status: int, healthy: bool
) -> None:
    _Health.status, _Health.asked = status, []
    port = health_server.server_address[1]
    code = _healthcheck_command()[2]
    env = {**os.environ, "PORT": str(port)}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False
    )
    assert (result.returncode == 0) is healthy
    assert _Health.asked == ["/healthz"]


def test_compose_runs_the_bot_on_its_redis() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    bot, redis = services["bot"], services["redis"]
    assert redis["image"].startswith("redis:")
    assert "healthcheck" in redis
    assert bot["depends_on"]["redis"]["condition"] == "service_healthy"
    assert bot["environment"]["REDIS_URL"].startswith("redis://redis:")
    port = str(bot["environment"]["PORT"])
    assert any(str(mapping).endswith(f":{port}") for mapping in bot["ports"])
    assert bot["build"] == "."
