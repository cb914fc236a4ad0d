"""The member web app, served by the gateway: every GET outside `/api/` and `/health`.

The built files live in `GATEWAY_WEB_DIR` (default `gateway/web/`, written by
`npm run build` in `webapp/`). A path naming a built file gets it (hashed assets are
cached for a year); any other path gets `index.html`, so the app's own addresses, the
e-mail links `/email/verify?token=` and `/password/reset?token=` included, open the
app. Every answer carries a Content-Security-Policy that allows only the app's own
assets and forbids framing. The `lang` cookie (`fr` or `en`) sets the page's `lang`.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from nameko.extensions import DependencyProvider
from werkzeug.security import safe_join
from werkzeug.wrappers import Request, Response

from gateway.problems import ApiError

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'"))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the reset and verification tokens stay here
    "X-Frame-Options": "DENY",
}
LANGUAGES = ("fr", "en")


def is_app_path(request: Request) -> bool:
    path = request.path
    return (request.method in ("GET", "HEAD") and not path.startswith("/api/")
            and path != "/health" and not path.startswith("/health/"))


class WebApp:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._index: dict[str, bytes] = {}

    def index(self, language: str) -> bytes:
        if language not in self._index:
            try:
                html = (self.directory / "index.html").read_bytes()
            except OSError:
                raise ApiError(503, "web_app_unavailable",
                               "The web app is not built on this server (npm run build "
                               "in webapp/).", headers={"Retry-After": "60"}) from None
            if language != "fr":
                html = html.replace(b'<html lang="fr"', f'<html lang="{language}"'.encode(), 1)
            self._index[language] = html
        return self._index[language]

    def serve(self, request: Request) -> Response:
        relative = request.path.lstrip("/")
        if relative and relative != "index.html":
            target = safe_join(str(self.directory), relative)
            if target is not None and Path(target).is_file():
                return self._file(Path(target), relative)
            if relative.startswith("assets/") or "." in relative.rsplit("/", 1)[-1]:
                raise ApiError(404, "not_found", "There is nothing at this address.")
        language = request.cookies.get("lang")
        body = self.index(language if language in LANGUAGES else "fr")
        response = Response(body, content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "no-cache"
        response.headers.update(SECURITY_HEADERS)
        return response

    def _file(self, path: Path, relative: str) -> Response:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
            kind += "; charset=utf-8"
        response = Response(path.read_bytes(), content_type=kind)
        response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                             if relative.startswith("assets/")
                                             else "public, max-age=3600")
        response.headers.update(SECURITY_HEADERS)
        return response


class WebAppFiles(DependencyProvider):
    """The web app's directory (`GATEWAY_WEB_DIR`), read once per gateway process."""

    def setup(self) -> None:
        directory = Path(self.container.config["SETTINGS"].GATEWAY_WEB_DIR)
        if not directory.is_absolute():
            directory = Path(__file__).resolve().parents[1] / directory
        self.app = WebApp(directory)

    def get_dependency(self, worker_ctx: Any) -> WebApp:
        return self.app
