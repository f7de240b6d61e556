"""The ``crmkit`` command line: a thin layer over the library.

The store comes from ``--db PATH`` (a SQLite file), ``--url URL`` or the
``CRMKIT_URL`` environment variable, else ``./crm.db``.  Messages are in
English or German (``--lang``, ``CRMKIT_LANG`` or the locale).  Bad input
exits with status 2 and one clear line, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, cast

import click
from rich.console import Console
from rich.table import Table

import crmkit
from crmkit.auth import Actor, Policy
from crmkit.crm import CRM
from crmkit.errors import CrmkitError, PermissionDenied
from crmkit.io.policy import load_policy
from crmkit.messages import Lang, render
from crmkit.model import Company, Contact, Person
from crmkit.plugins import Hooks, make_plugin_manager
from crmkit.sample import demo_dataset

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
    def crm(self) -> Iterator[CRM]:
        """Open the configured store for one command, saying who we run as."""
        with crmkit.open(self.url, actor=self.actor, policy=self.policy) as crm:
            if self.actor is None:
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
        table.add_column(column)
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
                for contact in list(crm.contacts.all(include_archived=True)):
                    crm.store.delete_contact(contact.id)
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


__all__ = ["main"]
