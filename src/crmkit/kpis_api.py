"""``crm.revenue`` and ``crm.kpis``: revenue records and the KPI report of a period.

>>> import datetime as dt, crmkit
>>> crm = crmkit.open("memory://", load_entry_points=False,
...                   clock=lambda: dt.datetime(2026, 10, 5, 10, tzinfo=dt.UTC))
>>> acme = crm.contacts.add(crmkit.Company(name="Muster GmbH", relationships={"customer"},
...                                        customer_since=dt.date(2025, 1, 1)))
>>> _ = crm.revenue.record(acme, "1200.00", "EUR", dt.date(2026, 8, 1))
>>> report = crm.kpis.report("2026-Q3", today=dt.date(2026, 10, 5))
>>> report.value("customers", "active_at_end"), report.value("revenue", "total")
(1, '1200.00')
"""

from __future__ import annotations

import builtins
import csv
import datetime as dt
import io
import json
import os
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import attrs

from crmkit._guard import guarded
from crmkit._reports import LinesReport, html_table
from crmkit.audit import AuditRecord
from crmkit.errors import NotFoundError, ValidationError
from crmkit.importing import CsvProblem
from crmkit.kpis import (
    Period,
    QualitySnapshot,
    Revenue,
    Spell,
    active_customers,
    average_order_value,
    customer_spells,
    lead_conversion,
    lifetime_value,
    new_customers,
    new_leads,
    normal_currency,
    open_leads_by_age,
    quality_snapshot,
    quality_trend,
    retention,
    revenue_by_customer,
)
from crmkit.messages import Lang, render
from crmkit.segments import Segment
from crmkit.serialize import from_dict, to_dict
from crmkit.store import record_store, segment_ids

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.crm import CRM
    from crmkit.model import Contact

#: The record kind revenue is kept under.
RECORD_KIND = "revenue"
#: How many customers the report names with their revenue, largest first.
TOP_CUSTOMERS = 5
#: The record kind of the quality snapshots (key: the ISO day).
SNAPSHOT_KIND = "snapshot"
#: Headers :meth:`RevenueApi.import_csv` recognises (German and English), by field.
REVENUE_HEADERS: dict[str, tuple[str, ...]] = {
    "contact": ("kundennummer", "kunde", "customer", "customer number", "contact"),
    "on": ("datum", "rechnungsdatum", "date", "invoice date"),
    "amount": ("betrag", "netto", "umsatz", "amount", "net"),
    "currency": ("währung", "waehrung", "currency"),
    "reference": ("beleg", "rechnungsnummer", "belegnummer", "invoice", "reference"),
}
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def parse_amount(text: object) -> Decimal:
    """An amount as ERP exports write it: ``1.234,56``, ``1234,56``, ``1,234.56``, ``-12``.

    Anything else raises :class:`crmkit.ValidationError` on the field ``amount``.
    """
    if not isinstance(text, str):
        raise ValidationError.single("amount", "value.type", expected="str",
                                     actual=type(text).__name__)  # fmt: skip
    value = text.strip().replace("\u00a0", "").replace(" ", "").removesuffix("€")
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")
        else:
            value = value.replace(",", "")
    elif "," in value:
        value = value.replace(",", ".")
    if not re.fullmatch(r"[+-]?\d{1,30}(\.\d{1,30})?", value):
        raise ValidationError.single("amount", "amount.invalid", value=text)
    return Decimal(value)


def parse_day(text: object) -> dt.date:
    """A day as ``23.11.2026`` or ``2026-11-23``; else :class:`crmkit.ValidationError` on ``on``."""
    if not isinstance(text, str):
        raise ValidationError.single("on", "value.type", expected="str",
                                     actual=type(text).__name__)  # fmt: skip
    value = text.strip()
    try:
        m = _GERMAN_DATE.match(value)
        if m:
            return dt.date(int(m[3]), int(m[2]), int(m[1]))
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return dt.date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationError.single("on", "day.invalid", value=text)


