"""The ``crmkit`` command line: a thin layer over the library.

The store comes from ``--db PATH`` (a SQLite file), ``--url URL`` or the
``CRMKIT_URL`` environment variable, else ``./crm.db``.  Messages are in
English or German (``--lang``, ``CRMKIT_LANG`` or the locale).  Bad input
exits with status 2 and one clear line, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast
from zoneinfo import ZoneInfo

import attrs
import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

import crmkit
from crmkit.auth import Actor, Policy
from crmkit.campaigns import CampaignMember
from crmkit.correspondence import (
    CHANNELS,
    DIRECTIONS,
    INTERNAL_CHANNELS,
    CorrespondenceEntry,
    FollowUp,
    Timeline,
)
from crmkit.crm import CRM
from crmkit.errors import CrmkitError, NotFoundError, PermissionDenied, ValidationError
from crmkit.io.policy import load_policy
from crmkit.messages import Lang, render
from crmkit.model import Company, Contact, Person, Relationship
from crmkit.plugins import Hooks, make_plugin_manager
from crmkit.privacy import Tombstone
from crmkit.sample import SampleData, SampleEntry, demo_dataset
from crmkit.segments import Segment
from crmkit.store import record_store

if TYPE_CHECKING:  # pragma: no cover
    from crmkit.correspondence_import import ImportReport

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_DB = "crm.db"


def _default_lang() -> Lang:
    for var in ("CRMKIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "de" if value.lower().startswith("de") else "en"
    return "en"


class Context:
    """What every command gets: store, language, console, actor and policy."""

    def __init__(
        self,
        url: str,
        lang: Lang,
        console: Console,
        actor: Actor | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.url = url
        self.lang = lang
        self.console = console
        self.actor = actor
        self.policy = policy

    def say(self, code: str, **params: object) -> str:
        """The message *code* in the chosen language."""
        return render(code, self.lang, **params)

    def bullet(self, code: str, **params: object) -> None:
        """Print the message *code* as one bullet line."""
        self.console.print("  • " + self.say(code, **params))

    @contextmanager
    def crm(self, *, announce: bool = True) -> Iterator[CRM]:
        """Open the configured store for one command, saying who we run as (if *announce*)."""
        with crmkit.open(self.url, actor=self.actor, policy=self.policy) as crm:
            if not announce:  # machine-readable output (--format json|csv) stays clean
                pass
            elif self.actor is None:
                self.console.print(f"[dim]{self.say('cli.local_admin')}[/dim]")
            else:
                self.console.print(f"[dim]{self.say('cli.actor', actor=str(crm.actor))}[/dim]")
            yield crm


def _store_url(db: str | None, url: str | None) -> str:
    if url:
        return url
    if db:
        return f"sqlite:///{db}"  # an absolute path gives sqlite:////abs/path
    return os.environ.get("CRMKIT_URL") or f"sqlite:///{DEFAULT_DB}"


class _Group(click.Group):
    """Turns crmkit errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CrmkitError as exc:
            obj = ctx.find_object(Context)
            lang: Lang = obj.lang if obj is not None else _default_lang()
            click.echo(render("cli.error", lang, detail=exc.message(lang)), err=True)
            ctx.exit(2)

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_plugin_commands(self)
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        _add_plugin_commands(self)
        return super().get_command(ctx, cmd_name)


def _add_plugin_commands(group: click.Group) -> None:
    if getattr(group, "_crmkit_plugins_loaded", False):
        return
    group._crmkit_plugins_loaded = True  # type: ignore[attr-defined]
    try:
        commands = Hooks(make_plugin_manager()).commands()
    except CrmkitError as exc:
        click.echo(render("cli.error", _default_lang(), detail=exc.message()), err=True)
        return
    for command in commands:
        if isinstance(command, click.Command) and command.name not in group.commands:
            group.add_command(command)


@click.group(cls=_Group)
@click.option("--db", metavar="PATH", help="SQLite file to use (default ./crm.db).")
@click.option("--url", metavar="URL", help="Store URL such as memory:// or sqlite:///crm.db.")
@click.option(
    "--lang",
    type=click.Choice(["en", "de"]),
    default=None,
    help="Language of messages (default from CRMKIT_LANG or the locale).",
)
@click.option(
    "--as",
    "actor_id",
    metavar="ID",
    envvar="CRMKIT_ACTOR",
    help="Act as this actor (default: the local administrator).",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    envvar="CRMKIT_ROLES",
    help="Role of the actor given with --as (repeatable; default staff).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(exists=True, dir_okay=False),
    envvar="CRMKIT_POLICY",
    help="Policy file (TOML or JSON) with roles.",
)
@click.version_option(crmkit.__version__, "--version", prog_name="crmkit")
@click.pass_context
def main(
    ctx: click.Context,
    db: str | None,
    url: str | None,
    lang: str | None,
    actor_id: str | None,
    roles: tuple[str, ...],
    policy_file: str | None,
) -> None:
    """crmkit: contacts, roles, duplicates and GDPR duties for German firms and Vereine."""
    chosen = cast(Lang, lang) if lang in ("en", "de") else _default_lang()
    policy = load_policy(policy_file) if policy_file else None
    role_set = {r for item in roles for r in item.replace(",", " ").split()}
    actor = Actor(id=actor_id, roles=role_set or {"staff"}) if actor_id else None
    ctx.obj = Context(_store_url(db, url), chosen, Console(highlight=False), actor, policy)


