"""The local SMTP sink `make run` starts, so e-mails can be read without a mail server.

`python -m deploy.mailsink --host 127.0.0.1 --port 1025 --dir var/mail` accepts every
message (no TLS, no login: it listens on loopback only) and keeps each one, as
received, in `<dir>/<UTC timestamp>-<uuid>.eml`. A file is written under a hidden
temporary name and then renamed, so whoever watches the folder (a developer, the
end-to-end tests) never reads half a message. Each message also prints one line,
recipients and subject, on stdout. SIGTERM or SIGINT stops it cleanly.

Plain asyncio, no eventlet: this process is a development tool, not a service.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import signal
import sys
import uuid
from collections.abc import Sequence
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

HOSTNAME = "memberspace-mailsink"  # given in the greeting; avoids a slow getfqdn()


class SaveToDirectory:
    """aiosmtpd handler: every accepted message becomes one .eml file."""

    def __init__(self, directory: Path):
        self.directory = directory

    def save(self, content: bytes) -> Path:
        """Write atomically: a reader sees the whole file or none."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        name = f"{stamp}-{uuid.uuid4()}.eml"
        temporary = self.directory / f".{name}.tmp"
        with open(temporary, "xb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        final = self.directory / name
        os.replace(temporary, final)
        return final

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        path = self.save(content)
        headers = BytesParser(policy=policy.default).parsebytes(content, headersonly=True)
        to = " ".join(str(headers.get("To", "")).split()) or ", ".join(envelope.rcpt_tos)
        subject = " ".join(str(headers.get("Subject", "")).split())
        print(f"mail to {to}: {subject} ({path.name})", flush=True)
        return "250 Message accepted for delivery"


async def serve(host: str, port: int, directory: Path) -> None:
    """Accept mail until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    handler = SaveToDirectory(directory)
    directory.mkdir(parents=True, exist_ok=True)

    def session() -> SMTP:
        return SMTP(handler, hostname=HOSTNAME, enable_SMTPUTF8=True, loop=loop)

    server = await loop.create_server(session, host, port)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"mailsink: listening on {host}:{port}, saving to {directory}",
          file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        print("mailsink: stopped", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.mailsink", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", dest="directory", type=Path, default=Path("var/mail"))
    args: Any = parser.parse_args(argv)
    try:
        asyncio.run(serve(args.host, args.port, args.directory))
    except OSError as exc:  # port taken, folder not writable
        print(f"mailsink: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