@attrs.frozen(kw_only=True)
class RevenueImportReport(LinesReport):
    """What :meth:`RevenueApi.import_csv` did (or, with ``dry_run``, would do), row by row.

    ``rows``: data rows read (blank rows not counted); ``imported``: revenue
    records stored (or that would be); ``skipped``: ``(row, contact number,
    reference)`` of rows whose reference is recorded for that contact
    already; ``problems``: the rows that cannot be used.  A file with a
    problem imports nothing (fix the rows and run it again).
    """

    rows: int = 0
    imported: int = 0
    skipped: tuple[tuple[int, str, str], ...] = ()
    problems: tuple[CsvProblem, ...] = ()
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when no row had a problem."""
        return not self.problems

    def summary(self, lang: Lang = "en") -> str:
        """One line: rows read, imported, skipped, problems."""
        code = (
            "revenue.summary_refused"
            if self.problems
            else "revenue.summary_dry_run"
            if self.dry_run
            else "revenue.summary"
        )
        return render(code, lang, rows=self.rows, imported=self.imported,
                      skipped=len(self.skipped), problems=len(self.problems))  # fmt: skip

    def lines(self, lang: Lang = "en") -> builtins.list[str]:
        """The summary, then each problem and each skipped row, in *lang*."""
        out = [self.summary(lang)]
        out += [p.message(lang) for p in self.problems]
        out += [render("revenue.skipped", lang, row=row, number=number, reference=ref)
                for row, number, ref in self.skipped]  # fmt: skip
        return out


class RevenueApi:
    """``crm.revenue``: revenue per contact, recorded by hand or imported from an ERP CSV."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    @guarded("update", "contact")
    def record(
        self,
        contact: Contact | str,
        amount: Decimal | int | str,
        currency: str = "EUR",
        on: dt.date | str | None = None,
        *,
        reference: str = "",
    ) -> Revenue:
        """Record revenue of *contact* on the day *on* (default today); audited."""
        crm = self._crm
        target = crm._load(contact)
        item = Revenue(contact_id=target.id, amount=amount, currency=currency,
                       on=on or crm.today(), reference=reference)  # fmt: skip
        with crm.transaction():
            record_store(crm.store).put_record(RECORD_KIND, item.id, to_dict(item))
            reason = f"revenue {item.amount} {item.currency}"
            crm._record("create", "contact", target.id, reason=reason)
        return item

    @guarded("read", "contact")
    def list(self, contact: Contact | str | None = None) -> builtins.list[Revenue]:
        """Revenue records (of one contact, if given), by day."""
        crm = self._crm
        wanted = crm._load(contact).id if contact is not None else None
        items = [
            from_dict(Revenue, data)
            for _, data in record_store(crm.store).iter_records(RECORD_KIND)
        ]
        chosen = [r for r in items if wanted is None or r.contact_id == wanted]
        return sorted(chosen, key=lambda r: (r.on, r.reference, r.id))

    @guarded("update", "contact")
    def import_csv(
        self,
        source: str | os.PathLike[str] | IO[str],
        *,
        delimiter: str | None = None,
        dry_run: bool = False,
    ) -> RevenueImportReport:
        """Import revenue from an ERP or invoicing CSV: all rows or none.

        Columns by header (German or English, see :data:`REVENUE_HEADERS`):
        customer number (or contact id), date, amount, currency (default
        EUR) and reference.  Amounts as ``1.234,56`` or ``1234.56``, dates as
        ``23.11.2026`` or ISO.  A row whose reference is already recorded for
        that contact is skipped, so re-running a file adds nothing.  Every
        bad row is reported (row, column, value, why; in English and German
        through :meth:`RevenueImportReport.lines`) and, if there is one,
        nothing is stored; with *dry_run* nothing is stored either.  The
        rows are stored in one transaction.
        """
        crm = self._crm
        if isinstance(source, (str, os.PathLike)):
            text = Path(source).read_text(encoding="utf-8-sig")
        else:
            text = source.read().removeprefix("\ufeff")
        sep = delimiter or (";" if text.split("\n", 1)[0].count(";") else ",")
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        raw_header = [h.strip() for h in next(reader, [])]
        header = [h.lower() for h in raw_header]
        columns: dict[str, int] = {}
        for field, names in REVENUE_HEADERS.items():
            for i, h in enumerate(header):
                if h in names and field not in columns:
                    columns[field] = i
        missing = [
            CsvProblem(row=0, code="revenue.column_missing",
                       params={"column": field, "examples": ", ".join(REVENUE_HEADERS[field][:3])})
            for field in ("contact", "on", "amount")
            if field not in columns
        ]  # fmt: skip
        if missing:
            return RevenueImportReport(problems=tuple(missing), dry_run=dry_run)
        known = {(r.contact_id, r.reference) for r in self.list() if r.reference}
        items: builtins.list[Revenue] = []
        skipped: builtins.list[tuple[int, str, str]] = []
        problems: builtins.list[CsvProblem] = []
        rows = 0

        def cell(row: builtins.list[str], field: str) -> str:
            i = columns.get(field)
            return row[i].strip() if i is not None and i < len(row) else ""

        def problem(
            line: int, row: builtins.list[str], field: str, code: str, **params: Any
        ) -> CsvProblem:
            i = columns.get(field)
            column = raw_header[i] if i is not None else field
            return CsvProblem(row=line, column=column, value=cell(row, field), code=code,
                              params=params)  # fmt: skip

        for line, row in enumerate(reader, start=2):
            if not any(text.strip() for text in row):
                continue
            rows += 1
            number = cell(row, "contact")
            try:
                target = crm._load(number) if number else None
            except NotFoundError:
                target = None
            if target is None:
                code = "revenue.no_contact" if number else "value.required"
                problems.append(problem(line, row, "contact", code))
                continue
            try:
                item = Revenue(
                    contact_id=target.id,
                    amount=parse_amount(cell(row, "amount")),
                    currency=cell(row, "currency") or "EUR",
                    on=parse_day(cell(row, "on")),
                    reference=cell(row, "reference"),
                )
            except ValidationError as exc:
                for finding in exc.findings:
                    field = finding.field if finding.field in columns else "contact"
                    problems.append(problem(line, row, field, finding.code, **dict(finding.params)))
                continue
            if item.reference and (item.contact_id, item.reference) in known:
                skipped.append((line, target.number or target.id, item.reference))
                continue
            known.add((item.contact_id, item.reference))
            items.append(item)
        if problems or dry_run:
            return RevenueImportReport(rows=rows, imported=0 if problems else len(items),
                                       skipped=tuple(skipped), problems=tuple(problems),
                                       dry_run=dry_run)  # fmt: skip
        with crm.transaction():
            records = record_store(crm.store)
            for item in items:
                records.put_record(RECORD_KIND, item.id, to_dict(item))
            crm._record("create", "contact", None, reason=f"revenue import: {len(items)} rows")
        return RevenueImportReport(rows=rows, imported=len(items), skipped=tuple(skipped))


