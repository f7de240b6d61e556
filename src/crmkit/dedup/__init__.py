"""Duplicate detection: scored, explained pairs and clusters of contacts.

Pure domain code (no I/O, no clock).  The pipeline is columnar:

1. :class:`ContactTable` turns contacts into integer-coded columns;
2. blocking finds candidate pairs by several keys (e-mail, phone, name
   phonetics, company name tokens, domain plus name, postal code plus street),
   each block capped in size;
3. every candidate pair is compared field by field and scored as a sum of
   per-field weights in bits (Fellegi–Sunter), optionally re-estimated by EM;
4. pairs above the review threshold are explained, those above the match
   threshold clustered without chaining through weak links.

>>> from crmkit import Person
>>> a = Person(first_name="Jürgen", last_name="Müller", emails=["j.mueller@muster.de"])
>>> b = Person(first_name="Juergen", last_name="Mueller", emails=["J.Mueller@muster.de"])
>>> report = find_duplicates([a, b])
>>> report.pairs[0].verdict, report.pairs[0].explanation.agreeing
('match', ('first_name', 'last_name', 'email'))

See ``docs/duplicates.md`` for how scores are built and how to tune them.
"""

from crmkit.dedup._blocking import DEFAULT_CAPS, KEY_KINDS, CappedKey
from crmkit.dedup._engine import (
    BlockingKey,
    DedupConfig,
    blocking_keys,
    check_candidate,
    decision_key,
    find_duplicates,
    fingerprint,
)
from crmkit.dedup._report import (
    DuplicatePair,
    DuplicateReport,
    Explanation,
    FieldEvidence,
    PairColumns,
)
from crmkit.dedup._scoring import DEFAULT_PRIOR, DEFAULT_WEIGHTS, LEVELS
from crmkit.dedup._table import FREE_MAIL_DOMAINS, ROLE_LOCAL_PARTS, ContactTable, street_key

__all__ = [
    "DEFAULT_CAPS",
    "DEFAULT_PRIOR",
    "DEFAULT_WEIGHTS",
    "FREE_MAIL_DOMAINS",
    "KEY_KINDS",
    "LEVELS",
    "ROLE_LOCAL_PARTS",
    "BlockingKey",
    "CappedKey",
    "ContactTable",
    "DedupConfig",
    "DuplicatePair",
    "DuplicateReport",
    "Explanation",
    "FieldEvidence",
    "PairColumns",
    "blocking_keys",
    "check_candidate",
    "decision_key",
    "find_duplicates",
    "fingerprint",
    "street_key",
]
