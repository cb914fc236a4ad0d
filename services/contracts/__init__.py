"""The suite's public vocabulary: what other systems and the gateway build on.

Marshmallow schemas and constants only, importing nothing of ours (import-linter keeps
it so): each event's `data` per type and version (`events`), the request statuses, the
document categories and the registry's built-in request types (`requests`), the period
of dates (`periods`), the simulator's inputs (`simulation`) and the shape of a
certificate's verification code (`verification`). Services and the gateway import them
from here; nothing here imports a service or the kit.
"""
