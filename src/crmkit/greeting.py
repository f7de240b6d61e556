"""Salutation lines for letters and e-mails, as German correspondence expects them.

>>> from crmkit import Person
>>> greeting(Person(salutation="Frau", title="Dr.", first_name="Eva", last_name="Schmidt"))
'Sehr geehrte Frau Dr. Schmidt,'
>>> greeting(Person(salutation="Herr", title="Prof. Dr.", last_name="von Weizsäcker"))
'Sehr geehrter Herr Prof. Dr. von Weizsäcker,'
>>> greeting(Person(first_name="Alex", last_name="Muster"))
'Guten Tag Alex Muster,'
>>> greeting(Person(first_name="Max", last_name="Mustermann"), style="informal")
'Hallo Max,'

Pure: it looks only at the contact.
"""

from __future__ import annotations

from typing import Final, Literal

from crmkit.errors import ValidationError
from crmkit.model import Company, Contact, Person

Style = Literal["formal", "informal"]

_MALE: Final = frozenset({"herr", "hr.", "hr", "mr", "mr.", "m", "male", "mann"})
_FEMALE: Final = frozenset({"frau", "fr.", "fr", "ms", "ms.", "mrs", "mrs.", "f", "female"})
#: Name particles that stay lower-case inside a salutation ("Herr von Weizsäcker").
_PARTICLES: Final = (
    "von und zu",
    "von der",
    "von dem",
    "van der",
    "van den",
    "von",
    "vom",
    "zu",
    "zur",
    "van",
    "de",
    "del",
    "della",
    "di",
    "da",
    "du",
    "le",
    "la",
)


def _gender(salutation: str | None) -> Literal["m", "f", "n"]:
    key = (salutation or "").strip().lower()
    if key in _MALE:
        return "m"
    if key in _FEMALE:
        return "f"
    return "n"


def _surname(last_name: str) -> str:
    """The last name with a leading nobiliary particle in lower case."""
    low = last_name.lower()
    for particle in _PARTICLES:
        if low.startswith(particle + " "):
            return particle + last_name[len(particle) :]
    return last_name


def greeting(contact: Contact, *, style: Style = "formal", lang: str = "de") -> str:
    """The salutation line for *contact* (``"Sehr geehrte Frau Dr. Schmidt,"``).

    * formal, German: ``Sehr geehrte Frau …`` / ``Sehr geehrter Herr …`` with
      academic titles kept and name particles in lower case; ``Guten Tag
      Vorname Nachname,`` when no salutation is known or a neutral one was
      chosen; ``Sehr geehrte Damen und Herren,`` for a company;
    * informal, German: ``Hallo Vorname,``;
    * the English equivalents with ``lang="en"`` (``Dear Ms Dr. Schmidt`` is
      not English: a title replaces Mr/Ms — ``Dear Dr. Schmidt,``).

    Raises :class:`crmkit.ValidationError` for an unknown *style* or *lang*.
    """
    if style not in ("formal", "informal"):
        raise ValidationError.single(
            "style", "value.choice", value=style, choices="formal, informal"
        )
    if lang not in ("de", "en"):
        raise ValidationError.single("lang", "value.choice", value=lang, choices="de, en")
    de = lang == "de"
    if isinstance(contact, Company) or not isinstance(contact, Person):
        return "Sehr geehrte Damen und Herren," if de else "Dear Sir or Madam,"
    first, last = contact.first_name, _surname(contact.last_name)
    title = contact.title
    if style == "informal":
        name = first or " ".join(p for p in (title, last) if p)
        return f"Hallo {name}," if de else f"Hello {name},"
    gender = _gender(contact.salutation)
    if gender == "n" or not last:
        full = " ".join(p for p in (title, first, last) if p)
        return f"Guten Tag {full}," if de else f"Dear {full},"
    if de:
        opener = "Sehr geehrte Frau" if gender == "f" else "Sehr geehrter Herr"
        return " ".join(p for p in (opener, title, last) if p) + ","
    if title:
        return f"Dear {title} {last},"
    return f"Dear {'Ms' if gender == 'f' else 'Mr'} {last},"


__all__ = ["Style", "greeting"]
