"""Alerts and e-mails rendered from Jinja2 templates, in French or English.

Texts live in ``templates/`` rather than in code so they can be reviewed and
corrected without touching the domain logic. Every kind has one file per language:

* ``alerts/<lang>/<kind>.txt`` with a ``title`` and a ``body`` block;
* ``requests/<lang>.txt``: the macros that say a request's status, agreed with its
  type's noun (``request_nouns.py``);
* ``email/<lang>/<kind>.txt`` (``subject`` and ``content`` blocks, extending
  ``email/layout.txt``) and ``email/<lang>/<kind>.html`` (``content`` block, extending
  ``email/layout.html``, the one inline-styled HTML layout).

Undefined variables raise (StrictUndefined): a missing parameter must fail the
rendering, not send a message with a hole in it. Only ``.html`` templates are
autoescaped; alert texts and text e-mails are plain text, escaped by whoever
displays them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from services.notifications.request_nouns import request_noun

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
FUND_NAME = "Caisses Sociales de Monaco"
CONTACT_EMAIL = "tsa@caisses-sociales.mc"
TIMEZONE = ZoneInfo("Europe/Monaco")

ALERT_KINDS: frozenset[str] = frozenset(
    {"login_locked", "password_changed", "password_reset", "email_changed", "generic",
     "refund_paid", "payment_made", "request_status", "document_received"}
)
EMAIL_KINDS: frozenset[str] = frozenset(
    {
        "login_locked",
        "password_changed",
        "password_reset",
        "email_verification",
        "password_reset_request",
        "email_changed_old_address",
        "generic",
        "request_status",
    }
)
# Category of each built-in alert kind (a `generic` alert's category comes from its
# poster).
ALERT_CATEGORY: dict[str, str] = {
    "login_locked": "security",
    "password_changed": "security",
    "password_reset": "security",
    "email_changed": "account",
    "refund_paid": "payments",
    "payment_made": "payments",
    "request_status": "requests",
    "document_received": "documents",
}

_DATETIME_FORMAT = {"fr": "%d/%m/%Y à %H:%M", "en": "%d/%m/%Y at %H:%M"}
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_TRAILING_SPACES = re.compile(r"[ \t]+\n")
_WHITESPACE = re.compile(r"\s+")


class UnknownTemplate(KeyError):
    """No template for this kind (a KeyError, like a missing dictionary entry)."""


@dataclass(frozen=True)
class RenderedAlert:
    title: str
    body: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def resolve_language(language: str | None) -> str:
    """``fr``/``en`` from a member's language or an Accept-Language-like tag
    (``en-GB``, ``EN``); anything else is French, the fund's language."""
    primary = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def to_local(value: dt.datetime | str) -> dt.datetime:
    """An ISO string or datetime in Monaco time; a naive value is taken as UTC,
    which is what the services store and send."""
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(TIMEZONE)


@pass_context
def _local_datetime(context: Context, value: Any) -> str:
    # str() of a StrictUndefined raises UndefinedError, as a missing date should
    text = value if isinstance(value, dt.datetime) else str(value)
    language = resolve_language(context.get("language"))
    return to_local(text).strftime(_DATETIME_FORMAT[language])


@pass_context
def _local_date(context: Context, value: Any) -> str:
    return dt.date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")


@pass_context
def _amount(context: Context, value: Any) -> str:
    """23.40 -> "23,40" in French, "23.40" in English (amounts arrive as decimal strings)."""
    text = f"{float(str(value)):.2f}" if str(value).replace(".", "", 1).isdigit() else str(value)
    return text.replace(".", ",") if resolve_language(context.get("language")) == "fr" else text


def _plain(text: str) -> str:
    """Template output without the blank lines and trailing spaces that block tags
    leave behind: paragraphs separated by exactly one empty line."""
    text = _TRAILING_SPACES.sub("\n", text.replace("\r\n", "\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _one_line(text: str) -> str:
    """Titles and subjects are single lines (a subject with a newline would be a
    header injection)."""
    return _WHITESPACE.sub(" ", text).strip()


class Renderer:
    """Renders alerts and e-mails; one instance per service, templates cached."""

    def __init__(self, public_base_url: str, fund_name: str = FUND_NAME):
        self.public_base_url = public_base_url.rstrip("/")
        self.fund_name = fund_name
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html",), default=False,
                                         default_for_string=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["local_datetime"] = _local_datetime
        self.env.filters["local_date"] = _local_date
        self.env.filters["amount"] = _amount
        self.env.globals["request_noun"] = request_noun

    def link(self, path: str, token: str) -> str:
        """A portal URL carrying a one-time token (the whole token is quoted)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"{self.public_base_url}{path}?token={quote(token, safe='')}"

    def page(self, path: str) -> str:
        """A portal URL without a token (what an alert or e-mail is about)."""
        return f"{self.public_base_url}/{path.lstrip('/')}"

    def alert(self, kind: str, language: str, params: dict[str, Any]) -> RenderedAlert:
        """Title and body of an alert shown in the member's space."""
        if kind not in ALERT_KINDS:
            raise UnknownTemplate(f"no alert template {kind!r}")
        lang = resolve_language(language)
        template = self.env.get_template(f"alerts/{lang}/{kind}.txt")
        context = self._context(lang, params)
        return RenderedAlert(
            title=_one_line(self._block(template, "title", context)),
            body=self._block(template, "body", context).strip(),
        )

    def email(self, kind: str, language: str, params: dict[str, Any]) -> RenderedEmail:
        """Subject, text and HTML of an e-mail; both bodies say the same thing."""
        if kind not in EMAIL_KINDS:
            raise UnknownTemplate(f"no e-mail template {kind!r}")
        lang = resolve_language(language)
        text_template = self.env.get_template(f"email/{lang}/{kind}.txt")
        html_template = self.env.get_template(f"email/{lang}/{kind}.html")
        context = self._context(lang, params)
        subject = _one_line(self._block(text_template, "subject", context))
        context["subject"] = subject
        return RenderedEmail(
            subject=subject,
            text=_plain(text_template.render(context)) + "\n",
            html=html_template.render(context).strip() + "\n",
        )

    def _context(self, language: str, params: dict[str, Any]) -> dict[str, Any]:
        # the renderer's own values win over a parameter of the same name
        return {**params, "language": language, "fund_name": self.fund_name,
                "contact_email": CONTACT_EMAIL, "public_base_url": self.public_base_url}

    @staticmethod
    def _block(template: Template, name: str, context: dict[str, Any]) -> str:
        return "".join(template.blocks[name](template.new_context(context)))