@attrs.frozen(kw_only=True)
class KpiReport:
    """The key figures of a period, by section; a table in Jupyter, JSON or CSV for tools."""

    period: Period
    today: dt.date
    sections: dict[str, dict[str, Any]]

    def value(self, section: str, name: str) -> Any:
        """One figure (JSON-ready: decimals as text, rates as floats)."""
        return self.sections[section][name]

    def rows(self) -> builtins.list[tuple[str, str, str]]:
        """``(section, figure, value)`` rows; nested figures flattened as ``figure.key``."""
        out: builtins.list[tuple[str, str, str]] = []
        for section, figures in self.sections.items():
            for name, value in figures.items():
                if isinstance(value, dict):
                    for key, inner in value.items():
                        out.append((section, f"{name}.{key}", _show(inner)))
                else:
                    out.append((section, name, _show(value)))
        return out

    def labelled_rows(self, lang: Lang = "en") -> builtins.list[tuple[str, str, str]]:
        """:meth:`rows` with the section and figure named for people, in *lang*.

        ``("customers", "silent_12_months", "37")`` becomes ``("Kunden",
        "seit 12 Monaten ohne Kontakt", "37")`` in German; a figure a plugin
        added without a label keeps its key.
        """
        from crmkit.messages import codes

        known = codes()
        return [
            (
                _label(known, f"kpi.section.{section}", lang, section),
                _figure(known, section, figure, lang),
                _percent(value, lang) if figure.endswith(("_rate", "_share")) else value,
            )
            for section, figure, value in self.rows()
        ]

    def to_json(self) -> str:
        """The report as JSON (period, today, sections)."""
        data = {"period": str(self.period), "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(), "today": self.today.isoformat(),
                "sections": self.sections}  # fmt: skip
        return json.dumps(data, ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        """The rows as CSV (``section;figure;value``), every cell formula-safe."""
        from crmkit.exporting import safe_cell

        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
        writer.writerow(["section", "figure", "value"])
        for row in self.rows():
            writer.writerow([safe_cell(v) for v in row])
        return buffer.getvalue()

    def to_text(self) -> str:
        """An aligned plain-text table for the terminal."""
        rows = self.rows()
        width = max((len(f"{s} {n}") for s, n, _ in rows), default=10)
        lines = [f"KPIs {self.period} ({self.period.start} – {self.period.end})"]
        lines += [f"  {f'{s} {n}':<{width}}  {v}" for s, n, v in rows]
        return "\n".join(lines)

    def to_pandas(self) -> Any:
        """The rows as a :class:`pandas.DataFrame` (needs the ``pandas`` extra)."""
        from crmkit.frames import require_pandas

        pd = require_pandas("KpiReport.to_pandas")
        return pd.DataFrame(self.rows(), columns=["section", "figure", "value"])

    def _repr_html_(self) -> str:
        return html_table(("section", "figure", "value"), self.labelled_rows(),
                          caption=f"KPIs {self.period}")  # fmt: skip


_SILENT_RE = re.compile(r"silent_(\d+)_months")


def _label(known: frozenset[str], code: str, lang: Lang, fallback: str, **params: object) -> str:
    return render(code, lang, **params) if code in known else fallback


def _percent(shown: str, lang: Lang) -> str:
    """A rate shown as a fraction (``"0.9647"``) as a percentage (``"96.5%"``, ``"96,5 %"``)."""
    try:
        value = float(shown)
    except ValueError:  # "—": no figure
        return shown
    text = f"{value * 100:.1f}".removesuffix(".0")
    return f"{text.replace('.', ',')} %" if lang == "de" else f"{text}%"


def _figure(known: frozenset[str], section: str, figure: str, lang: Lang) -> str:
    """The people's name of *figure* (``name`` or ``name.key``) in *section*."""
    name, _, key = figure.partition(".")
    silent = _SILENT_RE.fullmatch(name)
    if silent:
        return _label(known, "kpi.customers.silent", lang, figure, months=silent.group(1))
    if key:
        key = _label(known, f"kpi.age.{key}", lang, key)
        return _label(known, f"kpi.{section}.{name}", lang, figure, key=key)
    return _label(known, f"kpi.{section}.{name}", lang, figure)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _money(value: Decimal | None) -> str | None:
    return str(value.quantize(Decimal("0.01"))) if value is not None else None


class Kpis:
    """``crm.kpis``: the KPI report of a period over the contacts the actor may read."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm

    def _spells(self, contacts: Iterable[Contact]) -> builtins.list[Spell]:
        """The customer spells of *contacts*, reading the audit log once (not once each)."""
        chosen = builtins.list(contacts)
        wanted = {c.id for c in chosen}
        history: dict[str, builtins.list[AuditRecord]] = {}
        for record in self._crm.store.iter_audit():
            if record.entity_id in wanted and any(
                change.field == "relationships" for change in record.changes
            ):
                history.setdefault(record.entity_id, []).append(record)
        out: builtins.list[Spell] = []
        for c in chosen:
            out.extend(customer_spells(c, history.get(c.id, ())))
        return out

    @guarded("read", "contact")
    def spells(self) -> builtins.list[Spell]:
        """Every customer spell (:func:`crmkit.kpis.customer_spells`) of the visible contacts."""
        crm = self._crm
        return self._spells(crm.store.iter_contacts(scope=crm.scope()))

    @guarded("read", "contact")
    def report(
        self,
        period: Period | str | None = None,
        *,
        today: dt.date | None = None,
        currency: str = "EUR",
        silent_months: int = 12,
    ) -> KpiReport:
        """Leads, customers, revenue and data quality for *period* (default: the current quarter).

        Leads: new per source, won/lost, conversion rate and median days,
        open leads by age on *today*.  Customers: active at the start and
        end, new, retention and churn over the period, silent for
        *silent_months*.  Revenue (where recorded): total, per customer on
        average, the :data:`TOP_CUSTOMERS` customers with the most revenue (by
        number), average order value, the simple lifetime value
        (:func:`crmkit.kpis.lifetime_value`, assumptions documented there).
        Quality (where snapshots were recorded in the period, see
        :meth:`snapshot`): the last score, legal-basis share and open work
        items, and their change since the first snapshot of the period.
        """
        crm = self._crm
        day = today or crm.today()
        chosen = period if isinstance(period, Period) else (
            Period.parse(period) if period is not None else Period.quarter_of(day)
        )  # fmt: skip
        currency = normal_currency(currency)
        if isinstance(silent_months, bool) or not isinstance(silent_months, int):
            raise ValidationError.single("silent_months", "value.type", expected="int",
                                         actual=type(silent_months).__name__)  # fmt: skip
        if not 1 <= silent_months <= 1200:
            raise ValidationError.single("silent_months", "value.choice", value=silent_months,
                                         choices="1 … 1200")  # fmt: skip
        # A period reaching past today counts up to today: no figures from the future.
        so_far = Period(chosen.start, max(chosen.start, min(chosen.end, day)), chosen.label)
        contacts = builtins.list(crm.store.iter_contacts(scope=crm.scope()))
        visible = {c.id for c in contacts}
        numbers: dict[str, str] = {c.id: c.number or c.id for c in contacts}
        spells = self._spells(contacts)
        conv = lead_conversion(contacts, chosen)
        active_end = active_customers(spells, so_far.end)
        kept = retention(spells, so_far)
        silent = self._silent(sorted(active_end), day, silent_months)
        sections: dict[str, dict[str, Any]] = {
            "leads": {
                "new_by_source": new_leads(contacts, chosen),
                "won": conv["won"],
                "lost": conv["lost"],
                "conversion_rate": _rate(conv["conversion_rate"]),
                "median_days_to_conversion": conv["median_days_to_conversion"],
                "open_by_age": open_leads_by_age(
                    contacts,
                    day,
                    open_days=crm.rules.lead_open_days,
                    stale_days=crm.rules.lead_untouched_days,
                ),
            },
            "customers": {
                "active_at_start": kept.at_start,
                "active_at_end": len(active_end),
                "new": len(new_customers(spells, chosen)),
                "retained": kept.retained,
                "lost": kept.lost,
                "retention_rate": _rate(kept.rate),
                "churn_rate": _rate(kept.churn),
                f"silent_{silent_months}_months": len(silent),
            },
        }
        if "records" in crm.store.capabilities:
            items = [r for r in crm.revenue.list() if r.contact_id in visible]
            if items:
                per = revenue_by_customer(items, chosen, currency)
                total = sum(per.values(), Decimal(0))
                clv = lifetime_value(items, spells, day, currency)
                sections["revenue"] = {
                    "currency": currency,
                    "total": _money(total),
                    "customers_with_revenue": len(per),
                    "per_customer": _money(total / len(per)) if per else None,
                    "top_customers": {
                        numbers.get(cid, cid): _money(amount)
                        for cid, amount in sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[
                            :TOP_CUSTOMERS
                        ]
                    },
                    "average_order_value": _money(average_order_value(items, chosen, currency)),
                    "yearly_revenue_per_customer": _money(clv.yearly_revenue),
                    "customer_lifetime_years": clv.lifetime_years,
                    "customer_lifetime_value": _money(clv.value),
                }
        trend = quality_trend(self.snapshots(), chosen)
        if trend:
            sections["quality"] = trend
        return KpiReport(period=chosen, today=day, sections=sections)

    @guarded("update", "contact")
    def snapshot(self, today: dt.date | None = None) -> QualitySnapshot:
        """Record the data quality of *today* (default: today) for the trend; returns it.

        The quality score of ``crm.check()``, the share of contacts with a
        documented legal basis and the open worklist items by kind, kept as
        a ``snapshot`` record (one per day: a second one the same day
        replaces the first).  Run it on a schedule (a cron job, weekly).
        """
        crm = self._crm
        day = today or crm.today()
        contacts = builtins.list(crm.store.iter_contacts(include_archived=False, scope=crm.scope()))
        findings = builtins.list(crm.check())
        kinds = [item.kind for item in crm.worklist(day)]
        snap = quality_snapshot(contacts, findings, kinds, day)
        with crm.transaction():
            record_store(crm.store).put_record(SNAPSHOT_KIND, day.isoformat(), snap.to_dict())
        return snap

    @guarded("read", "contact")
    def snapshots(self) -> builtins.list[QualitySnapshot]:
        """The recorded quality snapshots, oldest first."""
        store = self._crm.store
        if "records" not in store.capabilities:
            return []
        return [
            QualitySnapshot.from_dict(data)
            for _, data in record_store(store).iter_records(SNAPSHOT_KIND)
        ]

    def _silent(
        self, active: builtins.list[str], today: dt.date, months: int
    ) -> builtins.list[str]:
        """:func:`crmkit.kpis.silent_customers` with the last contacts asked of the store at once.

        The contacts with correspondence since the limit are a segment
        (``last_contact_from``), evaluated in the store in one query; every
        other active customer is silent.
        """
        crm = self._crm
        limit = today - dt.timedelta(days=30 * months)
        recent = Segment(last_contact_from=limit)
        heard = set(segment_ids(crm.store, recent, include_archived=True, scope=crm.scope()))
        return [cid for cid in active if cid not in heard]


__all__ = [
    "REVENUE_HEADERS",
    "KpiReport",
    "Kpis",
    "RevenueApi",
    "RevenueImportReport",
    "parse_amount",
    "parse_day",
]
