"""Every message exists in English and German, and every code the code uses is known."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import crmkit.io  # noqa: F401  (registers the import parsers' message codes)
from crmkit import messages
from crmkit.errors import CrmkitError, ValidationError

ROOT = Path(__file__).resolve().parents[1]
CODE_RE = re.compile(
    r"""(?:code=|ValidationError\.single\([^,]+,\s*|say\(|render\()\s*"([a-z_.]+)\""""
)


def _used_codes() -> set[str]:
    used: set[str] = set()
    for base in [ROOT / "src", *sorted((ROOT / "plugins").glob("*/src"))]:
        for path in base.rglob("*.py"):
            used.update(CODE_RE.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_code_has_english_and_german() -> None:
    for code in messages.codes():
        en, de = messages.template(code, "en"), messages.template(code, "de")
        assert en.strip() and de.strip(), code
        fields_en = set(re.findall(r"{(\w+)", en))
        fields_de = set(re.findall(r"{(\w+)", de))
        assert fields_en == fields_de, code


def test_every_code_used_in_the_code_is_in_the_catalogue() -> None:
    used = _used_codes()
    assert len(used) > 20
    missing = sorted(used - messages.codes())
    assert missing == []


def test_every_error_class_code_is_known() -> None:
    def walk(cls: type[CrmkitError]) -> list[type[CrmkitError]]:
        return [cls, *(c for sub in cls.__subclasses__() for c in walk(sub))]

    for cls in walk(CrmkitError):
        assert cls.code in messages.codes(), cls


def test_missing_parameters_stay_visible() -> None:
    assert messages.render("not_found", "en", kind="contact") == "contact '{key}' was not found"


def test_register_messages_refuses_to_reword() -> None:
    with pytest.raises(ValueError, match="already registered"):
        messages.register_messages({"not_found": ("x", "y")})
    with pytest.raises(ValueError, match="German"):
        messages.register_messages({"my.code": ("only english",)})  # type: ignore[dict-item]
    messages.register_messages({"test.code": ("Hello {name}", "Hallo {name}")})
    assert messages.render("test.code", "de", name="Anna") == "Hallo Anna"


def test_validation_error_in_both_languages() -> None:
    err = ValidationError.single("emails.0", "email.invalid", value="x", reason="no @")
    assert str(err) == "invalid input: emails.0: 'x' is not a valid e-mail address: no @"
    assert err.message("de").startswith("ungültige Eingabe: emails.0:")


def test_phone_and_email_reasons_read_in_german() -> None:
    from crmkit import normalize
    from crmkit.messages import REASONS

    with pytest.raises(ValidationError) as info:
        normalize.phone("kaputt-123")
    assert info.value.message("de").endswith("ist keine Telefonnummer: enthält Buchstaben")
    with pytest.raises(ValidationError) as info:
        normalize.email("hp.gross(at)example.de")
    assert "braucht ein @-Zeichen" in info.value.message("de")
    assert "must have an @-sign" in info.value.message("en")
    # A reason without a translation is shown as it is, in both languages.
    assert messages.render("phone.invalid", "de", value="x", reason="Sonderfall") == (
        "'x' ist keine Telefonnummer: Sonderfall"
    )
    # Every fixed reason the phone check gives has its German words.
    source = Path(normalize.__file__).read_text(encoding="utf-8")
    fixed = set(re.findall(r'reason="([^"{]+)"', source))
    fixed |= set(normalize._POSSIBLE_REASONS.values())
    fixed |= {reason for _, reason in normalize._PARSE_REASONS.values()}
    assert fixed - set(REASONS) <= {"unpaired surrogate code point"}