pass_context = click.make_pass_decorator(Context)


@main.command()
def version() -> None:
    """Print the crmkit version."""
    click.echo(f"crmkit {crmkit.__version__}")


@main.command()
@pass_context
def plugins(obj: Context) -> None:
    """List the loaded plugins and the store URL schemes they provide."""
    hooks = Hooks(make_plugin_manager())
    schemes: dict[str, list[str]] = {}
    for scheme, (_factory, plugin) in hooks.store_factories().items():
        schemes.setdefault(plugin, []).append(f"{scheme}://")
    table = Table(title="crmkit plugins")
    for column in ("name", "distribution", "version", "stores", "hooks"):
        # Names stay whole; the lists wrap between their items.
        table.add_column(column, no_wrap=column in ("name", "distribution"))
    for info in hooks.plugins():
        table.add_row(
            info.name,
            info.distribution or "",
            info.version or "",
            ", ".join(sorted(schemes.get(info.name, []))),
            ", ".join(h.removeprefix("crmkit_") for h in info.hooks),
        )
    obj.console.print(table)


@main.command()
@click.option("--reset", is_flag=True, help="Delete the contacts already in the store first.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed of the sample.")
@pass_context
def demo(obj: Context, reset: bool, seed: int) -> None:
    """Build a realistic German sample in the store and show what was made."""
    data = demo_dataset(seed)
    with obj.crm() as crm:
        existing = crm.contacts.count(include_archived=True)
        if existing and not reset:
            raise CrmkitError(obj.say("cli.demo.not_empty", url=crm.url, count=existing))
        with crm.transaction():
            if reset:
                crm.require("erase", "contact")
                _delete_demo_store(crm)
            crm.contacts.add_many(data.companies)
            crm.contacts.add_many(data.persons)
            for aff in data.affiliations:
                crm.affiliations.link(
                    aff.person_id,
                    aff.company_id,
                    position=aff.position,
                    department=aff.department,
                    roles=aff.roles,
                    primary=aff.primary,
                )
            _log_demo_entries(crm, data.entries)
            for address in data.bounces:
                crm.bounces.record(address, "hard", detail="550 5.1.1 user unknown")
        _print_companies(obj, crm)
        obj.console.print(
            obj.say(
                "cli.demo.created",
                companies=len(data.companies),
                persons=len(data.persons),
                affiliations=len(data.affiliations),
                url=crm.url,
            )
        )
        obj.console.print(obj.say("cli.demo.findings"))
        for en, de in data.planted:
            obj.console.print(f"  • {de if obj.lang == 'de' else en}")
        warnings = [f for c in crm.contacts.all() for f in crm.contacts.validate(c)]
        for finding in warnings[:3]:
            contact = crm.contacts.get(finding.contact_id or "")
            obj.console.print(f"  • {contact.number} {finding.message(obj.lang)}")
        _demo_actors(obj, crm)
        _demo_history(obj, crm, data)
        _demo_consents(obj, crm, data)
        _demo_quality(obj, crm)
        if "records" in crm.store.capabilities:
            _demo_campaign(obj, crm)
            _demo_kpis(obj, crm, data)


def _demo_consents(obj: Context, crm: CRM, data: SampleData) -> None:
    """A consent clarification run through reminders to each end state, and the decisions."""
    people = [p for p in data.persons if p.emails and p.legal_basis is not None][:3]
    if len(people) < 3:
        return
    now = crm.now()

    def day(n: int) -> dt.datetime:
        return now + dt.timedelta(days=n)

    with crm.transaction():
        for person in people:
            crm.consents.record(person, "newsletter", "requested", at=day(-50), channel="email",
                                source="Klärung Newsletter-Verteiler",
                                request_id=f"demo-{person.id[:8]}")  # fmt: skip
        crm.consents.run_schedule(day(-36).date())  # first reminder, day 14
        crm.consents.run_schedule(day(-22).date())  # second reminder, day 28
        crm.consents.record_answer(
            people[0], "newsletter", "granted", at=day(-20), channel="survey",
            source="Umfrage Newsletter", text="Ja, ich möchte den Newsletter erhalten.",
            text_version="2026-1",
        )  # fmt: skip
        crm.consents.record_answer(people[1], "newsletter", "declined", at=day(-15),
                                   channel="survey", source="Umfrage Newsletter")  # fmt: skip
        crm.consents.run_schedule(day(-8).date())  # day 42: no response
    obj.console.print(obj.say("cli.demo.consents"))
    for person in people:
        found = crm.consents.case(person, "newsletter")
        decision = crm.consents.may_contact(person, "newsletter", "email")
        stage = found.stage if found else "none"
        obj.console.print(
            f"  • {person.display_name}: {obj.say('cli.demo.case.' + stage)} — "
            f"{decision.reason(obj.lang)}",
            markup=False,
            highlight=False,
        )


