"""nameko's web layer, adjusted so that nothing it answers is HTML.

- `X-Request-ID` (when well-formed) becomes the correlation id of the worker and so
  of every RPC call and event that follows; otherwise one is made.
- werkzeug's own 404/405/400 pages and nameko's text 500s become problem+json.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Request

from gateway.problems import problem_response
from services.kit.context import CORRELATION_ID
from services.kit.logging import get_logger

log = get_logger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")  # fits every log and audit column


def request_id_from(request: Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


class ProblemWsgiApp(WsgiApp):
    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.code or 400,
                                                                     "bad_request")
            headers = {"Cache-Control": "no-store"}
            if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
                headers["Allow"] = ", ".join(sorted(exc.valid_methods))  # RFC 9110 15.5.6
            response = problem_response(exc.code or 400, code, instance=request.path,
                                        request_id=request_id_from(request),
                                        headers=headers)
        return response(environ, start_response)


class ApiWebServer(WebServer):
    def get_wsgi_app(self) -> ProblemWsgiApp:
        return ProblemWsgiApp(self)

    def context_data_from_headers(self, request: Request) -> dict[str, str]:
        return {CORRELATION_ID: request_id_from(request)}


class ApiRequestHandler(HttpRequestHandler):
    server = ApiWebServer()

    def response_from_exception(self, exc: Exception) -> Any:
        log.error("unhandled_gateway_error", exc_info=exc)
        return problem_response(500, "internal_error", "An internal error occurred.")


http = ApiRequestHandler.decorator
