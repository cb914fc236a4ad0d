"""E-mails sent over SMTP, with failures sorted into "retry later" and "give up".

Plain smtplib: in the service eventlet's monkey patching makes its sockets
cooperative, so a slow server only holds the worker that sends. A `MailSession`
sends a batch over one SMTP connection (a connection, its greeting and TLS cost more
than a message); after a connection failure the next message opens a new one. The
TLS context (loading the system's CA certificates takes tens of milliseconds of CPU)
is made once per process, and only when TLS is configured.

Nothing here logs, and no error text carries a message's content: bodies hold
one-time tokens (password reset, e-mail validation). A `SendError` holds only the
server's reply or the connection problem, short enough for the e-mail's record.
"""

from __future__ import annotations

import datetime as dt
import functools
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.notifications.rendering import RenderedEmail

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_SENDER = "Caisses Sociales de Monaco <no-reply@caisses-sociales.mc>"
DEFAULT_MESSAGE_ID_DOMAIN = "memberspace.local"
BACKOFF_FIRST = 30  # seconds before the first retry, doubled for each later one
BACKOFF_CAP = 3600
_ERROR_LIMIT = 300  # characters of a server reply kept in a SendError


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; `tls`: "none" (local sink), "starttls" (port 587) or
    "ssl" (implicit TLS, port 465). No login when `username` is empty."""

    host: str
    port: int
    tls: str = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = DEFAULT_SENDER
    timeout: float = 10.0
    reply_to: str = ""

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise ValueError(f"tls must be one of {', '.join(TLS_MODES)}, got {self.tls!r}")
        if "@" not in parseaddr(self.sender)[1]:
            raise ValueError(f"sender is not an e-mail address: {self.sender!r}")


class SendError(Exception):
    """Sending failed. `permanent`: the server refused this message or recipient
    for good (5xx), so retrying cannot help; otherwise (connection, timeout, TLS,
    login, 4xx) the same message may go through later."""

    def __init__(self, message: str, *, permanent: bool, code: int | None = None,
                 unreachable: bool = False):
        super().__init__(message[:_ERROR_LIMIT])
        self.permanent = permanent
        self.code = code
        self.unreachable = unreachable  # no session could be opened: nothing else will go


def backoff_seconds(attempt: int) -> int:
    """Wait before retry number `attempt` (1-based): 30, 60, 120 ... at most an hour."""
    exponent = min(max(attempt, 1) - 1, 16)
    return min(BACKOFF_FIRST * 2**exponent, BACKOFF_CAP)


def build_message(settings: SmtpSettings, to: str, email: RenderedEmail,
                  message_id_domain: str = DEFAULT_MESSAGE_ID_DOMAIN) -> EmailMessage:
    """A multipart/alternative message (text first, HTML preferred by clients).

    Raises ValueError for a header value with a line break (header injection).
    """
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = settings.sender
    message["To"] = to
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{message_id_domain}>"
    # RFC 3834: out-of-office robots must not answer a notification
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


def send(settings: SmtpSettings, to: str, email: RenderedEmail) -> str:
    """Send one e-mail over a connection of its own; see `MailSession.send`."""
    with MailSession(settings) as session:
        return session.send(to, email)


class MailSession:
    """Messages sent one after the other over one SMTP connection, opened at the first
    message and closed (QUIT) at the end of the `with` block.

    A refused message leaves the session usable (smtplib resets the transaction); a
    connection problem closes it and the next message connects again, so one broken
    connection costs at most the message it was carrying (kept for a retry)."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def __enter__(self) -> MailSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            _close(client)

    def send(self, to: str, email: RenderedEmail) -> str:
        """Send one e-mail and return its Message-ID header (with its angle brackets).

        The Message-ID uses the sender's domain, as receiving filters expect. Raises
        SendError.
        """
        settings = self.settings
        recipient = parseaddr(to)[1]
        if "@" not in recipient:
            raise SendError("the recipient is not an e-mail address", permanent=True)
        sender = parseaddr(settings.sender)[1]
        try:
            message = build_message(settings, to, email, sender.rpartition("@")[2])
        except (ValueError, TypeError) as exc:
            raise SendError(f"cannot build the message: {type(exc).__name__}",
                            permanent=True) from None
        client = self._client()
        try:
            refused = client.send_message(message, from_addr=sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise SendError(f"recipient refused: {code} {_text(text)}",
                            permanent=code >= 500, code=code) from None
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            what = "sender" if isinstance(exc, smtplib.SMTPSenderRefused) else "message"
            raise SendError(f"{what} refused: {_reply(exc)}",
                            permanent=exc.smtp_code >= 500, code=exc.smtp_code) from None
        except smtplib.SMTPNotSupportedError:
            # the address needs SMTPUTF8 and this server lacks it: it never will have it
            raise SendError("the server cannot take this address (no SMTPUTF8)",
                            permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            self.close()  # an answer out of the protocol: start afresh
            raise SendError(f"server answered {_reply(exc)}", permanent=False,
                            code=exc.smtp_code) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"sending failed: {_problem(exc)}", permanent=False) from None
        if refused:  # only possible with several recipients; kept for safety
            code, text = next(iter(refused.values()))
            raise SendError(f"recipient refused: {code} {_text(text)}",
                            permanent=code >= 500, code=code)
        return str(message["Message-ID"])

    def _client(self) -> smtplib.SMTP:
        if self.client is None:
            settings = self.settings
            try:
                self.client = _connect(settings)
            except smtplib.SMTPResponseException as exc:
                raise SendError(f"{settings.host}:{settings.port} answered {_reply(exc)}",
                                permanent=False, code=exc.smtp_code,
                                unreachable=True) from None
            except (smtplib.SMTPException, OSError) as exc:
                raise SendError(f"cannot use {settings.host}:{settings.port}: "
                                f"{_problem(exc)}", permanent=False, unreachable=True) from None
        return self.client


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """The system's CA certificates, loaded once: per message they cost more CPU than
    the whole rest of sending it."""
    return ssl.create_default_context()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """An open, greeted (and, as configured, encrypted and logged-in) session."""
    client: smtplib.SMTP
    if settings.tls == "ssl":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=_tls_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo()
        if settings.tls == "starttls":
            client.starttls(context=_tls_context())
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    """QUIT politely; once the message is accepted, a failing QUIT must not turn
    the send into an error (and a duplicate on retry)."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())


def _reply(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _problem(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
