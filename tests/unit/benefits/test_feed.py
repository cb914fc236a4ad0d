import hashlib

import pytest

from services.benefits.feed import COLUMNS, FeedError, FeedRecord, parse_feed
from services.benefits.ledger import load_records

HEADER = ";".join(COLUMNS)


def row(**values: str) -> dict[str, str]:
    return {c: values.get(c, "") for c in COLUMNS}


def refund(**over: str) -> dict[str, str]:
    base = {"record_id": "R-2024-0001", "kind": "refund",
            "member_registration_number": "123456", "date": "2024-03-01",
            "paid_on": "2024-03-05", "amount": "23.40", "label": "Consultation généraliste",
            "practitioner": "Dr Dupont", "amount_charged": "30.00", "refund_base": "26.50",
            "paid_to": "member"}
    return row(**{**base, **over})


def payment(**over: str) -> dict[str, str]:
    base = {"record_id": "P-2024-0001", "kind": "payment",
            "member_registration_number": "123456", "payment_type": "family_allowance",
            "period_start": "2024-03-01", "period_end": "2024-03-31", "amount": "150.00",
            "paid_on": "2024-04-02", "label": "Allocations familiales mars"}
    return row(**{**base, **over})


def csv_bytes(*rows: dict[str, str], delimiter: str = ";", header: str | None = None,
              bom: bool = False, newline: str = "\n") -> bytes:
    lines = [header if header is not None else delimiter.join(COLUMNS)]
    for r in rows:
        lines.append(delimiter.join(_quote(r[c], delimiter) for c in COLUMNS))
    text = newline.join(lines) + newline
    return ("\ufeff" if bom else "").encode() + text.encode()


def _quote(value: str, delimiter: str) -> str:
    return f'"{value}"' if delimiter in value else value


def only_rejection(data: bytes) -> tuple[int, str]:
    parsed = parse_feed(data)
    assert parsed.records == []
    assert len(parsed.rejected) == 1, parsed.rejected
    return parsed.rejected[0].line, parsed.rejected[0].reason


def test_good_rows_of_both_kinds():
    data = csv_bytes(refund(), payment(), refund(record_id="R-2", beneficiary_id="B-17",
                                                 paid_to="insurer", currency="EUR"))
    parsed = parse_feed(data)
    assert parsed.rejected == []
    assert parsed.sha256 == hashlib.sha256(data).hexdigest()
    first, second, third = parsed.records
    assert first == FeedRecord(
        line=2, kind="refund", record_id="R-2024-0001", registration_number="123456",
        fields={"beneficiary_id": None, "care_date": "2024-03-01",
                "refund_date": "2024-03-05", "practitioner": "Dr Dupont",
                "act": "Consultation généraliste", "amount_charged": "30.00",
                "refund_base": "26.50", "amount_refunded": "23.40", "paid_to": "member",
                "currency": "EUR"})
    assert second == FeedRecord(
        line=3, kind="payment", record_id="P-2024-0001", registration_number="123456",
        fields={"payment_type": "family_allowance", "label": "Allocations familiales mars",
                "period_start": "2024-03-01", "period_end": "2024-03-31",
                "payment_date": "2024-04-02", "amount": "150.00", "currency": "EUR"})
    assert third.fields["beneficiary_id"] == "B-17"
    assert third.fields["paid_to"] == "insurer"


def test_good_rows_are_what_the_ledger_takes():
    parsed = parse_feed(csv_bytes(refund(), payment(label="")))
    loaded = load_records([r.as_record() for r in parsed.records])
    assert [r["record_id"] for r in loaded] == ["R-2024-0001", "P-2024-0001"]
    assert loaded[1]["label"] is None


def test_an_amount_past_the_ledgers_limit_is_a_bad_row_not_a_refused_batch():
    parsed = parse_feed(csv_bytes(refund(record_id="R-big", amount="1000000000,01"),
                                  refund(record_id="R-top", amount="1000000000")))
    assert [r.record_id for r in parsed.records] == ["R-top"]
    assert load_records([r.as_record() for r in parsed.records])  # the batch takes it
    [bad] = parsed.rejected
    assert bad.line == 2 and "amount" in bad.reason


def test_amounts_and_dates_are_normalised():
    parsed = parse_feed(csv_bytes(
        refund(amount="23,4", amount_charged="30", refund_base="0,5", date="01/03/2024",
               paid_on="05/03/2024"),
        payment(amount="0", period_start="01/02/2024", period_end="29/02/2024",
                paid_on="2024-03-01", payment_type="daily_allowance")))
    assert parsed.rejected == []
    r, p = parsed.records
    assert (r.fields["amount_refunded"], r.fields["amount_charged"],
            r.fields["refund_base"]) == ("23.40", "30.00", "0.50")
    assert (r.fields["care_date"], r.fields["refund_date"]) == ("2024-03-01", "2024-03-05")
    assert p.fields["amount"] == "0.00"
    assert (p.fields["period_start"], p.fields["period_end"]) == ("2024-02-01", "2024-02-29")


