"""The public vocabulary is the one the services use: documents' statuses, categories
and built-in request types, auth's funds, the kit's period and verification code."""

from __future__ import annotations

import re

from services.auth import schemas as auth_schemas
from services.contracts import members, periods, requests, verification
from services.documents.files import forms, uploads
from services.documents.requests import lifecycle, types
from services.kit import pdf
from services.kit import periods as kit_periods


def test_documents_speaks_the_contracts_words():
    assert lifecycle.STATUSES is requests.STATUSES
    assert lifecycle.FINAL is requests.FINAL_STATUSES
    assert uploads.CATEGORIES is requests.DOCUMENT_CATEGORIES
    assert forms.FUNDS is members.FUNDS is auth_schemas.FUNDS


def test_the_built_in_request_types_are_the_registrys_own():
    own = {name: kind for name, kind in types.TYPES.items() if kind.owner is None}
    assert [t.name for t in requests.BUILT_IN_REQUEST_TYPES] == list(own)
    for entry in requests.BUILT_IN_REQUEST_TYPES:
        kind = own[entry.name]
        assert kind.params is entry.params
        assert kind.start == entry.initial_status
        assert kind.automatic == (entry.completed_by == "system")
        assert kind.needs_attachment == entry.needs_document


def test_the_kit_re_exports_the_public_period_and_verification_code():
    assert kit_periods.Period is periods.Period
    assert pdf.normalize_verification_code is verification.normalize_verification_code
    code = verification.new_verification_code()
    assert verification.normalize_verification_code(code.lower().replace("-", " ")) == code
    assert re.fullmatch(verification.VERIFICATION_CODE_PATTERN, code)
    assert verification.normalize_verification_code("0OI1-AAAA-BBBB") is None
