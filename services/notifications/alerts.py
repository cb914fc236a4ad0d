"""Alerts for members, their e-mail preferences, and the members copy they rely on."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from services.kit.db import UnitOfWork
from services.kit.errors import FieldError, NotFound, ValidationFailed
from services.kit.ids import parse_uuid
from services.kit.pagination import decode_cursor, keyset, page_of
from services.notifications import emails
from services.notifications.models import CATEGORIES, Alert, Member, Preference, PushMessage
from services.notifications.rendering import Renderer

ALWAYS_EMAILED = ("security",)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


class MemberNotKnownYet(Exception):
    """An event about a member whose `auth.member_created` has not arrived yet: the
    handler fails and is retried, so order of arrival does not matter."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _uuid(value: Any, field: str) -> str:
    parsed = parse_uuid(value)
    if parsed is None:
        raise NotFound(f"No such {field}.", code=f"{field}_not_found")
    return parsed


# -- the members copy -----------------------------------------------------------------

def upsert_member(session: DbSession, identity: dict[str, Any]) -> None:
    member = session.get(Member, identity["member_id"])
    if member is None:
        member = Member(member_id=identity["member_id"])
        session.add(member)
    member.first_name = identity.get("first_name") or ""
    member.language = identity.get("language") or "fr"
    member.email = identity.get("email")
    member.email_validated = bool(identity.get("email_validated"))
    member.updated_at = now()


def erase_member(session: DbSession, member_id: str) -> None:
    from services.notifications.models import Email

    for model, column in ((Alert, Alert.member_id), (Preference, Preference.member_id),
                          (PushMessage, PushMessage.member_id), (Email, Email.member_id),
                          (Member, Member.member_id)):
        session.execute(sa.delete(model).where(column == member_id))


def addressee(session: DbSession, member_id: str) -> Member:
    """The member for a direct command; an unsaved stand-in (French, no name) when the
    copy has not caught up yet, so a link is never withheld for that."""
    return session.get(Member, member_id) or Member(
        member_id=member_id, first_name="", language="fr", email=None, email_validated=False)


def member(session: DbSession, member_id: str, lock: bool = False) -> Member:
    """The member's copy; `lock` holds it until commit, so that one member's alerts
    about the same thing are decided one at a time."""
    found = session.get(Member, member_id, with_for_update=lock)
    if found is None:
        raise MemberNotKnownYet(member_id)
    return found


# -- alerts ---------------------------------------------------------------------------

def email_wanted(session: DbSession, member_id: str, category: str) -> bool:
    if category in ALWAYS_EMAILED:
        return True
    pref = session.get(Preference, (member_id, category))
    return True if pref is None else pref.email_enabled


def notify(tx: UnitOfWork, renderer: Renderer, member_id: str, *, kind: str, category: str,
           params: dict[str, Any], resource: tuple[str, str] | None = None,
           email_kind: str | None = None, email_params: dict[str, Any] | None = None,
           created_at: dt.datetime | None = None) -> Alert:
    """One alert in the member's language; an e-mail too when wanted and possible;
    and the push channel."""
    who = member(tx.session, member_id)
    rendered = renderer.alert(kind, who.language, params)
    alert = Alert(id=str(uuid.uuid4()), member_id=member_id, category=category, kind=kind,
                  title=rendered.title, body=rendered.body,
                  resource_type=resource[0] if resource else None,
                  resource_id=str(resource[1]) if resource else None,
                  created_at=created_at or now())
    tx.session.add(alert)
    _push_and_email(tx, renderer, who, alert, email_kind, email_params or params)
    return alert


def rewrite(tx: UnitOfWork, renderer: Renderer, alert: Alert, params: dict[str, Any],
            email_kind: str | None = None,
            email_params: dict[str, Any] | None = None) -> Alert:
    """The alert now tells of something newer (the same thing moved on): new texts,
    pushed again, and its e-mail when the news deserves one."""
    who = member(tx.session, alert.member_id)
    rendered = renderer.alert(alert.kind, who.language, params)
    alert.title, alert.body = rendered.title, rendered.body
    _push_and_email(tx, renderer, who, alert, email_kind, email_params or params)
    return alert


