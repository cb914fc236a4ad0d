"""The Dockerfile: hadolint-clean, and a target per service that ships exactly its code,
its own dependency set and the kit's runner. (No container engine runs here: what can be
checked without building is checked.)"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import dependency_sets as sets
from services.kit.loader import load_service

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def stages() -> dict[str, list[tuple[str, str]]]:
    """stage name -> [(instruction, arguments)], line continuations joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            current = args.split(" AS ")[-1].strip()
            found[current] = []
        if current is not None:
            found[current].append((instruction.upper(), args.strip()))
    return found


def only(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [args for ins, args in stage if ins == instruction]


def test_hadolint_finds_nothing():
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), "--no-color", str(DOCKERFILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_base_is_a_pinned_slim_python_311():
    froms = [args for stage in stages().values() for ins, args in stage if ins == "FROM"]
    assert froms[0].startswith("python:3.11.") and "-slim" in froms[0]
    assert all(":" in f.split(" ")[0] and "latest" not in f for f in froms
               if f.split(" ")[0] not in stages())


@pytest.mark.parametrize("service", sorted(sets.SERVICES))
def test_each_target_names_its_dependency_set_and_the_runner(service):
    all_stages = stages()
    target, venv = all_stages[service], all_stages[f"{service}-venv"]
    requirements = only(venv, "COPY")[0].split()[0]
    assert requirements == f"deploy/requirements/{service}.txt"
    assert (ROOT / requirements).is_file()
    assert any("--no-deps" in r and "pip check" in r for r in only(venv, "RUN"))
    assert only(target, "COPY")[0] == f"--from={service}-venv /opt/venv /opt/venv"
    assert json.loads(only(target, "ENTRYPOINT")[0]) == ["python", "-m", "services.kit.runner"]
    assert (ROOT / "services" / "kit" / "runner.py").is_file()
    (service_path,) = json.loads(only(target, "CMD")[0])
    assert load_service(service_path).name == service
    assert only(target, "STOPSIGNAL") == ["SIGTERM"]
    assert only(target, "USER")[-1].split(":")[0] not in ("root", "0")


@pytest.mark.parametrize("service", sorted(sets.SERVICES))
def test_each_target_ships_exactly_the_code_its_service_reaches(service):
    copied = {args.split()[1].removeprefix("/src/") for args in only(stages()[service], "COPY")
              if args.startswith("--from=source ")}
    seen, _ = sets.reached(sets.SERVICES[service], [])
    packages = {"/".join(m.split(".")[:2]) if m.startswith("services.") else m.split(".")[0]
                for m in seen if m != "services"}
    assert copied == packages | {"services/__init__.py", "services/kit", "services/contracts"}


def test_every_copied_source_exists_in_the_build_context():
    pending = []
    for stage in stages().values():
        for args in only(stage, "COPY"):
            if args.startswith("--from="):
                continue
            for source in args.split()[:-1]:
                if source.startswith("webapp/") and not (ROOT / "webapp").is_dir():
                    pending.append(source)  # the web app's sources, not in the tree yet
                    continue
                assert (ROOT / source).exists(), source
    assert set(pending) <= {"webapp/package.json", "webapp/package-lock.json", "webapp/"}
