"""services.notifications.smtp_client against real SMTP servers: deploy/mailsink.py as its
own process (the way `make run` starts it) and aiosmtpd in-process for refusals."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notifications.rendering import RenderedEmail, Renderer
from services.notifications.smtp_client import (
    MailSession,
    SendError,
    SmtpSettings,
    backoff_seconds,
    build_message,
    send,
)
from tests.support_oidc import free_port

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://members.caisses-sociales.mc"


class MailSink:
    """deploy/mailsink.py in its own process on a free port."""

    def __init__(self, directory: Path, log: Path):
        self.directory = directory
        self.log = log
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MailSink:
        for _ in range(3):  # a free port may be taken before the sink binds it
            self.port = free_port()
            with open(self.log, "ab") as log:
                self.process = subprocess.Popen(
                    [sys.executable, "-m", "deploy.mailsink", "--host", "127.0.0.1",
                     "--port", str(self.port), "--dir", str(self.directory)],
                    cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready():
                return self
            self.stop()
        raise RuntimeError(f"the mail sink did not start:\n{self.output()}")

    def _wait_ready(self, timeout: float = 15.0) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if "listening on" in self.output():
                return True
            time.sleep(0.05)
        return False

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        code = self.process.returncode
        self.process = None
        return code

    def settings(self, **overrides: Any) -> SmtpSettings:
        return SmtpSettings(**{"host": "127.0.0.1", "port": self.port, "timeout": 5.0,
                               **overrides})

    def wait_for_files(self, count: int, timeout: float = 10.0) -> list[Path]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            files = sorted(self.directory.glob("*.eml"))
            if len(files) >= count:
                return files
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) expected in {self.directory}, got "
                             f"{len(list(self.directory.glob('*.eml')))}\n{self.output()}")


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    # a folder that does not exist yet: the sink creates it
    running = MailSink(tmp_path / "var" / "mail", tmp_path / "mailsink.log").start()
    yield running
    running.stop()


def read_eml(path: Path) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(message, EmailMessage)
    return message


def reset_request(first_name: str = "Émilie", token: str = "t0k+en/1") -> RenderedEmail:
    renderer = Renderer(BASE_URL)
    return renderer.email("password_reset_request", "fr", {
        "first_name": first_name,
        "reset_url": renderer.link("/password/reset", token),
        "expires_minutes": 30,
    })


def test_sent_message_is_saved_by_the_sink(sink: MailSink) -> None:
    email = reset_request()
    message_id = send(sink.settings(), "Émilie Dupont <emilie.dupont@example.mc>", email)

    assert message_id.startswith("<") and message_id.endswith("@caisses-sociales.mc>")
    [path] = sink.wait_for_files(1)
    assert path.name.endswith(".eml")
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    saved = read_eml(path)
    assert saved["Message-ID"] == message_id
    assert saved["To"].addresses[0].addr_spec == "emilie.dupont@example.mc"
    assert saved["To"].addresses[0].display_name == "Émilie Dupont"
    assert saved["Subject"] == "Réinitialisation de votre mot de passe"
    assert saved["From"].addresses[0].addr_spec == "no-reply@caisses-sociales.mc"
    assert saved["From"].addresses[0].display_name == "Caisses Sociales de Monaco"
    assert saved["Date"].datetime is not None
    assert saved["Auto-Submitted"] == "auto-generated"
    assert saved.get_content_type() == "multipart/alternative"
    parts = {part.get_content_type(): part.get_content() for part in saved.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}
    link = f"{BASE_URL}/password/reset?token=t0k%2Ben%2F1"
    assert parts["text/plain"].startswith("Bonjour Émilie,")
    assert link in parts["text/plain"].splitlines()
    assert f'href="{link}"' in parts["text/html"]
    # as received over SMTP: CRLF line ends
    assert parts["text/plain"].replace("\r\n", "\n") == email.text
    assert parts["text/html"].replace("\r\n", "\n") == email.html

    line = next(line for line in sink.output().splitlines() if line.startswith("mail to"))
    assert "emilie.dupont@example.mc" in line
    assert "Réinitialisation de votre mot de passe" in line
    assert "token" not in line
    assert sink.stop() == 0


def test_each_message_gets_its_own_file(sink: MailSink) -> None:
    ids = {send(sink.settings(), f"member{n}@example.mc", reset_request(token=str(n)))
           for n in range(3)}
    assert len(ids) == 3
    files = sink.wait_for_files(3)
    assert {read_eml(path)["Message-ID"] for path in files} == ids
    assert {read_eml(path)["To"] for path in files} == {f"member{n}@example.mc"
                                                         for n in range(3)}


def test_reply_to_is_set_when_configured(sink: MailSink) -> None:
    settings = sink.settings(reply_to="Accueil <tsa@caisses-sociales.mc>",
                             sender="Caisses Sociales <noreply@example.mc>")
    message_id = send(settings, "paul@example.mc", reset_request())
    saved = read_eml(sink.wait_for_files(1)[0])
    assert saved["Reply-To"].addresses[0].addr_spec == "tsa@caisses-sociales.mc"
    assert saved["From"].addresses[0].addr_spec == "noreply@example.mc"
    assert message_id.endswith("@example.mc>")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sink_stops_cleanly_on_signals(tmp_path: Path, sig: int) -> None:
    sink = MailSink(tmp_path / "mail", tmp_path / "log").start()
    started = time.monotonic()
    assert sink.stop(sig) == 0
    assert time.monotonic() - started < 5
    assert "Traceback" not in sink.output()


def test_closed_port_is_a_temporary_failure() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2.0)
    with pytest.raises(SendError) as caught:
        send(settings, "someone@example.mc", reset_request())
    assert caught.value.permanent is False
    assert "token" not in str(caught.value)


def test_starttls_without_server_support_is_a_temporary_failure(sink: MailSink) -> None:
    with pytest.raises(SendError) as caught:
        send(sink.settings(tls="starttls"), "someone@example.mc", reset_request())
    assert caught.value.permanent is False
    assert not list(sink.directory.glob("*.eml"))


def test_invalid_recipient_is_a_permanent_failure() -> None:
    # refused before any connection: nothing listens on this port
    settings = SmtpSettings(host="127.0.0.1", port=free_port())
    for to in ("not-an-address", "a@b.mc\r\nBcc: evil@example.com"):
        with pytest.raises(SendError) as caught:
            send(settings, to, reset_request())
        assert caught.value.permanent is True


class RefusingHandler:
    """Accepts mail except for some recipients, like a real server would; counts the
    connections it was greeted on (EHLO)."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.greetings = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        self.greetings += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("unknown@"):
            return "550 5.1.1 <unknown@example.mc>: Recipient address rejected"
        if address.startswith("busy@"):
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        return "250 OK"


