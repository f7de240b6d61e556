"""JSON-compatible dicts for every entity, through one private cattrs converter.

>>> from crmkit import Person
>>> p = Person(first_name="Max", last_name="Mustermann", emails=["max@muster.de"])
>>> data = to_dict(p)
>>> data["kind"], data["emails"][0]["address"]
('person', 'max@muster.de')
>>> from_dict(Person, data) == p
True

Persons and companies are a tagged union on the key ``kind``; datetimes are
ISO 8601 in UTC with offset; dates ISO 8601; sets are sorted lists so the
output is stable.  Unknown keys are refused.  Anything that cannot be read
raises :class:`crmkit.ValidationError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast, get_origin

import attrs
import cattrs
from cattrs.errors import BaseValidationError, ForbiddenExtraKeysError
from cattrs.fns import identity
from cattrs.gen import make_dict_unstructure_fn, override
from cattrs.preconf.json import make_converter

from crmkit.errors import Finding, ValidationError
from crmkit.ids import ContactId
from crmkit.model import Affiliation, Company, Contact, EmailAddress, Person

T = TypeVar("T")

_ENTITY_TYPES: tuple[type[Any], ...] = (Person, Company, Affiliation)


def _structure_datetime(value: Any, _: type[Any]) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("datetime without time zone")
    return parsed.astimezone(dt.UTC)


def _unstructure_datetime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()


def _structure_date(value: Any, _: type[Any]) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO date string, got {type(value).__name__}")
    return dt.date.fromisoformat(value)


def _structure_decimal(value: Any, _: type[Any]) -> Decimal:
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"expected a decimal string, got {type(value).__name__}")


def _sorted_list(value: frozenset[Any]) -> list[Any]:
    if not value:
        return []
    return sorted(str(v) for v in value)


def _optional_datetime(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _optional_date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _is_frozenset(tp: Any) -> bool:
    return tp is frozenset or get_origin(tp) is frozenset


def _tag(cls: type[Any]) -> str:
    return str(getattr(cls, "kind", cls.__name__.lower()))


@cache
def converter() -> cattrs.Converter:
    """The converter behind :func:`to_dict` and :func:`from_dict` (built once)."""
    conv = make_converter(forbid_extra_keys=True)
    conv.register_structure_hook(dt.datetime, _structure_datetime)
    conv.register_unstructure_hook(dt.datetime, _unstructure_datetime)
    conv.register_structure_hook(dt.date, _structure_date)
    conv.register_unstructure_hook(dt.date, lambda d: d.isoformat())
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook_func(_is_frozenset, _sorted_list)
    # Optional text is written as it is: the generated functions then read
    # the attribute directly instead of calling a generic optional hook (the
    # same output, and to_dict runs on every write of a contact).
    conv.register_unstructure_hook(str | None, identity)
    conv.register_unstructure_hook(ContactId | None, identity)
    conv.register_unstructure_hook(dt.datetime | None, _optional_datetime)
    conv.register_unstructure_hook(dt.date | None, _optional_date)
    # Rarely set: left out of the JSON while unset, so stored rows stay small.
    conv.register_unstructure_hook(
        EmailAddress,
        make_dict_unstructure_fn(
            EmailAddress,
            conv,
            bounced_at=override(omit_if_default=True),
        ),
    )
    for cls in (Person, Company):
        # Derived fields (base name, legal form) are not written out.
        overrides = {a.name: override(omit=True) for a in attrs.fields(cls) if not a.init}
        # Rarely set, like bounced_at: left out of the JSON while unset.
        overrides["merged_into"] = override(omit_if_default=True)
        overrides["restricted_at"] = override(omit_if_default=True)
        overrides["legal_basis"] = override(omit_if_default=True)
        conv.register_unstructure_hook(
            cls,
            make_dict_unstructure_fn(cls, conv, **overrides),  # type: ignore[arg-type]
        )
    from crmkit.segments import Segment  # here: crmkit.segments imports the model, not us

    conv.register_unstructure_hook(Segment, Segment.to_dict)
    conv.register_structure_hook(Segment, lambda data, _: Segment.from_dict(data))
    cattrs.strategies.configure_tagged_union(
        Person | Company, conv, tag_generator=_tag, tag_name="kind"
    )
    return conv


def to_dict(entity: Any) -> dict[str, Any]:
    """A JSON-compatible dict of *entity* (persons and companies carry ``kind``)."""
    if type(entity) is Person or type(entity) is Company:
        # What the tagged union writes (the class's fields, then the tag),
        # without its dispatch: this runs on every write of a contact.
        data = _contact_hook(type(entity))(entity)
        data["kind"] = entity.kind
        return data
    conv = converter()
    if isinstance(entity, (Person, Company)):
        return cast(dict[str, Any], conv.unstructure(entity, Person | Company))
    return cast(dict[str, Any], conv.unstructure(entity))


#: The converter's unstructure function of each contact class, looked up once.
_CONTACT_HOOKS: dict[type[Any], Callable[[Contact], dict[str, Any]]] = {}


def _contact_hook(cls: type[Any]) -> Callable[[Contact], dict[str, Any]]:
    hook = _CONTACT_HOOKS.get(cls)
    if hook is None:
        hook = cast(Callable[[Contact], dict[str, Any]], converter().get_unstructure_hook(cls))
        _CONTACT_HOOKS[cls] = hook
    return hook


def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
    """Rebuild an entity of *cls* from :func:`to_dict` output.

    *cls* may be :class:`~crmkit.Person`, :class:`~crmkit.Company`,
    :class:`~crmkit.Contact` (the ``kind`` key picks the class) or any other
    entity class.  Bad data raises :class:`crmkit.ValidationError`.
    """
    if not isinstance(data, Mapping):
        raise ValidationError.single(
            "", "serialize.invalid", target=cls.__name__, reason="not a mapping"
        )
    conv = converter()
    target: Any = Person | Company if cls in (Contact, Person, Company) else cls
    try:
        result = conv.structure(dict(data), target)
    except ValidationError:
        raise
    except BaseValidationError as exc:
        inner = _find_validation_error(exc)
        if inner is not None:
            raise inner from None
        raise ValidationError(_findings(exc, cls.__name__)) from None
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
        raise ValidationError.single(
            "", "serialize.invalid", target=cls.__name__, reason=str(exc) or type(exc).__name__
        ) from None
    if not isinstance(result, cls):
        raise ValidationError.single(
            "kind",
            "serialize.invalid",
            target=cls.__name__,
            reason=f"the data describes a {type(result).__name__}",
        )
    return result


def _find_validation_error(exc: BaseException) -> ValidationError | None:
    if isinstance(exc, ValidationError):
        return exc
    for sub in getattr(exc, "exceptions", ()):
        found = _find_validation_error(sub)
        if found is not None:
            return found
    return None


def _findings(exc: BaseValidationError, target: str) -> list[Finding]:
    out: list[Finding] = []
    for message in cattrs.transform_error(exc, path=""):
        field, _, reason = message.partition(" @ ")
        path = reason.removeprefix("$").strip(".") if reason else ""
        out.append(
            Finding(
                field=path,
                code="serialize.invalid",
                params={"target": target, "reason": field},
            )
        )
    if any(isinstance(e, ForbiddenExtraKeysError) for e in _walk(exc)) and not out:
        out.append(
            Finding(field="", code="serialize.invalid", params={"target": target, "reason": "?"})
        )
    return out or [
        Finding(field="", code="serialize.invalid", params={"target": target, "reason": str(exc)})
    ]


def _walk(exc: BaseException) -> list[BaseException]:
    out = [exc]
    for sub in getattr(exc, "exceptions", ()):
        out.extend(_walk(sub))
    return out


__all__ = ["converter", "from_dict", "to_dict"]
