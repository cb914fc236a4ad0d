"""One virtualenv per service holding its dependency set alone, and its code alone.

    python -m deploy.service_venvs [service ...]   # build (or reuse) under var/service-venvs/

What a service's image holds, without a container engine: a fresh virtualenv
(`python3.11 -m venv --without-pip`) into which only the distributions named in
`deploy/requirements/<service>.txt` are put, and a directory holding only the code its
Dockerfile target copies. The distributions are copied file by file (their RECORD)
from the development virtualenv, which `make venv` installed from the same lock: the
same versions as the image's `pip install`, without a network round trip per package.
`pip --python <venv> check` then refuses a set that misses a declared requirement.
A virtualenv is reused while its set is unchanged (its name carries the set's hash).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENVS = ROOT / "var" / "service-venvs"
SETS = ROOT / "deploy" / "requirements"
SITE = Path(sysconfig.get_paths()["purelib"])


def set_of(service: str) -> list[tuple[str, str]]:
    pins = []
    for line in (SETS / f"{service}.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins.append((name, version))
    return pins


def venv_dir(service: str) -> Path:
    digest = hashlib.sha256((SETS / f"{service}.txt").read_bytes()
                            + sys.version.encode()).hexdigest()[:12]
    return VENVS / f"{service}-{digest}"


def copy_distribution(name: str, version: str, target_site: Path) -> None:
    dist = metadata.distribution(name)
    if dist.version != version:
        raise SystemExit(f"{name}: the development venv has {dist.version}, the set {version} "
                         "(run make venv)")
    for file in dist.files or []:
        if file.parts[0] == "..":  # console scripts: the services run with python -m
            continue
        source = Path(dist.locate_file(file))
        if source.is_file():
            destination = target_site / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def build(service: str) -> tuple[Path, float]:
    """The service's virtualenv (built when missing) and the seconds building took."""
    target = venv_dir(service)
    python = target / "bin" / "python"
    if (target / ".complete").is_file():
        return python, 0.0
    started = time.monotonic()
    for stale in VENVS.glob(f"{service}-*"):
        shutil.rmtree(stale)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(target)], check=True)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    for name, version in set_of(service):
        copy_distribution(name, version, site)
    check = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "check"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"{service}: its set misses a requirement:\n{check.stdout}")
    (target / ".complete").write_text("")
    return python, time.monotonic() - started


def dockerfile_code(service: str) -> list[str]:
    """The repository paths the service's Dockerfile target copies from the source."""
    text = (ROOT / "Dockerfile").read_text()
    stage = re.search(rf"^FROM python AS {re.escape(service)}\n(.*?)(?=^FROM |\Z)", text,
                      re.M | re.S)
    if stage is None:
        raise SystemExit(f"no Dockerfile target {service}")
    return re.findall(r"^COPY --from=source /src/(\S+) ", stage.group(1), re.M)


def stage_code(service: str) -> Path:
    """A directory holding only the code the service's image holds (fresh each time)."""
    app = VENVS / f"{service}-app"
    if app.exists():
        shutil.rmtree(app)
    for path in dockerfile_code(service):
        source = ROOT / path
        if source.is_dir():
            shutil.copytree(source, app / path,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.is_file():
            (app / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, app / path)
        else:
            (app / path).mkdir(parents=True)  # the contracts package, before it exists
    return app


def main(argv: list[str]) -> int:
    from deploy.dependency_sets import SERVICES

    for service in argv[1:] or list(SERVICES):
        python, seconds = build(service)
        size = sum(f.stat().st_size for f in python.parents[1].rglob("*") if f.is_file())
        how = f"built in {seconds:.1f} s" if seconds else "reused"
        print(f"{service}: {python.parents[1].relative_to(ROOT)} ({how}, {size >> 20} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
