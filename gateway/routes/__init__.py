"""Route modules, one per area; importing them registers their routes."""

from gateway.routes import agent, auth, email, mconnect, notifications, system  # noqa: F401
