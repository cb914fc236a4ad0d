"""docs/operations.md's settings table is generated from the settings classes."""

from __future__ import annotations

from deploy import settings_doc


def test_every_setting_has_a_meaning():
    assert settings_doc.undocumented() == []


def test_the_settings_table_in_operations_md_is_current():
    document = settings_doc.DOC.read_text()
    assert settings_doc.render(document) == document, \
        "run `python -m deploy.settings_doc` to regenerate the table"


def test_the_table_names_each_setting_with_its_default():
    table = settings_doc.table()
    assert "| `NOTIFICATIONS_SMTP_TLS` | notifications | `none` |" in table
    assert "| `AMQP_URI` | all | `amqp://guest:guest@127.0.0.1:5672/` |" in table
    assert "| `METRICS_PORT` | all | `0` |" in table
