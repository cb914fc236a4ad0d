"""The member's alerts and notification preferences."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from gateway.api import MEMBER, Call, route


class AlertsQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))
    unread = fields.Boolean(load_default=False)


class Resource(Schema):
    type = fields.String()
    id = fields.String()


class Alert(Schema):
    id = fields.String()
    category = fields.String(metadata={"enum": ["requests", "payments", "documents",
                                                "security", "account"]})
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    resource = fields.Nested(Resource, allow_none=True)
    link = fields.String(allow_none=True, metadata={
        "description": "path in the web app where the member acts on what the alert is "
                       "about (/requests/<id>, /documents/<id>, /card), or null"})
    created_at = fields.String(metadata={"format": "date-time"})
    read = fields.Boolean()
    read_at = fields.String(allow_none=True, metadata={"format": "date-time"})


class AlertPage(Schema):
    items = fields.List(fields.Nested(Alert))
    next_cursor = fields.String(allow_none=True)


class Count(Schema):
    count = fields.Integer()


class Marked(Schema):
    marked = fields.Integer()


class Preferences(Schema):
    email = fields.Dict(keys=fields.String(), values=fields.Boolean(), required=True,
                        metadata={"description": "category -> e-mail on/off; security "
                                                 "e-mails cannot be turned off"})


@route("GET", "/api/v1/me/notifications", access=MEMBER, query=AlertsQuery,
       response=AlertPage, summary="The member's alerts, newest first", tags=("notifications",))
def list_alerts(call: Call) -> Any:
    q = call.query
    return call.services.notifications.list_alerts(call.member_id, q["unread"], q["cursor"],
                                                   q["limit"])


@route("GET", "/api/v1/me/notifications/unread-count", access=MEMBER, response=Count,
       summary="How many alerts are unread", tags=("notifications",))
def unread_count(call: Call) -> Any:
    return call.services.notifications.unread_count(call.member_id)


@route("POST", "/api/v1/me/notifications/<uuid:alert_id>/read", access=MEMBER,
       response=Alert, summary="Mark one alert read", tags=("notifications",),
       problems=((404, "alert_not_found"),))
def mark_read(call: Call) -> Any:
    return call.services.notifications.mark_read(call.member_id,
                                                 str(call.path_params["alert_id"]))


@route("POST", "/api/v1/me/notifications/read-all", access=MEMBER, response=Marked,
       summary="Mark every alert read", tags=("notifications",))
def mark_all_read(call: Call) -> Any:
    return call.services.notifications.mark_all_read(call.member_id)


@route("GET", "/api/v1/me/notification-preferences", access=MEMBER, response=Preferences,
       summary="E-mail on or off per category", tags=("notifications",))
def get_preferences(call: Call) -> Any:
    return call.services.notifications.get_preferences(call.member_id)


@route("PUT", "/api/v1/me/notification-preferences", access=MEMBER, body=Preferences,
       response=Preferences, summary="Turn e-mails on or off per category",
       tags=("notifications",), problems=((422, "validation_failed"),))
def set_preferences(call: Call) -> Any:
    return call.services.notifications.set_preferences(call.member_id, call.body)
