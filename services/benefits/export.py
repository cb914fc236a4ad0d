"""Everything benefits holds about a member, for the right of access."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session as DbSession

from services.benefits import cards, ledger, profiles
from services.benefits.secrets_box import SecretBox
from services.kit.errors import NotFound


def member_data(session: DbSession, box: SecretBox, member_id: str) -> dict[str, Any]:
    """Profile, cards, care sheets, refunds and payments; of the FSE code only when it
    was issued (the code itself is a credential)."""
    out = {"service": "benefits",
           "profile": profiles.profile_view(session, box, member_id),
           "cards": [{"card_id": c.id, "registration_number": c.registration_number,
                      "fund": c.fund, "rights_status": c.rights_status,
                      "valid_from": c.valid_from.isoformat(),
                      "valid_until": c.valid_until.isoformat()}
                     for c in cards.current_cards(session, member_id)],
           "care_sheets": cards.care_sheets(session, member_id, 1000)["items"],
           **ledger.export(session, member_id)}
    try:
        out["fse_code_issued_at"] = cards.fse_code(session, box, member_id)["issued_at"]
    except NotFound:
        out["fse_code_issued_at"] = None
    return out
