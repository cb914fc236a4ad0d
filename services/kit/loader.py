"""`load_service("services.auth.service:AuthService")`: the class a path names.

Free of side effects (no eventlet monkey-patching, unlike `services.kit.runner`), so
the launcher and the bench, which use real threads, can import it.
"""

from __future__ import annotations

import importlib


def load_service(path: str) -> type:
    module_name, _, class_name = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)
