"""Benchmark data: a reproducible German contact set written once to CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crmkit import Address, Company, Contact, Person
from crmkit.sample import bulk_rows
from crmkit.store import PreparedContact, prepare_contact

DATA_DIR = Path(__file__).parent / "data"
FIELDS = ["kind", "name", "first_name", "last_name", "email", "phone", "street", "postal_code",
          "city"]  # fmt: skip


def dataset(n: int, seed: int = 1) -> Path:
    """The CSV file with *n* rows (made on first use, then reused)."""
    DATA_DIR.mkdir(exist_ok=True)
    path = DATA_DIR / f"contacts-{n}-{seed}.csv"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, FIELDS)
            writer.writeheader()
            for row in bulk_rows(n, seed):
                writer.writerow(row)
        tmp.replace(path)
    return path


def read_chunks(path: Path, size: int) -> Iterator[list[dict[str, str]]]:
    """The CSV rows in chunks of *size*."""
    with path.open(newline="", encoding="utf-8") as fh:
        chunk: list[dict[str, str]] = []
        for row in csv.DictReader(fh):
            chunk.append(row)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def contact_from_row(row: dict[str, Any]) -> Contact:
    """One validated entity from a benchmark row."""
    address = Address(street=row["street"], postal_code=row["postal_code"], city=row["city"])
    common: dict[str, Any] = {
        "emails": [row["email"]],
        "phones": [row["phone"]],
        "addresses": [address],
    }
    if row["kind"] == "company":
        return Company(name=row["name"], **common)
    return Person(first_name=row["first_name"], last_name=row["last_name"], **common)


def convert_chunk(rows: list[dict[str, str]]) -> list[Contact]:
    """Validate a chunk of rows (runs in a worker process)."""
    return [contact_from_row(r) for r in rows]


def prepare_chunk(rows: list[dict[str, str]]) -> list[PreparedContact]:
    """Validate a chunk of rows and prepare them for a bulk load (runs in a worker process)."""
    return [prepare_contact(contact_from_row(r)) for r in rows]


def floor_chunk(rows: list[dict[str, str]]) -> int:
    """Only what phonenumbers and email-validator need for the same rows.

    Parse, possible and valid (in an assigned range), format as E.164; e-mail
    syntax without DNS — the checks every imported contact must pass.
    """
    import email_validator
    import phonenumbers

    n = 0
    for r in rows:
        parsed = phonenumbers.parse(r["phone"], "DE")
        phonenumbers.is_possible_number(parsed)
        phonenumbers.is_valid_number(parsed)
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        email_validator.validate_email(r["email"], check_deliverability=False)
        n += 1
    return n