def _demo_quality(obj: Context, crm: CRM) -> None:
    """The data-quality score and the worklist in a few lines."""
    report = crm.check()
    obj.console.print(
        obj.say("cli.demo.quality", score=f"{report.score:.0%}", **report.by_severity())
    )
    worklist = crm.worklist()
    counts = worklist.counts()
    obj.console.print(obj.say("cli.demo.worklist", count=len(worklist)))
    for kind, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        example = worklist.of_kind(kind)[0]
        obj.console.print(
            f"  • {count} × {kind}: {example.reason(obj.lang)}", markup=False, highlight=False
        )
    obj.console.print(obj.say("cli.demo.quality_try"))


def _demo_campaign(obj: Context, crm: CRM) -> None:
    """A saved segment, and a newsletter list from it with every exclusion and its reason."""
    name = "Ansprechpartner mit E-Mail"
    segment = Segment(kind="person", has_email=True)
    crm.segments.save(name, segment)
    signed_up = [c for c in crm.segments.members(segment) if c.legal_basis is not None][3:7]
    with crm.transaction():
        for person in signed_up:  # newsletter sign-ups through the web form (double opt-in)
            crm.consents.record(person, "newsletter", "granted", channel="web_form",
                                source="https://www.muster-gmbh.de/newsletter",
                                at=crm.now() - dt.timedelta(days=40))  # fmt: skip
    obj.console.print(
        obj.say("cli.demo.segment", name=name, count=crm.segments.count(name)),
        markup=False,
        highlight=False,
    )
    campaign = crm.campaigns.create("Newsletter Dezember", name, "newsletter", "email")
    excluded = campaign.excluded
    obj.console.print(
        obj.say(
            "cli.demo.campaign",
            name=campaign.name,
            included=len(campaign.included),
            excluded=len(excluded),
        ),
        markup=False,
        highlight=False,
    )
    for member in campaign.included[:2]:
        obj.console.print(f"  ✓ {member.number} {member.name}: {member.reason(obj.lang)}",
                          markup=False, highlight=False)  # fmt: skip
    reasons: dict[str, list[CampaignMember]] = {}
    for member in excluded:
        reasons.setdefault(member.decision.code, []).append(member)
    for members in sorted(reasons.values(), key=lambda ms: (-len(ms), ms[0].number)):
        first = members[0]
        more = obj.say("cli.demo.campaign_more", count=len(members) - 1) if len(members) > 1 else ""
        obj.console.print(
            f"  ✗ {first.number} {first.name}: {first.reason(obj.lang)}{more}",
            markup=False,
            highlight=False,
        )


def _demo_kpis(obj: Context, crm: CRM, data: SampleData) -> None:
    """Revenue for the customer companies, a quality snapshot and the KPI report of the quarter."""
    today = crm.today()
    customers = [c for c in data.companies if Relationship.CUSTOMER in c.relationships]
    with crm.transaction():  # customers for years already, not since the demo ran
        for i, company in enumerate(customers):
            stored = crm.contacts.get(company.id)
            since = today - dt.timedelta(days=120 + 173 * i)
            crm.contacts.update(attrs.evolve(stored, customer_since=since))
    with crm.transaction():
        for i, company in enumerate(customers):
            for n in range(1 + i % 3):
                amount = Decimal(480 + 135 * ((i * 7 + n * 3) % 11)).quantize(Decimal("0.01"))
                on = today - dt.timedelta(days=5 + 23 * n + 4 * i)
                crm.revenue.record(company, amount, "EUR", on, reference=f"RE-{i:03d}-{n}")
    crm.kpis.snapshot(today)
    report = crm.kpis.report(today=today)
    obj.console.print(obj.say("cli.demo.kpis", period=str(report.period)))
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="dim")
    table.add_column()
    table.add_column(justify="right")
    shown = report.labelled_rows(obj.lang)
    previous = ""
    for (section, figure, value), (_s, key, _v) in zip(shown, report.rows(), strict=True):
        if not key.startswith("open_items."):  # the worklist above lists them
            table.add_row(section if section != previous else "", figure, value)
            previous = section
    obj.console.print(table)
    obj.console.print(obj.say("cli.demo.kpis_try"))


def _delete_demo_store(crm: CRM) -> None:
    """Remove every contact, their correspondence first (the caller checked ``erase``)."""
    contacts = list(crm.contacts.all(include_archived=True))
    deleted: set[str] = set()
    for contact in contacts:
        for entry in crm.correspondence.timeline(contact):
            if entry.id not in deleted:
                crm.store.delete_entry(entry.id)
                deleted.add(entry.id)
    if "records" in crm.store.capabilities:  # segments, campaign lists, revenue, snapshots
        records = record_store(crm.store)
        for kind in ("segment", "campaign", "revenue", "snapshot"):
            for key, _data in records.iter_records(kind):
                records.delete_record(kind, key)
    today = crm.today()
    for contact in contacts:  # the ledger, holds, bounces … go with them
        tombstone = Tombstone(contact_id=contact.id, number=contact.number or "",
                              erased_on=today, reason="demo --reset")  # fmt: skip
        crm.store.erase_contact(contact.id, tombstone)


