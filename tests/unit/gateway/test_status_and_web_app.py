"""The update window's clock and the web app's file serving (no I/O but a temp dir)."""

from __future__ import annotations

import datetime as dt

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.problems import ApiError
from gateway.routes.status import in_window
from gateway.static import WebApp, is_app_path

WINDOW = {"start": "01:00", "end": "07:00", "timezone": "Europe/Monaco"}


@pytest.mark.parametrize(("utc", "inside"), [
    ("2026-01-15T00:00:00", True),   # 01:00 in Monaco (UTC+1)
    ("2026-01-14T23:59:00", False),  # 00:59
    ("2026-01-15T05:59:00", True),   # 06:59
    ("2026-01-15T06:00:00", False),  # 07:00: the end is outside
    ("2026-07-15T04:30:00", True),   # 06:30 in summer (UTC+2)
    ("2026-07-15T05:00:00", False),  # 07:00 in summer
])
def test_in_window_uses_the_window_time_zone(utc, inside):
    now = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert in_window(now, WINDOW) is inside


def test_a_window_across_midnight():
    window = {"start": "22:00", "end": "02:00", "timezone": "UTC"}
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert in_window(at.replace(hour=23), window) and in_window(at.replace(hour=1), window)
    assert not in_window(at.replace(hour=2), window)
    assert not in_window(at.replace(hour=12), window)


def get(path: str, method: str = "GET", cookies: dict | None = None) -> Request:
    builder = EnvironBuilder(method=method, path=path)
    for name, value in (cookies or {}).items():
        builder.headers.add("Cookie", f"{name}={value}")
    return Request(builder.get_environ())


def test_which_paths_the_app_answers():
    assert is_app_path(get("/")) and is_app_path(get("/password/reset"))
    assert not is_app_path(get("/api/v1/me")) and not is_app_path(get("/health"))
    assert not is_app_path(get("/health/live")) and not is_app_path(get("/", "POST"))


@pytest.fixture
def app(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><html lang="fr"><body>app</body>'
                                         "</html>")
    (tmp_path / "assets" / "index-abc.css").write_text("body{}")
    (tmp_path.parent / "secret.txt").write_text("secret")
    return WebApp(tmp_path)


def test_files_index_and_language(app):
    page = app.serve(get("/home"))
    assert page.status_code == 200 and b'lang="fr"' in page.data
    assert page.headers["Cache-Control"] == "no-cache"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert b'lang="en"' in app.serve(get("/home", cookies={"lang": "en"})).data
    assert b'lang="fr"' in app.serve(get("/home", cookies={"lang": "xx"})).data
    css = app.serve(get("/assets/index-abc.css"))
    assert css.data == b"body{}" and css.mimetype == "text/css"
    assert "immutable" in css.headers["Cache-Control"]


def test_nothing_outside_the_directory_and_no_index_for_missing_files(app):
    for path in ("/../secret.txt", "/assets/../../secret.txt", "/assets/gone.js"):
        with pytest.raises(ApiError) as caught:
            app.serve(get(path))
        assert caught.value.status == 404


def test_an_unbuilt_app_is_a_clear_problem(tmp_path):
    with pytest.raises(ApiError) as caught:
        WebApp(tmp_path / "missing").serve(get("/"))
    assert caught.value.status == 503 and caught.value.code == "web_app_unavailable"