def test_values_are_trimmed_and_case_forgiven():
    parsed = parse_feed(csv_bytes(refund(kind=" Refund ", paid_to="MEMBER", currency="eur",
                                         practitioner="  Dr Dupont  ")))
    assert parsed.rejected == []
    (r,) = parsed.records
    assert r.kind == "refund"
    assert (r.fields["paid_to"], r.fields["currency"], r.fields["practitioner"]) == (
        "member", "EUR", "Dr Dupont")


def test_bom_crlf_and_blank_lines():
    data = csv_bytes(refund(), payment(), bom=True, newline="\r\n")
    data = data.replace(b"\r\nP-2024", b"\r\n\r\n   \r\nP-2024")
    parsed = parse_feed(data)
    assert parsed.rejected == []
    assert [(r.line, r.record_id) for r in parsed.records] == [(2, "R-2024-0001"),
                                                               (5, "P-2024-0001")]


def test_comma_delimiter_is_sniffed_from_the_header():
    data = csv_bytes(refund(amount="23,40", label="Consultation; suivi"),
                     payment(label="Mars, avril"), delimiter=",")
    parsed = parse_feed(data)
    assert parsed.rejected == []
    assert parsed.records[0].fields["amount_refunded"] == "23.40"
    assert parsed.records[0].fields["act"] == "Consultation; suivi"
    assert parsed.records[1].fields["label"] == "Mars, avril"


def test_semicolon_file_with_a_quoted_delimiter():
    parsed = parse_feed(csv_bytes(refund(label="Acte; cotation C")))
    assert parsed.records[0].fields["act"] == "Acte; cotation C"


def test_columns_in_another_order_and_extra_columns():
    order = ["extra", *reversed(COLUMNS)]
    values = {**refund(), "extra": "ignored"}
    data = (";".join(order) + "\n" + ";".join(values[c] for c in order) + "\n").encode()
    parsed = parse_feed(data)
    assert parsed.rejected == []
    assert parsed.records[0].fields["amount_refunded"] == "23.40"


@pytest.mark.parametrize(("over", "reason"), [
    ({"record_id": ""}, "record_id: missing"),
    ({"record_id": "R 1"}, "record_id: 1 to 64"),
    ({"record_id": "R" * 65}, "record_id: 1 to 64"),
    ({"member_registration_number": ""}, "member_registration_number: missing"),
    ({"member_registration_number": "12A456"}, "member_registration_number: 4 to 6 digits"),
    ({"kind": ""}, "kind: missing"),
    ({"kind": "refunds"}, "kind: refund or payment, not 'refunds'"),
    ({"date": ""}, "date: missing"),
    ({"date": "2024-02-30"}, "date: no such date: '2024-02-30'"),
    ({"date": "31/04/2024"}, "date: no such date: '31/04/2024'"),
    ({"paid_on": "2024/03/05"}, "paid_on: a date as YYYY-MM-DD or DD/MM/YYYY"),
    ({"paid_on": ""}, "paid_on: missing"),
    ({"amount": ""}, "amount: missing"),
    ({"amount": "-5.00"}, "amount: must not be negative"),
    ({"amount": "23.401"}, "amount: not an amount with at most 2 decimals: '23.401'"),
    ({"amount": "1 234,00"}, "amount: not an amount with at most 2 decimals"),
    ({"amount": "1e3"}, "amount: not an amount with at most 2 decimals"),
    ({"amount": "NaN"}, "amount: not an amount with at most 2 decimals"),
    ({"amount": "12345678901"}, "amount: not an amount with at most 2 decimals"),
    ({"amount_charged": ""}, "amount_charged: missing"),
    ({"refund_base": "x"}, "refund_base: not an amount"),
    ({"practitioner": ""}, "practitioner: missing"),
    ({"practitioner": "D" * 201}, "practitioner: at most 200 characters"),
    ({"label": ""}, "label: missing"),
    ({"paid_to": ""}, "paid_to: missing"),
    ({"paid_to": "bank"}, "paid_to: member or insurer, not 'bank'"),
    ({"beneficiary_id": "B" * 65}, "beneficiary_id: at most 64 characters"),
    ({"currency": "USD"}, "currency: only EUR is accepted, not 'USD'"),
])
def test_bad_refund_rows(over: dict[str, str], reason: str):
    line, got = only_rejection(csv_bytes(refund(**over)))
    assert line == 2
    assert got.startswith(reason), got