def _push_and_email(tx: UnitOfWork, renderer: Renderer, who: Member, alert: Alert,
                    email_kind: str | None, params: dict[str, Any]) -> None:
    tx.session.add(PushMessage(id=str(uuid.uuid4()), member_id=who.member_id,
                               alert_id=alert.id, title=alert.title, state="not_configured",
                               created_at=now()))
    if (email_kind and who.email and who.email_validated
            and email_wanted(tx.session, who.member_id, alert.category)):
        emails.queue(tx.session, renderer, to=who.email, member_id=who.member_id,
                     kind=email_kind, language=who.language,
                     params={"first_name": who.first_name, **params})


def recent_unread(session: DbSession, member_id: str, kind: str, resource: tuple[str, str],
                  since: dt.datetime) -> Alert | None:
    """The newest unread alert of this kind about this resource created since `since`."""
    return session.scalars(sa.select(Alert).where(
        Alert.member_id == member_id, Alert.kind == kind, Alert.read_at.is_(None),
        Alert.resource_type == resource[0], Alert.resource_id == str(resource[1]),
        Alert.created_at >= since).order_by(Alert.created_at.desc()).limit(1)).first()


# Where in the web app the member acts on what an alert is about.
LINKS = {"request": "/requests/{id}", "document": "/documents/{id}", "card": "/card"}


def link(alert: Alert) -> str | None:
    pattern = LINKS.get(alert.resource_type or "")
    return pattern.format(id=alert.resource_id) if pattern else None


def alert_view(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "category": alert.category, "kind": alert.kind,
        "title": alert.title, "body": alert.body,
        "resource": ({"type": alert.resource_type, "id": alert.resource_id}
                     if alert.resource_type else None),
        "link": link(alert),
        "created_at": alert.created_at.isoformat(),
        "read": alert.read_at is not None,
        "read_at": alert.read_at.isoformat() if alert.read_at else None,
    }


