"""The bench's modules import and read their options (`make bench` itself needs the
whole suite and minutes: this keeps its code from rotting between runs)."""

from __future__ import annotations

import importlib

import pytest

from tests.bench import settings, wrk
from tests.bench.settings import SECTIONS, Options

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18100/api/v1/me
  2 threads and 20 connections
  Latency Distribution
     50%    3.10ms
     75%    4.20ms
     90%    6.00ms
     99%   12.50ms
  20000 requests in 10.00s, 9.00MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   2000.00
"""


@pytest.mark.parametrize("section", SECTIONS)
def test_every_section_has_a_module_that_measures_and_renders(section: str) -> None:
    module = importlib.import_module(f"tests.bench.sections.{section}")
    assert callable(module.run) and callable(module.render)


def test_the_entry_point_imports() -> None:
    assert callable(importlib.import_module("tests.bench.run").main)


def test_bench_only_picks_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_ONLY", "refunds, alerts")
    monkeypatch.setenv("BENCH_DURATION", "5")
    opts = Options.from_env()
    assert opts.only == ("refunds", "alerts")
    assert opts.duration == "5s"
    assert opts.measures("alerts") and not opts.measures("me")


def test_bench_only_names_the_sections_when_one_is_unknown(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_ONLY", "me,nope")
    with pytest.raises(SystemExit, match=r"unknown section.*nope.*sections: me, refunds"):
        Options.from_env()


def test_every_section_when_bench_only_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_ONLY", raising=False)
    assert Options.from_env().only == SECTIONS


def test_the_bench_has_databases_of_its_own() -> None:
    assert all(url.endswith(f"/memberspace_bench_{service}")
               for service, url in settings.DATABASE_URLS.items())


def test_wrk_output_is_read() -> None:
    result = wrk.parse_wrk(WRK_OUTPUT)
    assert (result.rps, result.p50_ms, result.p99_ms) == (2000.0, 3.1, 12.5)
    assert (result.requests, result.non_2xx, result.socket_errors) == (20000, 4, 3)
    assert not wrk.summary([result], 20)["valid"]
