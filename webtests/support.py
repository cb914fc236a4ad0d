"""What the browser tests share: screenshots, axe-core, waiting."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "webapp" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shoot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_axe_source: str | None = None


def axe_violations(page) -> list[dict]:
    """axe-core (from webapp/node_modules, never the internet) on the page as it is;
    the serious and critical violations. Evaluated through the DevTools protocol, so
    the page's CSP needs no exception."""
    global _axe_source
    if _axe_source is None:
        _axe_source = AXE.read_text()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {_axe_source}\n }}")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(_axe_source)
    result = page.evaluate("async () => await window.axe.run(document, "
                           "{resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def wait_until(check, timeout: float = 15.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("the condition was not met in time")
        time.sleep(step)
