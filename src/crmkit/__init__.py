"""crmkit: customer and member relationship management for German firms and associations.

>>> import crmkit
>>> crm = crmkit.open("memory://")
>>> crm.contacts.add(crmkit.Company(name="Muster GmbH")).number
'C00001'

See the documentation in ``docs/`` for a tour.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from crmkit.crm import CRM, open
from crmkit.errors import (
    ConflictError,
    ConsentError,
    CrmkitError,
    CrmkitWarning,
    Finding,
    NotFoundError,
    PermissionDenied,
    PluginError,
    RetentionHoldError,
    StoreError,
    ValidationError,
)
from crmkit.frames import from_pandas, to_pandas
from crmkit.greeting import greeting
from crmkit.hookspecs import hookimpl
from crmkit.model import (
    Address,
    Affiliation,
    Company,
    Contact,
    EmailAddress,
    LeadInfo,
    LegalBasis,
    Person,
    PhoneNumber,
    Relationship,
    link,
)
from crmkit.plugins import make_plugin_manager
from crmkit.segments import Segment

try:
    __version__ = version("crmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CRM",
    "Address",
    "Affiliation",
    "Company",
    "ConflictError",
    "ConsentError",
    "Contact",
    "CrmkitError",
    "CrmkitWarning",
    "EmailAddress",
    "Finding",
    "LeadInfo",
    "LegalBasis",
    "NotFoundError",
    "PermissionDenied",
    "Person",
    "PhoneNumber",
    "PluginError",
    "Relationship",
    "RetentionHoldError",
    "Segment",
    "StoreError",
    "ValidationError",
    "__version__",
    "from_pandas",
    "greeting",
    "hookimpl",
    "link",
    "make_plugin_manager",
    "open",
    "to_pandas",
]
