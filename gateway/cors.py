"""CORS for the web app's origins (configuration), nothing else."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from gateway.problems import ApiError

ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-CSRF-Token, X-Request-ID"
EXPOSED_HEADERS = ("X-Request-ID, Retry-After, Idempotent-Replayed, Location, X-Clamped-From, "
                   "Content-Disposition")


class CorsPolicy:
    def __init__(self, origins: list[str]):
        self.origins = frozenset(origins)

    def is_preflight(self, request: Request) -> bool:
        return "Origin" in request.headers and \
            "Access-Control-Request-Method" in request.headers

    def preflight(self, request: Request) -> Response:
        if request.headers["Origin"] not in self.origins:
            raise ApiError(403, "origin_not_allowed", "This origin may not call the API.")
        response = Response(status=204)
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PUT, PATCH, DELETE"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        return response

    def decorate(self, request: Request, response: Response) -> None:
        origin = request.headers.get("Origin")
        response.vary.add("Origin")
        if origin and origin in self.origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
