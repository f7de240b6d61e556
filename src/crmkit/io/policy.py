"""Reading policy files (the I/O half of :mod:`crmkit.auth`)."""

from __future__ import annotations

from pathlib import Path

from crmkit.auth import Policy, policy_from_text
from crmkit.errors import ValidationError


def load_policy(path: str | Path) -> Policy:
    """Read a policy from a ``.toml`` or ``.json`` file (see :func:`crmkit.auth.policy_from_dict`).

    A file that cannot be read or parsed raises :class:`crmkit.ValidationError`.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError.single(
            "policy", "value.invalid", value=str(p), reason=str(exc)
        ) from None
    return policy_from_text(text, fmt="json" if p.suffix.lower() == ".json" else "toml")


__all__ = ["load_policy"]