def _log_demo_entries(crm: CRM, entries: Sequence[SampleEntry]) -> None:
    """Log the sample's correspondence, its days counted from today (by the CRM's clock)."""
    today = _today(crm)
    for item in entries:
        day = today + dt.timedelta(days=item.day)
        occurred = dt.datetime.combine(day, dt.time.fromisoformat(item.time), tzinfo=_ZONE)
        follow_up = (
            FollowUp(due=today + dt.timedelta(days=item.follow_up_day), assignee=item.assignee)
            if item.follow_up_day is not None
            else None
        )
        entry = crm.correspondence.log(
            list(item.contact_ids),
            item.channel,
            occurred_at=occurred,
            direction=item.direction,
            subject=item.subject,
            content=item.content,
            agreements=item.agreements,
            next_steps=item.next_steps,
            follow_up=follow_up,
        )
        if item.follow_up_done:
            crm.correspondence.complete_follow_up(entry, by=item.assignee)


def _demo_history(obj: Context, crm: CRM, data: SampleData) -> None:
    """Show the correspondence of the sample: Muster GmbH's timeline and the open follow-ups."""
    obj.console.print(obj.say("cli.demo.logged", count=len(data.entries)))
    muster = crm.contacts.get(data.companies[0].id)
    number = muster.number or muster.id
    _print_timeline(obj, crm, number, include_company=True)
    open_ = crm.correspondence.open_follow_ups()
    _print_follow_ups(obj, crm, open_)
    commands = [
        f"crmkit timeline {number} --company --channel phone",
        "crmkit --as anna followups --mine",
    ]
    if open_:
        commands.append(f"crmkit done {open_[0].id[:SHORT_ID]}")
    obj.console.print(Text(obj.say("cli.demo.try", commands="; ".join(commands))))


def _demo_actors(obj: Context, crm: CRM) -> None:
    """Show two actors with different roles, and a denied action."""
    anna = crm.as_actor(Actor(id="anna", name="Anna (Vertrieb)", roles={"sales"}))
    rita = crm.as_actor(Actor(id="rita", name="Rita (Lesezugriff)", roles={"readonly"}))
    obj.console.print(obj.say("cli.demo.actors"))
    total = crm.contacts.count()
    obj.bullet("cli.demo.sees", actor=anna.actor.name, count=anna.contacts.count(), total=total)
    target = next(c for c in anna.contacts.all() if isinstance(c, Company))
    try:
        anna.contacts.archive(target)
    except PermissionDenied as exc:
        obj.bullet(
            "cli.demo.denied",
            actor=anna.actor.name,
            number=target.number,
            error=exc.message(obj.lang),
        )
    noted = next((c for c in crm.contacts.all() if c.notes), None)
    if noted is not None:
        seen = rita.contacts.get(noted.number or noted.id)
        obj.bullet(
            "cli.demo.hidden",
            actor=rita.actor.name,
            number=seen.number,
            fields=", ".join(sorted(seen.redacted)),
        )


def _print_companies(obj: Context, crm: CRM) -> None:
    table = Table(
        title="Demo: Unternehmen und Ansprechpartner"
        if obj.lang == "de"
        else "Demo: companies and their people"
    )
    for column in (
        "Nr.",
        "Name",
        "Beziehung" if obj.lang == "de" else "relationship",
        "Ansprechpartner" if obj.lang == "de" else "people",
    ):
        table.add_column(column)
    for contact in crm.contacts.all():
        if not isinstance(contact, Company):
            continue
        people = [
            f"{p.display_name} ({a.position or '-'}"
            + (f"; {', '.join(sorted(a.roles))}" if a.roles else "")
            + ")"
            for a, p in crm.affiliations.people(contact)
        ]
        table.add_row(
            contact.number or "",
            contact.name,
            ", ".join(sorted(r.value for r in contact.relationships)),
            "\n".join(people) or "—",
        )
    obj.console.print(table)


def _contact_table(obj: Context, title: str, contacts: list[Contact], extra: list[str]) -> Table:
    de = obj.lang == "de"
    table = Table(title=title)
    for column in ("Nr.", "Name", "Art" if de else "kind", "E-Mail", "Telefon" if de else "phone"):
        table.add_column(column)
    for i, contact in enumerate(contacts):
        table.add_row(
            contact.number or "",
            contact.display_name + (f" [dim]({extra[i]})[/dim]" if extra and extra[i] else ""),
            ("Person" if de else "person")
            if contact.kind == "person"
            else ("Firma" if de else "company"),
            contact.primary_email or "—",
            contact.phones[0].display if contact.phones else "—",
        )
    return table


