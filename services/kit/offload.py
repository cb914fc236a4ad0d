"""CPU-heavy work off the eventlet hub (hashing, PDF rendering, simulations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in eventlet's OS-thread pool so heartbeats and other workers go on.

    Outside a monkey-patched process (unit tests) it simply calls `fn`.
    """
    import eventlet.patcher

    if not eventlet.patcher.is_monkey_patched("thread"):
        return fn(*args, **kwargs)
    from eventlet import tpool

    return tpool.execute(fn, *args, **kwargs)