@pytest.mark.parametrize(("over", "reason"), [
    ({"payment_type": ""}, "payment_type: missing"),
    ({"payment_type": "Family-Allowance"}, "payment_type: 2 to 40 of a-z and _"),
    ({"payment_type": "x"}, "payment_type: 2 to 40"),
    ({"period_start": ""}, "period_start: missing"),
    ({"period_end": "2024-13-01"}, "period_end: no such date"),
    ({"period_end": "2024-02-29"}, "period_end: before period_start"),
    ({"paid_on": ""}, "paid_on: missing"),
    ({"amount": "-0,01"}, "amount: must not be negative"),
    ({"amount": "150.000"}, "amount: not an amount with at most 2 decimals"),
    ({"label": "L" * 201}, "label: at most 200 characters"),
    ({"currency": "CHF"}, "currency: only EUR is accepted"),
])
def test_bad_payment_rows(over: dict[str, str], reason: str):
    line, got = only_rejection(csv_bytes(payment(**over)))
    assert line == 2
    assert got.startswith(reason), got


def test_every_problem_of_a_row_is_named_and_good_rows_go_on():
    data = csv_bytes(refund(), refund(record_id="R-2", amount="-1", paid_to="bank",
                                      date="yesterday"), payment())
    parsed = parse_feed(data)
    assert [r.line for r in parsed.records] == [2, 4]
    (bad,) = parsed.rejected
    assert bad.line == 3
    assert bad.reason == ("date: a date as YYYY-MM-DD or DD/MM/YYYY, not 'yesterday'; "
                          "amount: must not be negative; paid_to: member or insurer, not 'bank'")
    assert bad.raw == data.decode().splitlines()[2]


def test_wrong_number_of_fields_and_broken_quotes():
    good = csv_bytes(refund()).decode()
    data = (good + "R-9;refund;123456\n"
            + ";".join(refund(record_id="R-10").values()) + ";extra\n"
            + 'R-11;refund;"123456;;2024-03-01\n'
            + ";".join(payment().values()) + "\n").encode()
    parsed = parse_feed(data)
    assert [(r.line, r.record_id) for r in parsed.records] == [(2, "R-2024-0001"),
                                                               (6, "P-2024-0001")]
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (3, "expected 16 fields, found 3"),
        (4, "expected 16 fields, found 17"),
        (5, "malformed CSV line: unexpected end of data"),
    ]
    assert parsed.rejected[2].raw == 'R-11;refund;"123456;;2024-03-01'


def test_duplicate_record_id_rejects_the_second():
    parsed = parse_feed(csv_bytes(refund(), payment(),
                                  refund(amount="99.00"), payment(record_id="R-2024-0001")))
    assert [r.line for r in parsed.records] == [2, 3]
    assert parsed.records[0].fields["amount_refunded"] == "23.40"
    assert [(r.line, r.reason) for r in parsed.rejected] == [
        (4, "duplicate record_id in file (first on line 2)"),
        (5, "duplicate record_id in file (first on line 2)"),
    ]


def test_a_rejected_row_still_claims_its_record_id():
    parsed = parse_feed(csv_bytes(refund(amount="bad"), refund()))
    assert parsed.records == []
    assert [r.line for r in parsed.rejected] == [2, 3]
    assert parsed.rejected[1].reason.startswith("duplicate record_id in file")


def test_raw_is_capped():
    line, _ = only_rejection(csv_bytes(refund(label="x" * 5000)))
    assert line == 2
    assert len(parse_feed(csv_bytes(refund(label="x" * 5000))).rejected[0].raw) == 1000


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"\n\n  \n", "empty"),
    ("\ufeff".encode(), "empty"),
    (HEADER.encode("utf-16"), "not UTF-8"),
    (HEADER.encode() + "\nR1;Café".encode("latin-1"), "not UTF-8"),
    (HEADER.replace(";amount_charged", "").encode(), "amount_charged"),
    (b"record_id;kind;amount\nR1;refund;1\n", "member_registration_number"),
    ((HEADER + ";kind").encode(), "repeats the column(s): kind"),
])
def test_unreadable_files_raise(data: bytes, message: str):
    with pytest.raises(FeedError) as err:
        parse_feed(data)
    assert message in err.value.detail
    assert err.value.code == "feed_unreadable" and err.value.status == 422


def test_missing_columns_are_all_named():
    header = ";".join(c for c in COLUMNS if c not in ("paid_to", "currency"))
    with pytest.raises(FeedError) as err:
        parse_feed(header.encode())
    assert "currency, paid_to" in err.value.detail


def test_header_only_is_an_empty_feed():
    parsed = parse_feed(HEADER.encode())
    assert parsed.records == [] and parsed.rejected == []


def test_max_rows():
    data = csv_bytes(refund(), payment(), refund(record_id="R-3"))
    assert len(parse_feed(data, max_rows=3).records) == 3
    with pytest.raises(FeedError) as err:
        parse_feed(data, max_rows=2)
    assert "more than 2 rows" in err.value.detail