@main.command(name="search")
@click.argument("text", required=False, default="")
@click.option("--kind", type=click.Choice(["person", "company"]), default=None)
@click.option("--relationship", "relationships", multiple=True, help="customer, supplier …")
@click.option("--tag", "tags", multiple=True, help="Only contacts with this tag (repeatable).")
@click.option("--archived", is_flag=True, help="Include archived contacts.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
@pass_context
def search_command(
    obj: Context,
    text: str,
    kind: str | None,
    relationships: tuple[str, ...],
    tags: tuple[str, ...],
    archived: bool,
    limit: int,
) -> None:
    """Find contacts by name, number (C00001), e-mail, domain (@muster.de) or phone."""
    with obj.crm() as crm:
        found = crm.search(
            text,
            kind=kind,
            relationships=relationships,
            tags=tags,
            include_archived=archived,
            limit=limit,
        )
        obj.console.print(_contact_table(obj, f"{len(found)} × „{text}“", found, []))


@main.command()
@click.argument("number")
@pass_context
def lookup(obj: Context, number: str) -> None:
    """Caller-id: who is behind a phone number (any format)?"""
    with obj.crm() as crm:
        matches = crm.lookup_phone(number)
        label = "Zentrale" if obj.lang == "de" else "switchboard"
        extra = [label if m.match == "switchboard" else "" for m in matches]
        obj.console.print(_contact_table(obj, number, [m.contact for m in matches], extra))


@main.command()
@click.argument("ref")
@pass_context
def show(obj: Context, ref: str) -> None:
    """Show one contact by number (C00001) or id."""
    with obj.crm() as crm:
        contact = crm.contacts.get(ref)
        table = Table(title=f"{contact.number} {contact.display_name}", show_header=False)
        table.add_column("field")
        table.add_column("value")
        table.add_row("kind", contact.kind)
        if isinstance(contact, Person):
            table.add_row(
                "name",
                " ".join(
                    p
                    for p in (
                        contact.salutation,
                        contact.title,
                        contact.first_name,
                        contact.last_name,
                    )
                    if p
                ),
            )
        elif isinstance(contact, Company):
            table.add_row("legal form", contact.legal_form or "—")
        table.add_row("relationships", ", ".join(sorted(r.value for r in contact.relationships)))
        table.add_row("e-mail", "\n".join(e.address for e in contact.emails) or "—")
        table.add_row("phone", "\n".join(f"{p.display} ({p.label})" for p in contact.phones) or "—")
        table.add_row("address", "\n".join(str(a) for a in contact.addresses) or "—")
        table.add_row("tags", ", ".join(sorted(contact.tags)) or "—")
        obj.console.print(table)


# --------------------------------------------------------------------------- correspondence

#: Times on the command line are read and shown in this zone.
TIMEZONE: Final = "Europe/Berlin"
_ZONE: Final = ZoneInfo(TIMEZONE)
#: Longest content shown in a timeline cell (the rest is cut with "…").
CONTENT_PREVIEW: Final = 120
#: How many characters of an entry id the follow-up list shows (``done`` takes any unique prefix).
SHORT_ID: Final = 8
#: German (and a few English) words accepted for ``--channel``, after ``-`` and spaces became ``_``.
CHANNEL_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "telefon": "phone",
        "anruf": "phone",
        "call": "phone",
        "termin": "meeting",
        "besuch": "meeting",
        "e_mail": "email",
        "mail": "email",
        "brief": "letter",
        "chat": "messenger",
        "whatsapp": "messenger",
        "notiz": "internal_note",
        "interne_notiz": "internal_note",
        "note": "internal_note",
        "vereinsnotiz": "association_note",
    }
)
#: German words and short forms accepted for ``--direction``.
DIRECTION_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "in": "inbound",
        "eingehend": "inbound",
        "out": "outbound",
        "ausgehend": "outbound",
        "intern": "internal",
    }
)


def _channel_name(value: str) -> str:
    """The channel behind *value*: ``Telefon`` → ``phone``; unknown names pass through."""
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    return CHANNEL_ALIASES.get(key, key)


def _direction_name(value: str) -> str:
    """The direction behind *value*: ``eingehend`` → ``inbound``."""
    key = value.strip().lower()
    return DIRECTION_ALIASES.get(key, key)


def _parse_date(option: str, text: str) -> dt.date:
    """A day written ``2026-11-27`` or ``27.11.2026``; else a one-line validation error."""
    value = text.strip()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError:
        raise ValidationError.single(option, "cli.bad_date", value=text) from None


def _parse_moment(option: str, text: str) -> dt.datetime:
    """A point in time (ISO 8601 or ``23.11.2026 09:30``); without a zone it is Berlin time."""
    value = text.strip()
    moment: dt.datetime | None = None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        for pattern in ("%d.%m.%Y %H:%M", "%d.%m.%Y"):
            try:
                moment = dt.datetime.strptime(value, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        raise ValidationError.single(option, "cli.bad_datetime", value=text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_ZONE)


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of *day* in Berlin (``--since`` means Berlin days, not UTC days)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=_ZONE)