@pytest.fixture
def refusing_server() -> Iterator[tuple[RefusingHandler, int]]:
    handler = RefusingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            server_hostname="refusing.test", ready_timeout=10)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def test_recipient_refused_with_550_is_permanent(
        refusing_server: tuple[RefusingHandler, int]) -> None:
    handler, port = refusing_server
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)
    with pytest.raises(SendError) as caught:
        send(settings, "unknown@example.mc", reset_request())
    assert caught.value.permanent is True
    assert caught.value.code == 550
    assert "Recipient address rejected" in str(caught.value)
    assert "token" not in str(caught.value)
    assert handler.received == []
    # the same server takes other recipients
    assert send(settings, "known@example.mc", reset_request()).startswith("<")
    assert len(handler.received) == 1


def test_recipient_refused_with_450_is_temporary(
        refusing_server: tuple[RefusingHandler, int]) -> None:
    _, port = refusing_server
    with pytest.raises(SendError) as caught:
        send(SmtpSettings(host="127.0.0.1", port=port, timeout=5.0), "busy@example.mc",
             reset_request())
    assert caught.value.permanent is False
    assert caught.value.code == 450


def test_a_session_sends_a_batch_over_one_connection(
        refusing_server: tuple[RefusingHandler, int]) -> None:
    handler, port = refusing_server
    settings = SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)
    with MailSession(settings) as session:
        first = session.send("one@example.mc", reset_request())
        with pytest.raises(SendError) as caught:  # a refusal leaves the session usable
            session.send("unknown@example.mc", reset_request())
        assert caught.value.permanent is True
        second = session.send("two@example.mc", reset_request())
    assert first != second
    assert len(handler.received) == 2
    assert handler.greetings == 1


def test_a_session_reconnects_after_losing_its_connection(
        refusing_server: tuple[RefusingHandler, int]) -> None:
    handler, port = refusing_server
    with MailSession(SmtpSettings(host="127.0.0.1", port=port, timeout=5.0)) as session:
        session.send("one@example.mc", reset_request())
        assert session.client is not None
        session.client.sock.shutdown(socket.SHUT_RDWR)  # broken between two messages
        with pytest.raises(SendError) as caught:
            session.send("two@example.mc", reset_request())
        assert caught.value.permanent is False  # kept for a retry
        session.send("three@example.mc", reset_request())
    assert len(handler.received) == 2
    assert handler.greetings == 2


def test_build_message_headers_and_parts() -> None:
    email = RenderedEmail(subject="Sujet é", text="Texte\n", html="<p>HTML</p>\n")
    settings = SmtpSettings(host="localhost", port=25, reply_to="tsa@caisses-sociales.mc")
    message = build_message(settings, "to@example.mc", email, message_id_domain="test.mc")
    assert message["Message-ID"].endswith("@test.mc>")
    assert message["Reply-To"] == "tsa@caisses-sociales.mc"
    assert message["Subject"] == "Sujet é"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain", "text/html"]
    assert build_message(settings, "to@example.mc", email)["Message-ID"].endswith(
        "@memberspace.local>")
    assert "Reply-To" not in build_message(SmtpSettings("localhost", 25), "a@b.mc", email)
    with pytest.raises(ValueError):
        build_message(settings, "to@example.mc",
                      RenderedEmail(subject="a\r\nBcc: x@y.z", text="t", html="h"))


def test_settings_are_checked_and_hide_the_password() -> None:
    with pytest.raises(ValueError):
        SmtpSettings(host="localhost", port=25, tls="tls")
    with pytest.raises(ValueError):
        SmtpSettings(host="localhost", port=25, sender="nobody")
    assert "s3cret" not in repr(SmtpSettings("localhost", 25, username="u", password="s3cret"))


def test_backoff() -> None:
    assert [backoff_seconds(n) for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff_seconds(0) == 30
    assert backoff_seconds(1000) == 3600
