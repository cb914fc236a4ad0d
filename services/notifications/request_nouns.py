"""How each request type is named in a member's text: one table, the noun with its
gender in French (the agreement of "reçu"/"reçue", "il"/"elle" follows it) and the
noun in English.

"Votre relevé de carrière : nous l'avons bien reçu" and "Votre attestation de droits :
nous l'avons bien reçue". A type the table does not know is "votre demande" (feminine),
"your request": a configured type still reads right, only less precisely.
"""

from __future__ import annotations

from dataclasses import dataclass

MASCULINE, FEMININE = "m", "f"


@dataclass(frozen=True)
class RequestNoun:
    fr: str
    gender: str  # of the French noun: "m" or "f"
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.fr

    @property
    def feminine(self) -> bool:
        return self.gender == FEMININE


REQUEST_NOUNS: dict[str, RequestNoun] = {
    "certificate_of_rights": RequestNoun("attestation de droits", FEMININE,
                                         "certificate of rights"),
    "payment_certificate": RequestNoun("attestation de paiements", FEMININE,
                                       "payment certificate"),
    "annual_tax_statement": RequestNoun("relevé fiscal annuel", MASCULINE,
                                        "annual tax statement"),
    "affiliation_certificate": RequestNoun("attestation d'affiliation", FEMININE,
                                           "affiliation certificate"),
    "data_correction": RequestNoun("demande de rectification", FEMININE,
                                   "correction request"),
    "data_access": RequestNoun("demande d'accès à vos données", FEMININE,
                               "request for access to your data"),
    "career_statement": RequestNoun("relevé de carrière", MASCULINE, "career statement"),
    "retirement_pension": RequestNoun("demande de pension de retraite", FEMININE,
                                      "retirement pension application"),
    "survivor_pension": RequestNoun("demande de pension de réversion", FEMININE,
                                    "survivor's pension application"),
    "bank_details_change": RequestNoun("demande de changement de coordonnées bancaires",
                                       FEMININE, "change of bank details"),
}
ANY_REQUEST = RequestNoun("demande", FEMININE, "request")


def request_noun(request_type: str | None) -> RequestNoun:
    return REQUEST_NOUNS.get(request_type or "", ANY_REQUEST)