def _day_end(day: dt.date) -> dt.datetime:
    """The last moment of *day* in Berlin (``--until`` is inclusive)."""
    return _day_start(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def _today(crm: CRM) -> dt.date:
    """Today in Berlin by the CRM's clock."""
    return crm.now().astimezone(_ZONE).date()


def _fmt_day(obj: Context, day: dt.date) -> str:
    """``27.11.2026`` in German, ``2026-11-27`` in English."""
    return day.strftime("%d.%m.%Y") if obj.lang == "de" else day.isoformat()


def _fmt_moment(obj: Context, moment: dt.datetime) -> str:
    """Day and time in Berlin: ``23.11.2026 09:30`` / ``2026-11-23 09:30``."""
    local = moment.astimezone(_ZONE)
    return f"{_fmt_day(obj, local.date())} {local:%H:%M}"


def _channel_label(obj: Context, channel: str) -> str:
    """``Telefon`` / ``Phone`` for ``phone``; channels crmkit does not know as they are."""
    return obj.say(f"cli.channel.{channel}") if channel in CHANNELS else channel


def _direction_label(obj: Context, direction: str) -> str:
    """``eingehend`` / ``inbound`` for ``inbound``."""
    return obj.say(f"cli.direction.{direction}") if direction in DIRECTIONS else direction


def _shorten(text: str, limit: int = CONTENT_PREVIEW) -> str:
    """*text* on one line, cut after *limit* characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _headline(entry: CorrespondenceEntry) -> str:
    """The subject, or the start of the first text the entry has."""
    return entry.subject or _shorten(entry.content or entry.agreements or entry.next_steps, 60)


class _ContactNames:
    """Numbers and names of contacts, looked up once each, as the actor may see them."""

    def __init__(self, crm: CRM) -> None:
        self._crm = crm
        self._seen: dict[str, str | None] = {}

    def __call__(self, contact_id: str) -> str | None:
        if contact_id not in self._seen:
            try:
                self._seen[contact_id] = str(self._crm.contacts.get(contact_id))
            except NotFoundError:
                self._seen[contact_id] = None
        return self._seen[contact_id]

    def of(self, entry: CorrespondenceEntry, *, besides: str | None = None) -> list[str]:
        """The visible contacts of *entry* (except *besides*), as "C00001 Muster GmbH"."""
        names = (self(i) for i in entry.contact_ids if i != besides)
        return [n for n in names if n]


def _follow_up_cell(obj: Context, follow_up: FollowUp, today: dt.date) -> Text:
    """Due day, assignee and state (open, done, overdue in red) on three lines."""
    if not follow_up.is_open:
        state = Text(obj.say("cli.follow_up.done"), style="green")
    elif follow_up.is_overdue(today):
        state = Text(obj.say("cli.follow_up.overdue"), style="bold red")
    else:
        state = Text(obj.say("cli.follow_up.open"), style="yellow")
    due_style = "bold red" if follow_up.is_overdue(today) else ""
    return Text.assemble(
        (_fmt_day(obj, follow_up.due), due_style), "\n", follow_up.assignee or "—", "\n", state
    )


def _timeline_table(
    obj: Context, crm: CRM, timeline: Timeline, target_id: str, *, title_code: str
) -> Table:
    """The rich table of a timeline in four columns, so that it reads in 80 columns too.

    The first column stacks when, channel, direction and author; the next two
    hold subject and (shortened) content, agreements and next steps.
    """
    today = _today(crm)
    names = _ContactNames(crm)
    table = Table(
        title=obj.say(title_code, contact=timeline.title),
        caption=obj.say("cli.timeline.caption", count=len(timeline), zone=TIMEZONE),
        show_lines=True,
    )
    table.add_column(obj.say("cli.col.when"), min_width=16)
    table.add_column(obj.say("cli.col.subject"), overflow="fold")
    table.add_column(obj.say("cli.col.agreed"), overflow="fold")
    table.add_column(obj.say("cli.col.follow_up"), no_wrap=True)
    for entry in timeline:
        when = Text(_fmt_moment(obj, entry.occurred_at) + "\n")
        when.append(_channel_label(obj, entry.channel), style="bold")
        when.append("\n" + _direction_label(obj, entry.direction))
        if entry.internal and entry.direction != "internal":
            when.append(f" ({obj.say('cli.direction.internal')})")
        when.append("\n" + entry.author, style="dim")
        about = Text(entry.subject, style="bold")
        if entry.content:
            about.append(("\n" if entry.subject else "") + _shorten(entry.content))
        others = names.of(entry, besides=target_id)
        if others:
            about.append(
                "\n" + obj.say("cli.timeline.with", names=", ".join(others)), style="dim italic"
            )
        agreed = Text(_shorten(entry.agreements, 2 * CONTENT_PREVIEW))
        if entry.next_steps:
            agreed.append(("\n" if entry.agreements else "") + "→ ")
            agreed.append(_shorten(entry.next_steps, 2 * CONTENT_PREVIEW))
        follow_up = _follow_up_cell(obj, entry.follow_up, today) if entry.follow_up else Text("—")
        table.add_row(when, about, agreed, follow_up)
    return table


def _print_timeline(
    obj: Context,
    crm: CRM,
    ref: str,
    *,
    include_company: bool = False,
    channels: Sequence[str] = (),
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    text: str | None = None,
) -> Timeline:
    """Print the timeline of *ref* (or a friendly line when it is empty) and return it."""
    contact = crm.contacts.get(ref)
    timeline = crm.correspondence.timeline(
        contact,
        include_company=include_company,
        channels=list(channels) or None,
        since=since,
        until=until,
        text=text,
    )
    if not timeline:
        filtered = bool(channels) or since is not None or until is not None or bool(text)
        code = "cli.timeline.no_match" if filtered else "cli.timeline.empty"
        obj.console.print(Text(obj.say(code, contact=str(contact), number=contact.number)))
        return timeline
    title = "cli.timeline.title_company" if include_company else "cli.timeline.title"
    obj.console.print(_timeline_table(obj, crm, timeline, contact.id, title_code=title))
    return timeline


def _print_follow_ups(obj: Context, crm: CRM, entries: Sequence[CorrespondenceEntry]) -> None:
    """Print open follow-ups as a table (soonest first), overdue ones in red."""
    if not entries:
        obj.console.print(Text(obj.say("cli.followups.none")))
        return
    today = _today(crm)
    names = _ContactNames(crm)
    overdue = sum(1 for e in entries if e.follow_up is not None and e.follow_up.is_overdue(today))
    table = Table(
        title=obj.say("cli.followups.title"),
        caption=obj.say(
            "cli.followups.caption",
            count=len(entries),
            overdue=overdue,
            today=_fmt_day(obj, today),
        ),
    )
    table.add_column(obj.say("cli.col.due"), no_wrap=True)
    table.add_column(obj.say("cli.col.contact"), overflow="fold")
    table.add_column(obj.say("cli.col.assignee"), overflow="fold")
    table.add_column(obj.say("cli.col.subject_only"), overflow="fold")
    table.add_column(obj.say("cli.col.entry"), no_wrap=True)
    for entry in entries:
        follow_up = entry.follow_up
        if follow_up is None:  # pragma: no cover - open_follow_ups only returns ones with
            continue
        due = Text(_fmt_day(obj, follow_up.due))
        if follow_up.is_overdue(today):
            due.stylize("bold red")
            due.append("\n" + obj.say("cli.follow_up.overdue"), style="bold red")
        table.add_row(
            due,
            Text("\n".join(names.of(entry)) or "—"),
            Text(follow_up.assignee or "—"),
            Text(_headline(entry)),
            Text(entry.id[:SHORT_ID], style="dim"),
        )
    obj.console.print(table)


@main.command(name="log")
@click.argument("refs", nargs=-1, required=True, metavar="REF...")
@click.option(
    "--channel",
    required=True,
    help="phone, meeting, email, letter, messenger, internal_note, association_note "
    "(German names such as Telefon or Termin work too).",
)
@click.option("--direction", default=None, help="inbound or outbound (not for notes).")
@click.option("--subject", default="", help="Subject line.")
@click.option("--content", default="", help="What was said or written; '-' reads standard input.")
@click.option("--agreements", default="", help="What was agreed.")
@click.option("--next-steps", "next_steps", default="", help="What happens next.")
@click.option("--follow-up", "follow_up", metavar="DATE", help="Due day of a follow-up.")
@click.option("--assignee", metavar="ID", help="Who does the follow-up (an actor id).")
@click.option(
    "--at",
    "at",
    metavar="DATETIME",
    help="When it took place (ISO 8601; without a zone: Berlin time; default: now).",
)
@click.option("--internal", is_flag=True, help="Only for staff allowed to read internal notes.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@pass_context
def log_command(
    obj: Context,
    refs: tuple[str, ...],
    channel: str,
    direction: str | None,
    subject: str,
    content: str,
    agreements: str,
    next_steps: str,
    follow_up: str | None,
    assignee: str | None,
    at: str | None,
    internal: bool,
    tags: tuple[str, ...],
) -> None:
    """Record a call, meeting, letter or note.

    REF is a contact number (C00001) or id; give several for a meeting with
    more than one contact.  Prints the new entry's id.
    """
    name = _channel_name(channel)
    if direction is None and name not in INTERNAL_CHANNELS:
        raise ValidationError.single("", "cli.log.direction_required", channel=channel)
    if assignee and not follow_up:
        raise ValidationError.single("", "cli.log.assignee_needs_follow_up")
    due = _parse_date("--follow-up", follow_up) if follow_up else None
    occurred = _parse_moment("--at", at) if at else None
    if content == "-":
        content = sys.stdin.read().strip()
    with obj.crm() as crm:
        entry = crm.correspondence.log(
            list(refs),
            name,
            occurred_at=occurred or crm.now(),
            direction=_direction_name(direction) if direction is not None else None,
            subject=subject,
            content=content,
            agreements=agreements,
            next_steps=next_steps,
            follow_up=FollowUp(due=due, assignee=assignee) if due is not None else None,
            internal=True if internal else None,
            tags=tags,
        )
        names = _ContactNames(crm)
        obj.console.print(
            Text(
                obj.say(
                    "cli.log.recorded",
                    channel=_channel_label(obj, entry.channel),
                    direction=_direction_label(obj, entry.direction),
                    contacts=", ".join(names.of(entry)),
                    when=_fmt_moment(obj, entry.occurred_at),
                    subject=_headline(entry),
                )
            )
        )
        obj.bullet("cli.log.id", id=entry.id)
        if entry.follow_up is not None:
            due_text = _fmt_day(obj, entry.follow_up.due)
            if entry.follow_up.assignee:
                obj.bullet("cli.log.follow_up", due=due_text, assignee=entry.follow_up.assignee)
            else:
                obj.bullet("cli.log.follow_up_unassigned", due=due_text)


@main.command()
@click.argument("ref")
@click.option(
    "--company",
    "include_company",
    is_flag=True,
    help="Include affiliated contacts: a company's people, a person's companies.",
)
@click.option("--channel", "channels", multiple=True, help="Only this channel (repeatable).")
@click.option("--since", metavar="DATE", help="From this day on (Berlin time).")
@click.option("--until", metavar="DATE", help="Up to and including this day (Berlin time).")
@click.option("--text", metavar="TEXT", help="Only entries containing these words.")
@pass_context
def timeline(
    obj: Context,
    ref: str,
    include_company: bool,
    channels: tuple[str, ...],
    since: str | None,
    until: str | None,
    text: str | None,
) -> None:
    """Show a contact's history, newest first (times in Berlin)."""
    start = _day_start(_parse_date("--since", since)) if since else None
    end = _day_end(_parse_date("--until", until)) if until else None
    with obj.crm() as crm:
        _print_timeline(
            obj,
            crm,
            ref,
            include_company=include_company,
            channels=[_channel_name(c) for c in channels],
            since=start,
            until=end,
            text=text,
        )


@main.command()
@click.option("--due-by", "due_by", metavar="DATE", help="Due on or before this day.")
@click.option("--assignee", metavar="ID", help="Assigned to this actor id.")
@click.option("--mine", is_flag=True, help="Assigned to me (the actor given with --as).")
@pass_context
def followups(obj: Context, due_by: str | None, assignee: str | None, mine: bool) -> None:
    """List open follow-ups, soonest due first (overdue in red)."""
    if mine and assignee:
        raise ValidationError.single("", "cli.followups.mine_or_assignee")
    day = _parse_date("--due-by", due_by) if due_by else None
    with obj.crm() as crm:
        who = crm.actor.id if mine else assignee
        _print_follow_ups(obj, crm, crm.correspondence.open_follow_ups(due_by=day, assignee=who))


@main.command()
@click.argument("entry_id")
@click.option("--note", default=None, help="What was done.")
@pass_context
def done(obj: Context, entry_id: str, note: str | None) -> None:
    """Mark a follow-up done.

    ENTRY_ID is the entry's id, or its first characters as ``crmkit followups`` lists them.
    """
    with obj.crm() as crm:
        key = _open_entry_id(crm, entry_id)
        entry = crm.correspondence.complete_follow_up(key, note=note)
        obj.console.print(
            Text(
                obj.say(
                    "cli.done.completed",
                    subject=_headline(entry),
                    contacts=", ".join(_ContactNames(crm).of(entry)),
                    id=entry.id,
                )
            )
        )


def _open_entry_id(crm: CRM, ref: str) -> str:
    """The id of the one open follow-up whose id starts with *ref*, else *ref* itself."""
    prefix = ref.strip().lower()
    if not prefix:
        return ref
    found = [e.id for e in crm.correspondence.open_follow_ups() if e.id.startswith(prefix)]
    if len(found) > 1:
        raise ValidationError.single(
            "", "cli.done.ambiguous", value=ref, ids=", ".join(i[: SHORT_ID + 4] for i in found)
        )
    return found[0] if found else ref


def _print_report(obj: Context, report: ImportReport) -> None:
    """An import report: the summary in bold, then unmatched values and problems."""
    first, *rest = report.lines(obj.lang)
    obj.console.print(Text(first, style="bold"))
    for line in rest:
        obj.console.print(Text("  • " + line))


@main.command(name="import-mail")
@click.argument("path")
@pass_context
def import_mail(obj: Context, path: str) -> None:
    """Import e-mails: an .eml file, a folder of them, or mbox."""
    with obj.crm() as crm:
        _print_report(obj, crm.correspondence.import_email(path))


@main.command(name="import-whatsapp")
@click.argument("path")
@click.option("--contact", "contact_ref", metavar="REF", help="Put the chat on this contact.")
@click.option("--me", metavar="NAME", help="Your own name as the export shows it.")
@click.option(
    "--timezone", default=TIMEZONE, show_default=True, help="Where the export's times are local."
)
@pass_context
def import_whatsapp(
    obj: Context, path: str, contact_ref: str | None, me: str | None, timezone: str
) -> None:
    """Import a WhatsApp chat export (.txt or .zip).

    Each conversation day becomes one entry on the matched contacts (or on --contact).
    """
    with obj.crm() as crm:
        report = crm.correspondence.import_whatsapp(path, contact_ref, me=me, timezone=timezone)
        _print_report(obj, report)


# The data-quality commands live in their own module (it imports this one).
from crmkit.cli_kpis import (  # noqa: E402
    report_command,
    revenue_import_command,
    snapshot_command,
)
from crmkit.cli_quality import (  # noqa: E402
    check_command,
    duplicates_command,
    export_command,
    import_command,
    merge_command,
    unmerge_command,
    worklist_command,
)
from crmkit.cli_sync import sync_command  # noqa: E402

for _command in (
    report_command,
    snapshot_command,
    revenue_import_command,
    sync_command,
    check_command,
    worklist_command,
    duplicates_command,
    export_command,
    import_command,
    export_command,
    merge_command,
    unmerge_command,
):
    main.add_command(_command)

__all__ = ["main"]
