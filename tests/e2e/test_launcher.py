"""`make run`'s launcher leaves no process behind: interrupted while it starts the suite,
or stopped by a step that fails after services have started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from deploy.suite import ROOT
from tests.support import METRICS_PORTS, PG, TEST_NAME, test_port


def marked_processes(marker: str) -> list[int]:
    """PIDs of every process whose environment carries `marker` (the launcher's children
    inherit it, whichever session they run in)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture
def launch(tmp_path, test_env):
    """Start `python -m deploy.suite run` on databases, a vhost and ports of its own."""
    marker = f"MEMBERSPACE_LAUNCH_MARK={uuid.uuid4().hex}"
    name = f"{TEST_NAME}_launch"
    env = {**os.environ, **test_env, marker.split("=")[0]: marker.split("=")[1],
           "MEMBERSPACE_VAR_DIR": str(tmp_path / "var"),
           "WEB_SERVER_ADDRESS": f"127.0.0.1:{test_port(18090)}",
           "NOTIFICATIONS_SMTP_PORT": str(test_port(18091)),
           "S3_ENDPOINT_URL": f"http://127.0.0.1:{test_port(18092)}"}
    from deploy import infra

    infra.ensure_vhost(name, fresh=True)  # its services must not answer the suite's calls
    env["AMQP_URI"] = test_env["AMQP_URI"].rsplit("/", 1)[0] + "/" + name
    for service in METRICS_PORTS:  # the running suite's probe ports are taken
        env.pop(f"{service.upper()}_METRICS_PORT", None)
    for service in ("auth", "notifications", "benefits", "documents", "pension"):
        env[f"{service.upper()}_DATABASE_URL"] = f"{PG}/{name}_{service}"
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "deploy.suite", "run"], env=env,
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)
        started.append(proc)
        return proc

    yield start, marker, env
    for proc in started:
        if proc.poll() is None:
            proc.kill()
    for pid in marked_processes(marker):
        os.kill(pid, signal.SIGKILL)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_ctrl_c_while_starting_stops_every_process(launch):
    start, marker, _ = launch
    launcher = start()
    # services are starting: the launcher has children of its own beside itself
    wait_for(lambda: len(marked_processes(marker)) >= 4, 240, "no service was started")
    launcher.send_signal(signal.SIGINT)
    out, _ = launcher.communicate(timeout=300)
    assert "stopped." in out, out
    wait_for(lambda: not marked_processes(marker), 10,
             f"processes left behind: {marked_processes(marker)}")


def test_a_failed_step_after_services_started_stops_them(launch):
    start, marker, env = launch
    host, port = env["WEB_SERVER_ADDRESS"].split(":")
    with socket.socket() as taken:  # the gateway cannot bind: its start fails
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind((host, int(port)))
        taken.listen()
        launcher = start()
        out, _ = launcher.communicate(timeout=300)
    assert launcher.returncode != 0, out
    assert "gateway exited" in out, out
    wait_for(lambda: not marked_processes(marker), 10,
             f"processes left behind: {marked_processes(marker)}")
