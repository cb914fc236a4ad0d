"""Route modules, one per area; importing them registers their routes."""

from gateway.routes import agent, auth, mconnect, system  # noqa: F401
