"""The probe server's own rules (the e2e test scrapes it while the suite runs)."""

from __future__ import annotations

import pytest


def test_the_probe_port_may_not_be_the_public_port():
    from types import SimpleNamespace

    from services.kit.config import StartRefused
    from services.kit.probes import serve

    settings = SimpleNamespace(METRICS_PORT=8000, METRICS_ADDRESS="127.0.0.1",
                               WEB_SERVER_ADDRESS="0.0.0.0:8000")
    with pytest.raises(StartRefused, match="METRICS_PORT 8000"):
        serve(None, settings)
    assert serve(None, SimpleNamespace(METRICS_PORT=0)) is None


def test_readiness_says_when_the_database_does_not_answer():
    from types import SimpleNamespace

    import sqlalchemy as sa

    from services.kit.probes import database_answers

    gone = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/"
                            "memberspace_no_such_database_for_probes")
    ok, detail = database_answers(SimpleNamespace(read_engine=gone))
    assert not ok and detail.startswith("database: ")
    assert database_answers(SimpleNamespace()) == (True, "no database")
