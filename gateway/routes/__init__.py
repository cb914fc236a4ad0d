"""Route modules, one per area; importing them registers their routes."""

from gateway.routes import (  # noqa: F401
    account,
    agent,
    auth,
    benefits,
    documents,
    email,
    mconnect,
    notifications,
    pension,
    requests,
    staff,
    status,
    system,
    wallet,
)