def list_alerts(session: DbSession, member_id: str, *, unread: bool = False,
                cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """Newest first; `next_cursor` continues after the last item."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed.of([FieldError("limit", "invalid",
                                              f"A whole number from 1 to {MAX_LIMIT}.")])
    after = decode_cursor(cursor or None)
    query = sa.select(Alert).where(Alert.member_id == member_id)
    if unread:
        query = query.where(Alert.read_at.is_(None))
    rows = session.scalars(keyset(query, Alert.created_at, Alert.id, after, limit)).all()
    return page_of(rows, limit, alert_view, lambda a: (a.created_at, a.id))


def unread_count(session: DbSession, member_id: str) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
        Alert.member_id == member_id, Alert.read_at.is_(None)))


def mark_read(session: DbSession, member_id: str, alert_id: str) -> dict[str, Any]:
    alert = session.get(Alert, _uuid(alert_id, "alert"))
    if alert is None or alert.member_id != member_id:  # another's alert: not found
        raise NotFound("No such alert.", code="alert_not_found")
    if alert.read_at is None:
        alert.read_at = now()
    return alert_view(alert)


def mark_all_read(session: DbSession, member_id: str) -> int:
    return session.execute(sa.update(Alert).where(
        Alert.member_id == member_id, Alert.read_at.is_(None)).values(read_at=now())).rowcount


# -- preferences ----------------------------------------------------------------------

def preferences(session: DbSession, member_id: str) -> dict[str, Any]:
    stored = {p.category: p.email_enabled for p in session.scalars(
        sa.select(Preference).where(Preference.member_id == member_id))}
    return {"email": {c: (True if c in ALWAYS_EMAILED else stored.get(c, True))
                      for c in CATEGORIES}}


def set_preferences(session: DbSession, member_id: str, wanted: Any) -> dict[str, Any]:
    email = wanted.get("email") if isinstance(wanted, dict) else None
    if not isinstance(email, dict):
        raise ValidationFailed.of([FieldError("email", "required",
                                              "An object of category: true/false.")])
    errors = []
    for category, value in email.items():
        if category not in CATEGORIES:
            errors.append(FieldError(f"email.{category}", "unknown_field",
                                     f"Categories: {', '.join(CATEGORIES)}."))
        elif not isinstance(value, bool):
            errors.append(FieldError(f"email.{category}", "invalid", "true or false."))
        elif category in ALWAYS_EMAILED and value is False:
            errors.append(FieldError(f"email.{category}", "security_email_required",
                                     "Security e-mails cannot be turned off."))
    if errors:
        raise ValidationFailed.of(errors)
    for category, value in email.items():
        pref = session.get(Preference, (member_id, category))
        if pref is None:
            session.add(Preference(member_id=member_id, category=category,
                                   email_enabled=value))
        else:
            pref.email_enabled = value
    session.flush()
    return preferences(session, member_id)


def _valid_resource(resource: Any) -> bool:
    """{type, id} that fit their columns (String(50), String(100))."""
    if not isinstance(resource, dict):
        return False
    kind, ident = resource.get("type"), resource.get("id")
    return (isinstance(kind, str) and 1 <= len(kind) <= 50
            and isinstance(ident, str | int) and 1 <= len(str(ident)) <= 100)


def post_alert(tx: UnitOfWork, renderer: Renderer, member_id: Any, alert: Any) -> Alert:
    """An alert the fund's systems post directly (not from an event)."""
    errors = []
    if not isinstance(alert, dict):
        raise ValidationFailed.of([FieldError("alert", "invalid", "Expected an object.")])
    category = alert.get("category")
    if category not in CATEGORIES:
        errors.append(FieldError("category", "not_allowed", ", ".join(CATEGORIES)))
    for field, limit in (("title", 300), ("body", 4000)):
        value = alert.get(field)
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            errors.append(FieldError(field, "invalid", f"1 to {limit} characters."))
    resource = alert.get("resource")
    if resource is not None and not _valid_resource(resource):
        errors.append(FieldError("resource", "invalid",
                                 "{type, id} or nothing: type 1 to 50 characters, "
                                 "id 1 to 100."))
    unknown = set(alert) - {"category", "title", "body", "resource", "email"}
    errors += [FieldError(name, "unknown_field", "Unknown field.") for name in sorted(unknown)]
    if errors:
        raise ValidationFailed.of(errors)
    member_id = member_key(member_id)
    try:
        return notify(tx, renderer, member_id, kind="generic", category=category,
                      params={"title": alert["title"], "body": alert["body"]},
                      resource=((alert["resource"]["type"], alert["resource"]["id"])
                                if isinstance(alert.get("resource"), dict) else None),
                      email_kind="generic" if alert.get("email") else None)
    except MemberNotKnownYet:
        raise NotFound("No such member.", code="member_not_found") from None


def export(session: DbSession, member_id: str) -> dict[str, Any]:
    from services.notifications.models import Email

    alerts = session.scalars(sa.select(Alert).where(Alert.member_id == member_id)
                             .order_by(Alert.created_at)).all()
    emails = session.scalars(sa.select(Email).where(Email.member_id == member_id)
                             .order_by(Email.created_at)).all()
    return {
        "service": "notifications",
        "alerts": [alert_view(a) for a in alerts],
        "preferences": preferences(session, member_id),
        "emails": [{"to": e.to_address, "kind": e.kind, "subject": e.subject, "state": e.state,
                    "created_at": e.created_at.isoformat(),
                    "sent_at": e.sent_at.isoformat() if e.sent_at else None}
                   for e in emails],
    }


def member_key(value: Any) -> str:
    """The member id in canonical form; anything not a UUID is no member (the columns
    are UUIDs, so it must never reach a query)."""
    return _uuid(value, "member")


def check_member_id(value: Any) -> str:
    """For the direct commands (docs/rpc.md): a member id that is no UUID is the
    caller's error, 422."""
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValidationFailed.of([FieldError("member_id", "invalid", "Not a member id.")])
    return parsed
