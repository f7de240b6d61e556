"""The catalogue of user-facing messages, in English and German.

Every message a user reads is looked up here by a stable *code*
(``email.invalid``, ``store.conflict`` …).  Each entry is a pair of
:meth:`str.format` templates, English first, German second, with named
fields.  A test checks that every code used in the code base has both.

Plugins and host applications may add their own codes with
:func:`register_messages`; an existing code is never silently replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Lang = Literal["en", "de"]
LANGS: Final[tuple[Lang, ...]] = ("en", "de")

_CATALOGUE: dict[str, tuple[str, str]] = {
    # --- generic validation -------------------------------------------------
    "value.required": ("{field} is required", "{field} ist ein Pflichtfeld"),
    "value.type": (
        "{field} has the wrong type: expected {expected}, got {actual}",
        "{field} hat den falschen Typ: erwartet {expected}, erhalten {actual}",
    ),
    "value.choice": (
        "{field}: {value!r} is not one of {choices}",
        "{field}: {value!r} ist keiner der erlaubten Werte {choices}",
    ),
    "value.too_long": (
        "{field} is too long ({length} characters, at most {limit})",
        "{field} ist zu lang ({length} Zeichen, höchstens {limit})",
    ),
    "value.control_characters": (
        "{field} contains control characters",
        "{field} enthält Steuerzeichen",
    ),
    "value.invalid": (
        "{field}: {value!r} is not valid ({reason})",
        "{field}: {value!r} ist ungültig ({reason})",
    ),
    # --- names --------------------------------------------------------------
    "person.name_required": (
        "a person needs a last name or a first name",
        "eine Person braucht einen Nachnamen oder einen Vornamen",
    ),
    "company.name_required": (
        "a company needs a name",
        "ein Unternehmen braucht einen Namen",
    ),
    # --- e-mail -------------------------------------------------------------
    "email.invalid": (
        "{value!r} is not a valid e-mail address: {reason}",
        "{value!r} ist keine gültige E-Mail-Adresse: {reason}",
    ),
    "email.undeliverable": (
        "{value!r} cannot receive mail: {reason}",
        "An {value!r} kann keine E-Mail zugestellt werden: {reason}",
    ),
    # --- phone --------------------------------------------------------------
    "phone.invalid": (
        "{value!r} is not a phone number: {reason}",
        "{value!r} ist keine Telefonnummer: {reason}",
    ),
    "phone.impossible": (
        "{value!r} cannot be a phone number ({reason})",
        "{value!r} kann keine Telefonnummer sein ({reason})",
    ),
    "phone.local_only": (
        "{value!r} lacks an area code; write it with the area code, e.g. 030 1234567",
        "{value!r} fehlt die Vorwahl; bitte mit Vorwahl angeben, z. B. 030 1234567",
    ),
    "phone.unassigned": (
        "{value!r} is possible but lies in no assigned number range; please check it",
        "{value!r} ist möglich, liegt aber in keinem vergebenen Nummernbereich; bitte prüfen",
    ),
    "phone.region": (
        "{value!r} is not a known region code (use ISO 3166 alpha-2 such as DE)",
        "{value!r} ist kein bekannter Ländercode (ISO 3166 Alpha-2 wie DE verwenden)",
    ),
    # --- addresses and other values -----------------------------------------
    "country.invalid": (
        "{value!r} is not an ISO 3166 alpha-2 country code (such as DE, AT, CH)",
        "{value!r} ist kein Ländercode nach ISO 3166 Alpha-2 (wie DE, AT, CH)",
    ),
    "postal_code.invalid": (
        "{value!r} is not a valid postal code for {country}",
        "{value!r} ist keine gültige Postleitzahl für {country}",
    ),
    "vat_id.invalid": (
        "{value!r} is not a valid VAT identification number: {reason}",
        "{value!r} ist keine gültige Umsatzsteuer-Identifikationsnummer: {reason}",
    ),
    "website.invalid": (
        "{value!r} is not a web address",
        "{value!r} ist keine Webadresse",
    ),
    "relationship.unknown": (
        "{value!r} is not a relationship; known: {choices}",
        "{value!r} ist keine Beziehungsart; bekannt: {choices}",
    ),
    "phone_label.unknown": (
        "{value!r} is not a phone label; known: {choices}",
        "{value!r} ist keine Telefon-Bezeichnung; bekannt: {choices}",
    ),
    "datetime.naive": (
        "{field} must carry a time zone",
        "{field} muss eine Zeitzone enthalten",
    ),
    "affiliation.period": (
        "the affiliation ends ({until}) before it starts ({since})",
        "die Zugehörigkeit endet ({until}) vor ihrem Beginn ({since})",
    ),
    "affiliation.kind": (
        "{field} must be a {expected}, not a {actual}",
        "{field} muss ein(e) {expected} sein, kein(e) {actual}",
    ),
    "serialize.invalid": (
        "the data cannot be read as {target}: {reason}",
        "die Daten lassen sich nicht als {target} lesen: {reason}",
    ),
    # --- quality and role rules ---------------------------------------------
    "contact.name_implausible": (
        "{name!r} does not look like a real name",
        "{name!r} sieht nicht nach einem echten Namen aus",
    ),
    "person.looks_like_company": (
        "the person {name!r} is named like a company",
        "die Person {name!r} heißt wie ein Unternehmen",
    ),
    "company.looks_like_person": (
        "the company {name!r} is named like a person",
        "das Unternehmen {name!r} heißt wie eine Person",
    ),
    "contact.no_relationship": (
        "{name} has no relationship (customer, supplier, lead, member …)",
        "{name} hat keine Beziehungsart (Kunde, Lieferant, Interessent, Mitglied …)",
    ),
    "contact.no_email": (
        "{name} has no e-mail address (and so cannot be synced to Microsoft 365)",
        "{name} hat keine E-Mail-Adresse (und kann deshalb nicht mit Microsoft 365 "
        "synchronisiert werden)",
    ),
    "contact.email_undeliverable": (
        "mail to {address} of {name} bounced; the address is undeliverable",
        "E-Mails an {address} ({name}) kommen zurück; die Adresse ist unzustellbar",
    ),
    "person.company_domain_unlinked": (
        "{name} has an address at {domain}, a company's domain, but is not linked to it",
        "{name} hat eine Adresse bei {domain}, der Domain eines Unternehmens, ist ihm "
        "aber nicht zugeordnet",
    ),
    "person.not_linked": (
        "{name} is not linked to any company",
        "{name} ist keinem Unternehmen zugeordnet",
    ),
    "affiliation.no_role": (
        "{name} works at a company without position or role",
        "{name} ist einem Unternehmen ohne Position oder Rolle zugeordnet",
    ),
    "company.no_contact_person": (
        "{name} has no contact person",
        "{name} hat keinen Ansprechpartner",
    ),
    "company.no_decision_maker": (
        "{name} has no decision maker",
        "{name} hat keinen Entscheider",
    ),
    "company.no_billing_contact": (
        "{name} has no billing contact",
        "{name} hat keinen Rechnungsempfänger",
    ),
    "customer.no_billing_contact": (
        "the customer {name} has no billing contact",
        "der Kunde {name} hat keinen Rechnungsempfänger",
    ),
    "company.no_technical_contact": (
        "{name} has no technical contact",
        "{name} hat keinen technischen Ansprechpartner",
    ),
    "company.contact_data_incomplete": (
        "{name} lacks general contact data: {missing}",
        "bei {name} fehlen allgemeine Kontaktdaten: {missing}",
    ),
    # --- worklist items -----------------------------------------------------
    "lead.qualify": (
        "new lead {name}: qualify it",
        "neuer Interessent {name}: qualifizieren",
    ),
    "lead.stale": (
        "lead {name} has been open for {days} days",
        "Interessent {name} ist seit {days} Tagen offen",
    ),
    "lead.untouched": (
        "lead {name}: no contact and no change for more than {days} days",
        "Interessent {name}: seit über {days} Tagen kein Kontakt und keine Änderung",
    ),
    "customer.silent": (
        "customer {name}: no contact for more than {days} days",
        "Kunde {name}: seit über {days} Tagen kein Kontakt",
    ),
    "bounce.unprocessed": (
        "{bounce} bounce for {address} not processed yet",
        "{bounce} Unzustellbarkeit für {address} noch nicht bearbeitet",
    ),
    "follow_up.due": (
        "follow-up due: {subject}",
        "Wiedervorlage fällig: {subject}",
    ),
    "follow_up.overdue": (
        "follow-up overdue: {subject}",
        "Wiedervorlage überfällig: {subject}",
    ),
    "quality.sample": (
        "{name} is in the quality sample of {month}",
        "{name} ist in der Qualitätsstichprobe {month}",
    ),
    "lead.not_a_lead": ("{name} is not a lead", "{name} ist kein Interessent"),
    "lead.closed": (
        "the lead {name} is closed already ({status})",
        "der Interessent {name} ist bereits abgeschlossen ({status})",
    ),
    "lead.open_already": (
        "{name} is an open lead already ({status})",
        "{name} ist bereits ein offener Interessent ({status})",
    ),
    "lead.reason_required": (
        "archiving a lead needs a reason",
        "zum Archivieren eines Interessenten ist ein Grund nötig",
    ),
    "contact.no_legal_basis": (
        "{name}: the legal basis for processing is not documented",
        "{name}: die Rechtsgrundlage der Verarbeitung ist nicht dokumentiert",
    ),
    "contact.field_not_needed": (
        "{name}: {field} is not to be collected on the basis {basis} (data minimisation)",
        "{name}: {field} soll auf Grundlage {basis} nicht erhoben werden (Datenminimierung)",
    ),
    # --- suggested actions --------------------------------------------------
    "action.decide_lead": (
        "decide: qualify, convert or archive the lead",
        "entscheiden: qualifizieren, gewinnen oder archivieren",
    ),
    "action.qualify_lead": (
        "contact the lead and qualify it (budget, timeframe, decision maker)",
        "Interessenten kontaktieren und qualifizieren (Budget, Zeitrahmen, Entscheider)",
    ),
    "action.call_customer": ("get in touch with the customer", "Kunden kontaktieren"),
    "action.process_bounce": (
        "check the address, correct or remove it, then mark the bounce processed",
        "Adresse prüfen, korrigieren oder entfernen, dann als bearbeitet markieren",
    ),
    "action.follow_up": ("do what was agreed", "Vereinbartes erledigen"),
    "action.check_sample": (
        "check the contact by hand: name, role, e-mail, phone, address, consent",
        "Kontakt von Hand prüfen: Name, Rolle, E-Mail, Telefon, Anschrift, Einwilligung",
    ),
    "action.clarify_basis": (
        "clarify the legal basis (Rechtsgrundlage klären), e.g. by a consent request",
        "Rechtsgrundlage klären, z. B. über eine Einwilligungsanfrage",
    ),
    "action.remove_field": ("remove the value", "Wert entfernen"),
    "action.fix_name": ("correct the name", "Namen korrigieren"),
    "action.make_company": (
        "store it as a company instead of a person",
        "als Unternehmen statt als Person anlegen",
    ),
    "action.make_person": (
        "store it as a person instead of a company",
        "als Person statt als Unternehmen anlegen",
    ),
    "action.set_relationship": ("set the relationship", "Beziehungsart setzen"),
    "action.add_email": ("add an e-mail address", "E-Mail-Adresse ergänzen"),
    "action.replace_email": (
        "ask for a new address and remove the old one",
        "neue Adresse erfragen und die alte entfernen",
    ),
    "action.link_company": ("link the person to the company", "Person dem Unternehmen zuordnen"),
    "action.set_role": ("set position or role", "Position oder Rolle eintragen"),
    "action.add_person": ("add a contact person", "Ansprechpartner anlegen"),
    "action.add_decision_maker": (
        "find out who decides and mark them as decision maker",
        "Entscheider ermitteln und als Entscheider markieren",
    ),
    "action.add_billing": (
        "ask who receives the invoices and mark them as billing contact",
        "Rechnungsempfänger erfragen und markieren",
    ),
    "action.add_technical": (
        "mark the technical contact",
        "technischen Ansprechpartner markieren",
    ),
    "action.complete_contact_data": ("add: {missing}", "ergänzen: {missing}"),
    # --- consent -------------------------------------------------------------
    "consent.proof_required": (
        "a {kind} consent needs its proof: the channel and the source",
        "eine Einwilligung ({kind}) braucht ihren Nachweis: Kanal und Quelle",
    ),
    "campaign.no_email": (
        "no: there is no e-mail address for an e-mail campaign",
        "nein: für eine E-Mail-Kampagne fehlt eine E-Mail-Adresse",
    ),
    "campaign.bounced": (
        "no: the e-mail address {address} bounced (undeliverable)",
        "nein: die E-Mail-Adresse {address} ist unzustellbar (Bounce)",
    ),
    "campaign.no_phone": (
        "no: there is no phone number for this channel",
        "nein: für diesen Kanal fehlt eine Telefonnummer",
    ),
    "campaign.no_address": (
        "no: there is no postal address for a letter",
        "nein: für einen Brief fehlt eine Postanschrift",
    ),
    "campaign.gone": (
        "no: the contact is no longer in the CRM or not visible",
        "nein: der Kontakt ist nicht mehr im CRM oder nicht sichtbar",
    ),
    "consent.no.restricted": (
        "no: the contact is restricted (Art. 18 GDPR) and may only be stored",
        "nein: der Kontakt ist eingeschränkt (Art. 18 DSGVO) und darf nur gespeichert werden",
    ),
    "consent.no.objected": (
        "no: the person objected to direct marketing on {date} (Art. 21 GDPR)",
        "nein: die Person hat am {date} der Direktwerbung widersprochen (Art. 21 DSGVO)",
    ),
    "consent.yes.letter": (
        "yes: advertising by letter rests on legitimate interest and there is no objection",
        "ja: Briefwerbung stützt sich auf berechtigtes Interesse, und es liegt kein "
        "Widerspruch vor",
    ),
    "consent.no.stale": (
        "no: the consent for {purpose} was last given or used on {date}; confirm it again "
        "before using it",
        "nein: die Einwilligung für {purpose} wurde zuletzt am {date} erteilt oder genutzt; "
        "vor der Nutzung erneut bestätigen lassen",
    ),
    "consent.no.presumed_only": (
        "no: presumed consent covers only phone calls to businesses, not {channel}",
        "nein: mutmaßliche Einwilligung gilt nur für Anrufe bei Unternehmen, nicht für {channel}",
    ),
    "consent.yes.granted": (
        "yes: express consent for {purpose} was given on {date}",
        "ja: ausdrückliche Einwilligung für {purpose} liegt seit {date} vor",
    ),
    "consent.no.declined": (
        "no: the person declined {purpose}",
        "nein: die Person hat {purpose} abgelehnt",
    ),
    "consent.no.withdrawn": (
        "no: the person withdrew the consent for {purpose}",
        "nein: die Person hat die Einwilligung für {purpose} widerrufen",
    ),
    "consent.yes.customer_exception": (
        "yes: existing customer, address from a sale with opt-out notice, own similar "
        "offers, no objection (§7(3) UWG) — give the opt-out notice in this mail too",
        "ja: Bestandskunde, Adresse aus einem Verkauf mit Widerspruchshinweis, eigene "
        "ähnliche Angebote, kein Widerspruch (§7 Abs. 3 UWG) — Hinweis auch in dieser "
        "E-Mail geben",
    ),
    "consent.no.email": (
        "no: advertising by {channel} needs prior express consent (§7(2) Nr. 2 UWG)",
        "nein: Werbung per {channel} braucht eine vorherige ausdrückliche Einwilligung "
        "(§7 Abs. 2 Nr. 2 UWG)",
    ),
    "consent.no.phone_consumer": (
        "no: calling a consumer for advertising needs prior express consent (§7(2) Nr. 1 UWG)",
        "nein: Werbeanrufe bei Verbrauchern brauchen eine vorherige ausdrückliche "
        "Einwilligung (§7 Abs. 2 Nr. 1 UWG)",
    ),
    "consent.no.phone_business": (
        "no: calling a business for advertising needs at least presumed consent, and none "
        "is documented (§7(2) Nr. 1 UWG)",
        "nein: Werbeanrufe bei Unternehmen brauchen mindestens eine mutmaßliche "
        "Einwilligung, und keine ist dokumentiert (§7 Abs. 2 Nr. 1 UWG)",
    ),
    "consent.no_open_decision": (
        "there is no consent case for {purpose} waiting for a decision",
        "es gibt keinen Einwilligungsfall für {purpose}, der auf eine Entscheidung wartet",
    ),
    "consent.case_open": (
        "consent request for {purpose} to {name}: next step {step} due",
        "Einwilligungsanfrage ({purpose}) an {name}: nächster Schritt {step} fällig",
    ),
    "consent.decision_needed": (
        "{name} did not answer the consent request for {purpose}: decide how to go on",
        "{name} hat auf die Einwilligungsanfrage ({purpose}) nicht geantwortet: "
        "Vorgehen entscheiden",
    ),
    "consent.stale": (
        "{name}: the consent for {purpose} was last given or used on {date}",
        "{name}: die Einwilligung für {purpose} wurde zuletzt am {date} erteilt oder genutzt",
    ),
    "action.reconfirm_consent": (
        "ask for re-confirmation before using it (crm.consents.request)",
        "vor der Nutzung erneut bestätigen lassen (crm.consents.request)",
    ),
    "action.consent_step": (
        "send the reminder or close the case (crm.consents.run_schedule)",
        "Erinnerung senden oder Fall schließen (crm.consents.run_schedule)",
    ),
    "action.consent_decide": (
        "follow up again, restart later, or hand over to clean-up",
        "erneut nachfassen, später neu starten oder an die Bereinigung übergeben",
    ),
    "privacy.extension_too_long": (
        "a deadline may be extended by at most two further months, not {months}",
        "eine Frist lässt sich um höchstens zwei weitere Monate verlängern, nicht {months}",
    ),
    "privacy.extension_late": (
        "an extension must be announced within the first month (by {due})",
        "eine Verlängerung muss innerhalb des ersten Monats angekündigt werden (bis {due})",
    ),
    "privacy.reason_required": (
        "a reason is required",
        "eine Begründung ist erforderlich",
    ),
    "privacy.closed": (
        "request {key!r} is closed already",
        "Anfrage {key!r} ist bereits abgeschlossen",
    ),
    "privacy.identity_unverified": (
        "the requester's identity is not verified yet",
        "die Identität der anfragenden Person ist noch nicht geprüft",
    ),
    "privacy.request_due": (
        "{article} request ({request}) of {name} received {received}, due {due}",
        "Anfrage nach {article} ({request}) von {name}, eingegangen {received}, fällig {due}",
    ),
    "action.answer_request": (
        "check the identity, answer or refuse with reasons, or extend with reasons",
        "Identität prüfen, beantworten oder begründet ablehnen, oder begründet verlängern",
    ),
    "privacy.report.title": (
        "Access report (Art. 15 GDPR): {name}",
        "Auskunft nach Art. 15 DSGVO: {name}",
    ),
    "privacy.report.generated": ("Generated on {day}.", "Erstellt am {day}."),
    "privacy.report.contacts": ("Contact data", "Kontaktdaten"),
    "privacy.report.affiliations": ("Affiliations", "Zugehörigkeiten"),
    "privacy.report.correspondence": (
        "Correspondence, internal notes included",
        "Korrespondenz einschließlich interner Notizen",
    ),
    "privacy.report.consents": ("Consent ledger", "Einwilligungsprotokoll"),
    "privacy.report.privacy_requests": ("Privacy requests", "Datenschutzanfragen"),
    "privacy.report.legal_holds": ("Legal holds", "Aufbewahrungssperren"),
    "privacy.report.bounces": ("Bounced mail", "Unzustellbare E-Mails"),
    "privacy.report.audit": ("Audit records", "Protokolleinträge"),
    "privacy.report.recipients": ("Recipients", "Empfänger"),
    "privacy.report.retention": (
        "Storage period and legal basis",
        "Speicherdauer und Rechtsgrundlage",
    ),
    "privacy.erasure_scheduled": (
        "{name} is restricted (Art. 18); erasure possible from {date}",
        "{name} ist eingeschränkt (Art. 18); Löschung möglich ab {date}",
    ),
    "action.run_erasures": (
        "erase on the day with crm.privacy.run_due_erasures()",
        "am Stichtag mit crm.privacy.run_due_erasures() löschen",
    ),
    "retention.unknown_category": (
        "{value!r} is not a retention category; known: {choices}",
        "{value!r} ist keine Aufbewahrungskategorie; bekannt: {choices}",
    ),
    "privacy.hold": (
        "legal hold on {name}: {reason}",
        "Aufbewahrungssperre für {name}: {reason}",
    ),
    "action.review_hold": (
        "check whether the hold still applies; lift it when it ends",
        "prüfen, ob die Sperre noch gilt; nach Ende aufheben",
    ),
    "consent.evidence.title": (
        "Consent evidence: contact {contact}, purpose {purpose}, state {status}",
        "Einwilligungsnachweis: Kontakt {contact}, Zweck {purpose}, Stand {status}",
    ),
    # --- merging duplicates --------------------------------------------------
    "merge.same_contact": (
        "a contact cannot be merged with itself",
        "ein Kontakt kann nicht mit sich selbst zusammengeführt werden",
    ),
    "merge.kind": (
        "only contacts of one kind can be merged: expected a {expected}, got a {actual}",
        "nur Kontakte einer Art lassen sich zusammenführen: erwartet {expected}, erhalten {actual}",
    ),
    "merge.merged_already": (
        "contact {key!r} was merged into another already",
        "Kontakt {key!r} wurde bereits mit einem anderen zusammengeführt",
    ),
    "merge.unknown_source": (
        "{key!r} is not one of the contacts being merged",
        "{key!r} gehört nicht zu den zusammengeführten Kontakten",
    ),
    "merge.undone_already": (
        "merge {key!r} was undone already",
        "Zusammenführung {key!r} wurde bereits rückgängig gemacht",
    ),
    "merge.survivor_gone": (
        "the surviving contact {key!r} no longer exists (erased); the merge cannot be undone",
        "der verbliebene Kontakt {key!r} existiert nicht mehr (gelöscht); die "
        "Zusammenführung lässt sich nicht rückgängig machen",
    ),
    # --- correspondence ------------------------------------------------------
    "correspondence.empty": (
        "an entry needs a subject, content, agreements or next steps",
        "ein Eintrag braucht einen Betreff, einen Inhalt, Vereinbarungen oder nächste Schritte",
    ),
    "correspondence.internal_channel": (
        "entries on the channel {channel!r} are always internal (direction and flag)",
        "Einträge im Kanal {channel!r} sind immer intern (Richtung und Kennzeichen)",
    ),
    "correspondence.reason_required": (
        "a correction needs a reason",
        "eine Korrektur braucht eine Begründung",
    ),
    "correspondence.not_correctable": (
        "{field} cannot be corrected (correctable: {choices})",
        "{field} kann nicht korrigiert werden (korrigierbar: {choices})",
    ),
    "correspondence.no_follow_up": (
        "entry {key!r} has no open follow-up",
        "Eintrag {key!r} hat keine offene Wiedervorlage",
    ),
    # --- importers -----------------------------------------------------------
    "import.summary": (
        "imported: {imported}, extended: {updated}, already there: {duplicates}, "
        "without a known contact: {unmatched_items}, problems: {problems}",
        "importiert: {imported}, ergänzt: {updated}, bereits vorhanden: {duplicates}, "
        "ohne bekannten Kontakt: {unmatched_items}, Probleme: {problems}",
    ),
    "import.unmatched": (
        "not matched to any contact: {values}",
        "keinem Kontakt zugeordnet: {values}",
    ),
    "import.no_file": (
        "{value!r} is neither a file nor a folder",
        "{value!r} ist weder eine Datei noch ein Ordner",
    ),
    "import.unreadable_file": (
        "the file cannot be read: {detail}",
        "die Datei ist nicht lesbar: {detail}",
    ),
    "import.no_date": (
        "the message {text!r} has no readable date; it was not imported",
        "die Nachricht {text!r} hat kein lesbares Datum; sie wurde nicht importiert",
    ),
    "import.not_stored": (
        "{text!r} was not imported: {detail}",
        "{text!r} wurde nicht importiert: {detail}",
    ),
    "import.warning": ("{text}: {detail}", "{text}: {detail}"),
    "import.no_chat_file": (
        "the archive holds no chat text file (.txt)",
        "das Archiv enthält keine Chat-Textdatei (.txt)",
    ),
    "store.entry_shared": (
        "{kind} {key!r} names other contacts too; unlink the erased contact from it first",
        "{kind} {key!r} nennt auch andere Kontakte; den gelöschten Kontakt zuerst davon lösen",
    ),
    "store.contact_has_consents": (
        "contact {key!r} has a consent ledger; it can only be removed by erasure",
        "Kontakt {key!r} hat ein Einwilligungsprotokoll; er kann nur über die Löschung "
        "entfernt werden",
    ),
    "store.contact_has_correspondence": (
        "contact {key!r} still has correspondence; it can only be removed by erasure",
        "Kontakt {key!r} hat noch Korrespondenz; er kann nur über die Löschung entfernt werden",
    ),
    # --- duplicate detection --------------------------------------------------
    "dedup.capped": (
        "the {key} key {value!r} is shared by {count} contacts (more than {cap}); "
        "it found no pairs on its own",
        "der {key}-Schlüssel {value!r} gehört zu {count} Kontakten (mehr als {cap}); "
        "allein hat er keine Paare geliefert",
    ),
    "dedup.summary": (
        "{contacts} contacts, {candidates} pairs compared: {matches} duplicates, "
        "{reviews} to review, {clusters} clusters",
        "{contacts} Kontakte, {candidates} Paare verglichen: {matches} Dubletten, "
        "{reviews} zu prüfen, {clusters} Gruppen",
    ),
    "dedup.verdict.match": ("duplicate", "Dublette"),
    "dedup.verdict.review": ("to review", "zu prüfen"),
    "dedup.thresholds": (
        "{field}: the thresholds must satisfy 0 < review ({review}) <= match ({match}) < 1",
        "{field}: für die Schwellen muss 0 < Prüfung ({review}) <= Dublette ({match}) < 1 gelten",
    ),
    "dedup.unknown_key": (
        "{value!r} is not a blocking key; known: {choices}",
        "{value!r} ist kein Blockschlüssel; bekannt: {choices}",
    ),
    "dedup.weights": (
        "{field}: weights for {value!r} need {count} levels",
        "{field}: Gewichte für {value!r} brauchen {count} Stufen",
    ),
    "dedup.plot_unavailable": (
        "plotting needs matplotlib: pip install 'crmkit[plot]'",
        "für Diagramme wird matplotlib gebraucht: pip install 'crmkit[plot]'",
    ),
    "plot.leads_by_source": ("Leads by source", "Leads nach Quelle"),
    "plot.findings_by_severity": ("Findings by severity", "Befunde nach Schweregrad"),
    "plot.worklist_by_kind": ("Work items by kind", "Aufgaben nach Art"),
    "plot.count": ("count", "Anzahl"),
    "plot.lead_funnel": ("Lead funnel", "Lead-Trichter"),
    "plot.retention": ("Customer retention per period", "Kundenbindung je Zeitraum"),
    "plot.quality_trend": ("Data quality over time", "Datenqualität im Verlauf"),
    "plot.quality_score": ("quality score", "Qualitäts-Score"),
    "plot.legal_basis_share": ("legal basis documented", "Rechtsgrundlage dokumentiert"),
    "dedup.explain": (
        "{field}: {level} ({weight:+.1f})",
        "{field}: {level} ({weight:+.1f})",
    ),
    # --- errors -------------------------------------------------------------
    "error": ("{detail}", "{detail}"),
    "validation": ("invalid input: {detail}", "ungültige Eingabe: {detail}"),
    "not_found": ("{kind} {key!r} was not found", "{kind} {key!r} wurde nicht gefunden"),
    "conflict": (
        "{kind} {key!r} was changed by someone else (you have version {expected}, "
        "the store has {actual}); reload it and apply your change again",
        "{kind} {key!r} wurde inzwischen geändert (Ihre Version {expected}, gespeichert "
        "ist {actual}); bitte neu laden und die Änderung erneut anwenden",
    ),
    "exists": ("{kind} {key!r} exists already", "{kind} {key!r} existiert bereits"),
    "retention_hold": (
        "{kind} {key!r} must be kept until {until} ({basis})",
        "{kind} {key!r} muss bis {until} aufbewahrt werden ({basis})",
    ),
    "consent": ("{detail}", "{detail}"),
    "permission_denied": (
        "{actor} may not {action} {resource}",
        "{actor} darf {resource} nicht {action}",
    ),
    "plugin": (
        "plugin {plugin!r} failed: {detail}",
        "Plugin {plugin!r} ist fehlgeschlagen: {detail}",
    ),
    "plugin.duplicate_scheme": (
        "the URL scheme {scheme!r} is registered twice ({first} and {second})",
        "das URL-Schema {scheme!r} ist doppelt registriert ({first} und {second})",
    ),
    "store": ("store error: {detail}", "Speicherfehler: {detail}"),
    "store.unknown_scheme": (
        "no store for the URL scheme {scheme!r}; known schemes: {known}",
        "kein Speicher für das URL-Schema {scheme!r}; bekannt: {known}",
    ),
    "store.unknown_scheme_install": (
        "no store for the URL scheme {scheme!r}; install {distribution} for {scheme}:// "
        "(known schemes now: {known})",
        "kein Speicher für das URL-Schema {scheme!r}; für {scheme}:// bitte {distribution} "
        "installieren (bekannt sind: {known})",
    ),
    "store.bad_url": (
        "{url!r} is not a store URL such as memory:// or sqlite:///crm.db",
        "{url!r} ist keine Speicher-URL wie memory:// oder sqlite:///crm.db",
    ),
    "store.closed": ("the store is closed", "der Speicher ist geschlossen"),
    "store.no_capability": (
        "the store {url} cannot keep segments, campaigns and revenue (it lacks the "
        "{capability!r} capability); use the memory or SQLite store or upgrade the backend",
        "der Speicher {url} kann keine Segmente, Kampagnen und Umsätze ablegen (ihm fehlt die "
        "Fähigkeit {capability!r}); bitte den Memory- oder SQLite-Speicher nutzen oder das "
        "Backend aktualisieren",
    ),
    # --- contact sync ---------------------------------------------------------
    "sync.unsupported_store": (
        "the store at {url} cannot keep sync links (it lacks the 'sync_links' capability)",
        "der Speicher unter {url} kann keine Sync-Verknüpfungen speichern "
        "(ihm fehlt die Fähigkeit 'sync_links')",
    ),
    "sync.unknown_provider": (
        "no sync provider {name!r}; known: {known}",
        "kein Sync-Anbieter {name!r}; bekannt: {known}",
    ),
    "sync.error": (
        "{name}: the sync with {provider} ({mailbox}) failed: {error}",
        "{name}: die Synchronisierung mit {provider} ({mailbox}) ist fehlgeschlagen: {error}",
    ),
    "sync.conflict": (
        "{name}: {fields} changed both in the CRM and in {provider} ({mailbox})",
        "{name}: {fields} wurde im CRM und in {provider} ({mailbox}) geändert",
    ),
    "sync.skipped_no_email": (
        "{name} is not synced with {provider} ({mailbox}): no e-mail address",
        "{name} wird nicht mit {provider} ({mailbox}) synchronisiert: keine E-Mail-Adresse",
    ),
    "sync.unlinked": (
        "{name}: the copy in {provider} ({mailbox}) was deleted or moved out; "
        "the CRM contact is kept",
        "{name}: die Kopie in {provider} ({mailbox}) wurde gelöscht oder verschoben; "
        "der CRM-Kontakt bleibt erhalten",
    ),
    "sync.action.retry": (
        "fix the cause and run the sync again",
        "Ursache beheben und die Synchronisierung erneut starten",
    ),
    "sync.action.decide": (
        "decide which value is right (crm.sync.resolve)",
        "entscheiden, welcher Wert stimmt (crm.sync.resolve)",
    ),
    "sync.action.add_email": (
        "add an e-mail address or leave the contact out of the sync",
        "E-Mail-Adresse ergänzen oder den Kontakt aus der Synchronisierung nehmen",
    ),
    "sync.action.review_unlinked": (
        "check whether the contact is still needed; link it again or archive it",
        "prüfen, ob der Kontakt noch gebraucht wird; neu verknüpfen oder archivieren",
    ),
    "store.not_crmkit": (
        "{path} is not a crmkit database ({detail})",
        "{path} ist keine crmkit-Datenbank ({detail})",
    ),
    "store.corrupt": (
        "{path} is damaged and cannot be read ({detail}); restore it from a backup",
        "{path} ist beschädigt und nicht lesbar ({detail}); bitte aus einer Sicherung "
        "wiederherstellen",
    ),
    "store.schema_too_new": (
        "{path} was written by a newer crmkit (schema {found}, this version knows up to "
        "{supported}); upgrade {distribution}",
        "{path} wurde von einer neueren crmkit-Version geschrieben (Schema {found}, diese "
        "Version kennt bis {supported}); bitte {distribution} aktualisieren",
    ),
    "store.busy": (
        "{path} is locked by another process; try again",
        "{path} ist von einem anderen Prozess gesperrt; bitte erneut versuchen",
    ),
    "store.io": (
        "cannot open {path}: {detail}",
        "{path} lässt sich nicht öffnen: {detail}",
    ),
    "store.transaction_nested": (
        "a transaction is already open on this store",
        "auf diesem Speicher ist bereits eine Transaktion offen",
    ),
    "store.connection_lost": (
        "the connection to {path} was lost ({detail}); the transaction was rolled back, try again",
        "die Verbindung zu {path} ist abgebrochen ({detail}); die Transaktion wurde "
        "zurückgerollt, bitte erneut versuchen",
    ),
    "store.read_only": (
        "{path} is read-only (a replica or a read-only connection); nothing was saved: "
        "write through the primary",
        "{path} ist nur lesbar (ein Replikat oder eine Nur-Lese-Verbindung); nichts wurde "
        "gespeichert: bitte über den Primärserver schreiben",
    ),
    "store.concurrent": (
        "another transaction on {path} changed the same data at the same time ({detail}); "
        "nothing was saved, try again",
        "eine andere Transaktion auf {path} hat gleichzeitig dieselben Daten geändert "
        "({detail}); nichts wurde gespeichert, bitte erneut versuchen",
    ),
    "store.bad_option": (
        "store option {option}: {value!r} is not valid ({reason})",
        "Speicher-Option {option}: {value!r} ist ungültig ({reason})",
    ),
    "store.affiliation_dangling": (
        "the affiliation refers to contact {key!r}, which does not exist",
        "die Zugehörigkeit verweist auf den Kontakt {key!r}, den es nicht gibt",
    ),
    "store.contact_has_affiliations": (
        "contact {key!r} still has affiliations; unlink them first",
        "Kontakt {key!r} hat noch Zugehörigkeiten; bitte zuerst lösen",
    ),
    # --- CLI ----------------------------------------------------------------
    "cli.demo.created": (
        "Created {companies} companies, {persons} persons and {affiliations} affiliations in {url}",
        "{companies} Unternehmen, {persons} Personen und {affiliations} Zugehörigkeiten "
        "in {url} angelegt",
    ),
    "cli.demo.not_empty": (
        "{url} already holds {count} contacts; use --reset or another --db to build the demo",
        "{url} enthält bereits {count} Kontakte; für die Demo --reset oder eine andere "
        "--db verwenden",
    ),
    "cli.demo.findings": (
        "Things to look at in the sample:",
        "Auffälligkeiten in den Beispieldaten:",
    ),
    "cli.actor": ("running as {actor}", "angemeldet als {actor}"),
    "cli.local_admin": (
        "running as the local administrator (no actor configured: everything is allowed)",
        "angemeldet als lokale Administration (kein Akteur eingestellt: alles ist erlaubt)",
    ),
    "cli.demo.actors": (
        "Two colleagues, two roles:",
        "Zwei Kolleginnen, zwei Rollen:",
    ),
    "cli.demo.sees": (
        "{actor} sees {count} of {total} contacts (only her own customers and their people)",
        "{actor} sieht {count} von {total} Kontakten (nur eigene Kunden und deren Personen)",
    ),
    "cli.demo.denied": (
        "{actor} tries to archive {number}: {error}",
        "{actor} versucht, {number} zu archivieren: {error}",
    ),
    "cli.demo.hidden": (
        "{actor} reads {number} without the fields: {fields}",
        "{actor} liest {number} ohne die Felder: {fields}",
    ),
    "cli.severity.error": ("error", "Fehler"),
    "cli.severity.warning": ("warning", "Warnung"),
    "cli.severity.info": ("note", "Hinweis"),
    "cli.col.severity": ("Severity", "Schwere"),
    "cli.col.finding": ("Finding", "Befund"),
    "cli.col.action": ("What to do", "Was tun"),
    "cli.col.reason": ("Why", "Warum"),
    "cli.check.title": (
        "Data quality: {total} contacts, {score} without errors",
        "Datenqualität: {total} Kontakte, {score} ohne Fehler",
    ),
    "cli.check.counts": (
        "{error} errors, {warning} warnings, {info} notes",
        "{error} Fehler, {warning} Warnungen, {info} Hinweise",
    ),
    "cli.worklist.title": (
        "Worklist {today}: {count} items",
        "Arbeitsliste {today}: {count} Punkte",
    ),
    "cli.worklist.empty": (
        "Nothing to do on {today}.",
        "Am {today} gibt es nichts zu tun.",
    ),
    "cli.more_rows": (
        "… and {count} more (use --limit or --format csv)",
        "… und {count} weitere (--limit oder --format csv verwenden)",
    ),
    "cli.demo.quality": (
        "Data quality: {score} of the contacts without errors "
        "({error} errors, {warning} warnings, {info} notes)",
        "Datenqualität: {score} der Kontakte ohne Fehler "
        "({error} Fehler, {warning} Warnungen, {info} Hinweise)",
    ),
    "cli.demo.worklist": (
        "The worklist has {count} items, for example:",
        "Die Arbeitsliste hat {count} Punkte, zum Beispiel:",
    ),
    "cli.demo.quality_try": (
        "Try: crmkit check --severity error; crmkit worklist --mine --as anna",
        "Probieren: crmkit check --severity error; crmkit worklist --mine --as anna",
    ),
    "cli.demo.segment": (
        "Segment {name!r} saved: {count} contacts (evaluated in the store)",
        "Segment {name!r} gespeichert: {count} Kontakte (in der Datenbank ausgewertet)",
    ),
    "cli.demo.campaign": (
        "Campaign list {name!r}: {included} may be written to, {excluded} excluded, "
        "each with the reason:",
        "Kampagnenliste {name!r}: {included} dürfen angeschrieben werden, {excluded} "
        "ausgeschlossen, jeweils mit Begründung:",
    ),
    "cli.demo.campaign_more": (
        " (and {count} more for this reason)",
        " (und {count} weitere aus diesem Grund)",
    ),
    "cli.demo.kpis": ("Key figures of {period}:", "Kennzahlen {period}:"),
    "kpi.section.leads": ("leads", "Leads"),
    "kpi.section.customers": ("customers", "Kunden"),
    "kpi.section.revenue": ("revenue", "Umsatz"),
    "kpi.section.quality": ("data quality", "Datenqualität"),
    "kpi.leads.new_by_source": ("new leads from {key}", "neue Leads aus {key}"),
    "kpi.leads.won": ("leads won", "gewonnene Leads"),
    "kpi.leads.lost": ("leads lost", "verlorene Leads"),
    "kpi.leads.conversion_rate": ("conversion rate", "Abschlussquote"),
    "kpi.leads.median_days_to_conversion": (
        "median days to conversion",
        "Median der Tage bis zum Abschluss",
    ),
    "kpi.leads.open_by_age": ("open leads, {key}", "offene Leads, {key}"),
    "kpi.age.under_90_days": ("under 90 days", "unter 90 Tagen"),
    "kpi.age.90_days_to_12_months": ("90 days to 12 months", "90 Tage bis 12 Monate"),
    "kpi.age.over_12_months": ("over 12 months", "über 12 Monate"),
    "kpi.customers.active_at_start": ("customers at the start", "Kunden zu Beginn"),
    "kpi.customers.active_at_end": ("customers at the end", "Kunden am Ende"),
    "kpi.customers.new": ("new customers", "neue Kunden"),
    "kpi.customers.retained": ("customers retained", "gehaltene Kunden"),
    "kpi.customers.lost": ("customers lost", "verlorene Kunden"),
    "kpi.customers.retention_rate": ("retention rate", "Kundenbindungsquote"),
    "kpi.customers.churn_rate": ("churn rate", "Abwanderungsquote"),
    "kpi.customers.silent": (
        "without contact for {months} months",
        "seit {months} Monaten ohne Kontakt",
    ),
    "kpi.revenue.currency": ("currency", "Währung"),
    "kpi.revenue.total": ("total revenue", "Gesamtumsatz"),
    "kpi.revenue.customers_with_revenue": ("customers with revenue", "Kunden mit Umsatz"),
    "kpi.revenue.per_customer": ("revenue per customer", "Umsatz je Kunde"),
    "kpi.revenue.top_customers": ("top customer {key}", "Top-Kunde {key}"),
    "kpi.revenue.average_order_value": ("average order value", "durchschnittlicher Auftragswert"),
    "kpi.revenue.yearly_revenue_per_customer": (
        "yearly revenue per customer",
        "Jahresumsatz je Kunde",
    ),
    "kpi.revenue.customer_lifetime_years": (
        "customer lifetime in years",
        "Kundenlebensdauer in Jahren",
    ),
    "kpi.revenue.customer_lifetime_value": ("customer lifetime value", "Kundenwert (CLV)"),
    "kpi.quality.snapshots": ("snapshots", "Momentaufnahmen"),
    "kpi.quality.day": ("latest snapshot", "letzte Momentaufnahme"),
    "kpi.quality.quality_score": ("quality score", "Qualitätswert"),
    "kpi.quality.quality_score_change": (
        "change of the quality score",
        "Veränderung des Qualitätswerts",
    ),
    "kpi.quality.legal_basis_share": (
        "share with a documented legal basis",
        "Anteil mit dokumentierter Rechtsgrundlage",
    ),
    "kpi.quality.open_items": ("open items: {key}", "offene Punkte: {key}"),
    "kpi.quality.open_items_change": ("change of the open items", "Veränderung der offenen Punkte"),
    "cli.demo.kpis_try": (
        "Try: crmkit report --period 2026-Q3 --format json; crmkit snapshot",
        "Probieren: crmkit report --period 2026-Q3 --format json; crmkit snapshot",
    ),
    "cli.col.field": ("Field", "Feld"),
    "cli.col.value": ("Value", "Wert"),
    "cli.col.from": ("From", "Von"),
    "cli.merge.title": ("Merged: {number} {name}", "Zusammengeführt: {number} {name}"),
    "cli.merge.preview": (
        "Dry run, nothing written: {affiliations} affiliations would move, {folded} fold "
        "into existing ones, {entries} correspondence entries would move.",
        "Probelauf, nichts geschrieben: {affiliations} Zugehörigkeiten würden umziehen, "
        "{folded} in bestehende aufgehen, {entries} Korrespondenzeinträge umziehen.",
    ),
    "cli.merge.done": (
        "{affiliations} affiliations moved, {folded} folded into existing ones, "
        "{entries} correspondence entries moved. Undo with crmkit unmerge.",
        "{affiliations} Zugehörigkeiten umgezogen, {folded} in bestehende aufgegangen, "
        "{entries} Korrespondenzeinträge umgezogen. Rückgängig mit crmkit unmerge.",
    ),
    "cli.merge.bad_choose": (
        "{value!r} is not FIELD=CONTACT (e.g. name=C00002)",
        "{value!r} hat nicht die Form FELD=KONTAKT (z. B. name=C00002)",
    ),
    "cli.unmerge.done": (
        "Merge undone; {number} {name} and the merged contacts are back as before.",
        "Zusammenführung rückgängig gemacht; {number} {name} und die zusammengeführten "
        "Kontakte sind wieder wie vorher.",
    ),
    "cli.col.pair": ("Contacts", "Kontakte"),
    "cli.col.verdict": ("Verdict", "Urteil"),
    "cli.col.agreeing": ("Alike (≠ different)", "Gleich (≠ verschieden)"),
    "cli.duplicates.try": (
        "Merge with: crmkit merge SURVIVOR OTHER --dry-run; or keep both apart with "
        "crm.mark_distinct(a, b)",
        "Zusammenführen mit: crmkit merge BLEIBT ANDERER --dry-run; oder beide getrennt "
        "halten mit crm.mark_distinct(a, b)",
    ),
    "cli.demo.consents": (
        "A consent clarification (newsletter), through two reminders to its end states:",
        "Eine Einwilligungsklärung (Newsletter), über zwei Erinnerungen bis zum Ende:",
    ),
    "cli.demo.case.granted": ("granted", "erteilt"),
    "cli.demo.case.declined": ("declined", "abgelehnt"),
    "cli.demo.case.no_response": (
        "no response, a decision is needed",
        "keine Antwort, Entscheidung nötig",
    ),
    "cli.demo.case.open": ("open", "offen"),
    "cli.demo.case.decided": ("decided", "entschieden"),
    "cli.demo.case.none": ("not asked", "nicht angefragt"),
    "cli.import.bad_map": (
        "{value!r} is not HEADER=FIELD (e.g. Kd-Nr=external_id)",
        "{value!r} hat nicht die Form SPALTE=FELD (z. B. Kd-Nr=external_id)",
    ),
    "cli.error": ("error: {detail}", "Fehler: {detail}"),
    "cli.import.json_done": ("imported: {counts}", "importiert: {counts}"),
    "cli.export.done": (
        "{count} records written to {path} ({format})",
        "{count} Datensätze nach {path} geschrieben ({format})",
    ),
    "json.invalid": (
        "not a readable crmkit export: {reason}",
        "kein lesbarer crmkit-Export: {reason}",
    ),
    "json.not_stored": (
        "the export cannot be stored, nothing was imported: {detail}",
        "der Export kann nicht gespeichert werden, nichts wurde importiert: {detail}",
    ),
    "vcard.summary": (
        "{created} contacts created, {linked} persons linked to their company, "
        "{skipped} cards already stored, {problems} cards with problems",
        "{created} Kontakte angelegt, {linked} Personen mit ihrem Unternehmen verknüpft, "
        "{skipped} Karten schon gespeichert, {problems} Karten mit Problemen",
    ),
    "vcard.problem": ("card {card} ({name}): {detail}", "Karte {card} ({name}): {detail}"),
    "vcard.unreadable": (
        "the card cannot be read: {detail}",
        "die Karte ist nicht lesbar: {detail}",
    ),
    "vcard.invalid": ("{detail}", "{detail}"),
    "extra_missing": (
        "{feature} needs the optional {extra!r} extra: pip install 'crmkit[{extra}]'",
        "{feature} braucht das optionale Extra {extra!r}: pip install 'crmkit[{extra}]'",
    ),
    # correspondence on the command line: labels
    "cli.channel.phone": ("Phone", "Telefon"),
    "cli.channel.meeting": ("Meeting", "Termin"),
    "cli.channel.email": ("E-mail", "E-Mail"),
    "cli.channel.letter": ("Letter", "Brief"),
    "cli.channel.messenger": ("Messenger", "Messenger"),
    "cli.channel.internal_note": ("Internal note", "Interne Notiz"),
    "cli.channel.association_note": ("Association note", "Vereinsnotiz"),
    "cli.direction.inbound": ("inbound", "eingehend"),
    "cli.direction.outbound": ("outbound", "ausgehend"),
    "cli.direction.internal": ("internal", "intern"),
    "cli.follow_up.open": ("open", "offen"),
    "cli.follow_up.done": ("done", "erledigt"),
    "cli.follow_up.overdue": ("overdue", "überfällig"),
    "cli.col.when": ("When · channel · by", "Wann · Kanal · von"),
    "cli.col.subject": ("Subject · content", "Betreff · Inhalt"),
    "cli.col.agreed": ("Agreed · next steps", "Vereinbart · nächste Schritte"),
    "cli.col.follow_up": ("Follow-up", "Wiedervorlage"),
    "cli.col.contact": ("Contact", "Kontakt"),
    "cli.col.due": ("Due", "Fällig"),
    "cli.col.assignee": ("Assignee", "Zuständig"),
    "cli.col.entry": ("Entry", "Eintrag"),
    "cli.col.subject_only": ("Subject", "Betreff"),
    # correspondence on the command line: sentences
    "cli.bad_date": (
        "{value!r} is not a date; write 2026-11-27 or 27.11.2026",
        "{value!r} ist kein Datum; bitte 2026-11-27 oder 27.11.2026 schreiben",
    ),
    "cli.bad_datetime": (
        "{value!r} is not a date and time; write 2026-11-23T09:30 (Berlin time) "
        "or with a zone such as 2026-11-23T09:30+01:00",
        "{value!r} ist kein Zeitpunkt; bitte 2026-11-23T09:30 (Berliner Zeit), "
        "23.11.2026 09:30 oder mit Zone wie 2026-11-23T09:30+01:00 schreiben",
    ),
    "cli.log.direction_required": (
        "an entry on the channel {channel!r} needs --direction (inbound or outbound)",
        "ein Eintrag im Kanal {channel!r} braucht --direction (inbound oder outbound)",
    ),
    "cli.log.assignee_needs_follow_up": (
        "--assignee needs --follow-up DATE",
        "--assignee braucht --follow-up DATUM",
    ),
    "cli.log.recorded": (
        "Recorded: {channel} ({direction}) with {contacts}, {when}: {subject}",
        "Erfasst: {channel} ({direction}) mit {contacts}, {when}: {subject}",
    ),
    "cli.log.id": ("entry id: {id}", "Eintrags-ID: {id}"),
    "cli.log.follow_up": (
        "follow-up due {due}, assigned to {assignee}",
        "Wiedervorlage am {due}, zuständig: {assignee}",
    ),
    "cli.log.follow_up_unassigned": (
        "follow-up due {due} (nobody assigned)",
        "Wiedervorlage am {due} (niemand zugewiesen)",
    ),
    "cli.timeline.title": ("History of {contact}", "Verlauf von {contact}"),
    "cli.timeline.title_company": (
        "History of {contact} and its affiliated contacts",
        "Verlauf von {contact} mit verbundenen Kontakten",
    ),
    "cli.timeline.caption": (
        "{count} entries, newest first; times in {zone}",
        "{count} Einträge, neueste zuerst; Zeiten in {zone}",
    ),
    "cli.timeline.with": ("with {names}", "mit {names}"),
    "cli.timeline.empty": (
        "No correspondence with {contact} yet; record some with: "
        "crmkit log {number} --channel phone --direction inbound --subject …",
        "Noch keine Korrespondenz mit {contact}; erfassen mit: "
        "crmkit log {number} --channel phone --direction inbound --subject …",
    ),
    "cli.timeline.no_match": (
        "No entries of {contact} match these filters.",
        "Keine Einträge von {contact} passen zu diesen Filtern.",
    ),
    "cli.followups.title": ("Open follow-ups", "Offene Wiedervorlagen"),
    "cli.followups.caption": (
        "{count} open, {overdue} overdue; today is {today}",
        "{count} offen, davon {overdue} überfällig; heute ist der {today}",
    ),
    "cli.followups.none": ("No open follow-ups.", "Keine offenen Wiedervorlagen."),
    "cli.followups.mine_or_assignee": (
        "use either --mine or --assignee, not both",
        "bitte entweder --mine oder --assignee angeben, nicht beides",
    ),
    "cli.done.completed": (
        "Follow-up done: {subject} ({contacts}); entry {id}",
        "Wiedervorlage erledigt: {subject} ({contacts}); Eintrag {id}",
    ),
    "cli.done.ambiguous": (
        "{value!r} matches several open follow-ups ({ids}); give more of the id",
        "{value!r} passt zu mehreren offenen Wiedervorlagen ({ids}); bitte mehr von der ID angeben",
    ),
    "cli.demo.logged": (
        "Logged {count} correspondence entries: calls, a meeting, an e-mail, a letter and notes",
        "{count} Korrespondenzeinträge erfasst: Telefonate, ein Termin, eine E-Mail, "
        "ein Brief und Notizen",
    ),
    "cli.demo.try": ("Try: {commands}", "Zum Ausprobieren: {commands}"),
    "cli.report.title": (
        "KPIs {period} ({start} – {end})",
        "Kennzahlen {period} ({start} – {end})",
    ),
    "cli.report.as_of": ("as of {today}", "Stand {today}"),
    "cli.col.section": ("Section", "Bereich"),
    "cli.col.figure": ("Figure", "Kennzahl"),
    "cli.snapshot.recorded": (
        "Quality snapshot of {day} recorded: score {score}, legal basis documented for {basis}, "
        "{items} open work items",
        "Qualitäts-Stand vom {day} gespeichert: Score {score}, Rechtsgrundlage dokumentiert "
        "bei {basis}, {items} offene Aufgaben",
    ),
    # --- CSV import ----------------------------------------------------------
    "csv.where_cell": ("row {row}, column {column!r}", "Zeile {row}, Spalte {column!r}"),
    "csv.where_row": ("row {row}", "Zeile {row}"),
    "csv.summary": (
        "{rows} rows read: {contacts} contacts created, {linked} affiliations, "
        "{skipped} rows skipped, {duplicates} duplicates, {problems} problems",
        "{rows} Zeilen gelesen: {contacts} Kontakte angelegt, {linked} Zugehörigkeiten, "
        "{skipped} Zeilen übersprungen, {duplicates} Dubletten, {problems} Probleme",
    ),
    "csv.summary_dry_run": (
        "dry run, nothing written: {rows} rows read, {contacts} contacts and {linked} "
        "affiliations would be created, {skipped} rows skipped, {duplicates} duplicates, "
        "{problems} problems",
        "Probelauf, nichts gespeichert: {rows} Zeilen gelesen, {contacts} Kontakte und "
        "{linked} Zugehörigkeiten würden angelegt, {skipped} Zeilen übersprungen, "
        "{duplicates} Dubletten, {problems} Probleme",
    ),
    "csv.unknown_columns": (
        "columns ignored (unknown): {columns}",
        "Spalten ignoriert (unbekannt): {columns}",
    ),
    "csv.merged_into": (
        "row {row}: merged into {number}, which was there already",
        "Zeile {row}: mit dem schon vorhandenen {number} zusammengeführt",
    ),
    "csv.duplicate_of": (
        "row {row}: already there as {number}",
        "Zeile {row}: bereits vorhanden als {number}",
    ),
    "csv.duplicate_in_file": (
        "row {row}: repeats an earlier row of the file{number}",
        "Zeile {row}: wiederholt eine frühere Zeile der Datei{number}",
    ),
    "csv.more_problems": (
        "… and {count} more problems",
        "… und {count} weitere Probleme",
    ),
    "csv.unreadable": ("the file cannot be read: {detail}", "die Datei ist nicht lesbar: {detail}"),
    "csv.line_too_long": (
        "a line is longer than {limit} characters; this is not a CSV file, reading stopped",
        "eine Zeile ist länger als {limit} Zeichen; das ist keine CSV-Datei, Lesen abgebrochen",
    ),
    "csv.malformed": (
        "the CSV structure is broken here ({detail}); reading stopped",
        "die CSV-Struktur ist hier fehlerhaft ({detail}); Lesen abgebrochen",
    ),
    "csv.no_known_columns": (
        "no column header is known (e.g. Vorname, Nachname, Firma, E-Mail); nothing imported",
        "keine Spaltenüberschrift ist bekannt (z. B. Vorname, Nachname, Firma, E-Mail); "
        "nichts importiert",
    ),
    "csv.column_twice": (
        "the column is ignored: an earlier column is already read as {target}",
        "die Spalte wird ignoriert: eine frühere Spalte wird bereits als {target} gelesen",
    ),
    "csv.column_yields": (
        "the column is ignored: the column '{other}' is read as {target}, which it names plainly",
        "die Spalte wird ignoriert: die Spalte „{other}“ wird als {target} gelesen, "
        "sie benennt das Feld eindeutig",
    ),
    "csv.row_without_name": (
        "the row has neither a first or last name nor a company; not imported",
        "die Zeile hat weder Vor- oder Nachnamen noch Firma; nicht importiert",
    ),
    "csv.extra_cells": (
        "the row has {count} cells, more than the header names; not imported "
        "(is a delimiter missing its quotes?)",
        "die Zeile hat {count} Zellen, mehr als die Kopfzeile nennt; nicht importiert "
        "(fehlen Anführungszeichen um ein Trennzeichen?)",
    ),
    # --- KPIs and revenue import --------------------------------------------------
    "period.invalid": (
        "{field}: {value!r} is not a period (such as 2026, 2026-H1, 2026-Q3, 2026-09 or "
        "2026-07-01..2026-09-30)",
        "{field}: {value!r} ist kein Zeitraum (etwa 2026, 2026-H1, 2026-Q3, 2026-09 oder "
        "2026-07-01..2026-09-30)",
    ),
    "amount.invalid": (
        "{field}: {value!r} is not an amount (such as 1.234,56 or 1234.56)",
        "{field}: {value!r} ist kein Betrag (etwa 1.234,56 oder 1234.56)",
    ),
    "amount.range": (
        "{field}: {value!r} is out of range (at most 12 digits before and 4 after the "
        "decimal point)",
        "{field}: {value!r} liegt außerhalb des Bereichs (höchstens 12 Stellen vor und 4 "
        "nach dem Komma)",
    ),
    "day.invalid": (
        "{field}: {value!r} is not a date (such as 23.11.2026 or 2026-11-23)",
        "{field}: {value!r} ist kein Datum (etwa 23.11.2026 oder 2026-11-23)",
    ),
    "currency.invalid": (
        "{field}: {value!r} is not a currency code (three letters as in ISO 4217, such as EUR)",
        "{field}: {value!r} ist kein Währungscode (drei Buchstaben nach ISO 4217, etwa EUR)",
    ),
    "revenue.summary": (
        "{rows} rows read: {imported} revenue records imported, {skipped} skipped "
        "(recorded already), {problems} problems",
        "{rows} Zeilen gelesen: {imported} Umsätze importiert, {skipped} übersprungen "
        "(bereits erfasst), {problems} Probleme",
    ),
    "revenue.summary_dry_run": (
        "dry run, nothing written: {rows} rows read, {imported} revenue records would be "
        "imported, {skipped} skipped (recorded already)",
        "Probelauf, nichts gespeichert: {rows} Zeilen gelesen, {imported} Umsätze würden "
        "importiert, {skipped} übersprungen (bereits erfasst)",
    ),
    "revenue.summary_refused": (
        "{rows} rows read, {problems} problems: nothing imported (correct the rows and run "
        "the file again)",
        "{rows} Zeilen gelesen, {problems} Probleme: nichts importiert (Zeilen korrigieren "
        "und die Datei erneut einlesen)",
    ),
    "revenue.skipped": (
        "row {row}: {reference!r} of {number} is recorded already; skipped",
        "Zeile {row}: {reference!r} von {number} ist bereits erfasst; übersprungen",
    ),
    "revenue.no_contact": (
        "no contact has the number or id {value!r}",
        "kein Kontakt hat die Nummer oder ID {value!r}",
    ),
    "revenue.column_missing": (
        "the file has no column for {column} (such as {examples}); nothing imported",
        "die Datei hat keine Spalte für {column} (etwa {examples}); nichts importiert",
    ),
    "csv.not_stored": (
        "the row was not stored: {detail}",
        "die Zeile wurde nicht gespeichert: {detail}",
    ),
}


#: Nouns that appear as the ``kind`` parameter of messages, per language.
NOUNS: dict[str, tuple[str, str]] = {
    "contact": ("contact", "Kontakt"),
    "contact number": ("contact number", "Kontaktnummer"),
    "affiliation": ("affiliation", "Zugehörigkeit"),
    "correspondence entry": ("correspondence entry", "Korrespondenzeintrag"),
    "merge": ("merge", "Zusammenführung"),
    "bounce": ("bounce", "Unzustellbarkeit"),
    "consent event": ("consent event", "Einwilligungsereignis"),
    "privacy request": ("privacy request", "Datenschutzanfrage"),
    "person": ("person", "Person"),
    "company": ("company", "Unternehmen"),
}


#: Resource kinds (plural) as the ``resource`` parameter of messages.
RESOURCE_NOUNS: dict[str, tuple[str, str]] = {
    "contact": ("contacts", "Kontakte"),
    "affiliation": ("affiliations", "Zugehörigkeiten"),
    "correspondence": ("correspondence", "Korrespondenz"),
    "internal_note": ("internal notes", "interne Notizen"),
    "consent": ("consents", "Einwilligungen"),
    "evidence": ("consent evidence", "Einwilligungsnachweise"),
    "privacy_request": ("privacy requests", "Datenschutzanfragen"),
    "audit": ("the audit log", "das Protokoll"),
    "segment": ("segments", "Segmente"),
    "campaign": ("campaigns", "Kampagnen"),
    "sync_config": ("the sync configuration", "die Sync-Einstellungen"),
}
#: Actions as the ``action`` parameter of messages.
VERBS: dict[str, tuple[str, str]] = {
    "read": ("read", "lesen"),
    "create": ("create", "anlegen"),
    "update": ("change", "ändern"),
    "archive": ("archive", "archivieren"),
    "merge": ("merge", "zusammenführen"),
    "erase": ("erase", "löschen"),
    "export": ("export", "exportieren"),
}
#: Field names that appear in lists (``missing``), per language.
FIELD_NOUNS: dict[str, tuple[str, str]] = {
    "e-mail": ("e-mail", "E-Mail"),
    "phone": ("phone", "Telefon"),
    "address": ("address", "Anschrift"),
}
_TRANSLATED_LISTS: dict[str, dict[str, tuple[str, str]]] = {"missing": FIELD_NOUNS}
#: Bounce kinds as the ``bounce`` parameter.
BOUNCE_WORDS: dict[str, tuple[str, str]] = {
    "hard": ("hard", "dauerhafte"),
    "soft": ("soft", "vorübergehende"),
}
_RESERVED_DOMAIN: Final = (
    "The part after the @-sign is a special-use or reserved name that cannot be used with email."
)
#: Reasons from the phone and e-mail checks (ours and email-validator's most common ones);
#: a reason not listed here is shown as it is.
REASONS: dict[str, tuple[str, str]] = {
    "contains letters": ("contains letters", "enthält Buchstaben"),
    "no phone number found": ("no phone number found", "keine Telefonnummer gefunden"),
    "extensions cannot be stored": (
        "extensions cannot be stored",
        "Durchwahl-Erweiterungen können nicht gespeichert werden",
    ),
    "not an international number": ("not an international number", "keine internationale Nummer"),
    "too short": ("too short", "zu kurz"),
    "too long": ("too long", "zu lang"),
    "invalid length": ("invalid length", "ungültige Länge"),
    "unknown country code": ("unknown country code", "unbekannte Ländervorwahl"),
    "An email address must have an @-sign.": (
        "An email address must have an @-sign.",
        "Eine E-Mail-Adresse braucht ein @-Zeichen.",
    ),
    "There must be something before the @-sign.": (
        "There must be something before the @-sign.",
        "Vor dem @-Zeichen muss etwas stehen.",
    ),
    "The part after the @-sign is not valid. It should have a period.": (
        "The part after the @-sign is not valid. It should have a period.",
        "Der Teil nach dem @-Zeichen ist ungültig: es fehlt ein Punkt.",
    ),
    "The part after the @-sign is not valid. It is not within a valid top-level domain.": (
        "The part after the @-sign is not valid. It is not within a valid top-level domain.",
        "Der Teil nach dem @-Zeichen ist ungültig: keine gültige Top-Level-Domain.",
    ),
    "An email address cannot have two periods in a row.": (
        "An email address cannot have two periods in a row.",
        "Eine E-Mail-Adresse darf nicht zwei Punkte hintereinander haben.",
    ),
    "The email address contains invalid characters before the @-sign.": (
        "The email address contains invalid characters before the @-sign.",
        "Die E-Mail-Adresse enthält vor dem @-Zeichen ungültige Zeichen.",
    ),
    "The email address contains an invalid character.": (
        "The email address contains an invalid character.",
        "Die E-Mail-Adresse enthält ein ungültiges Zeichen.",
    ),
    "There can't be anything after the email address.": (
        "There can't be anything after the email address.",
        "Nach der E-Mail-Adresse darf nichts mehr stehen.",
    ),
    _RESERVED_DOMAIN: (
        _RESERVED_DOMAIN,
        "Der Teil nach dem @-Zeichen ist ein reservierter Name, der für E-Mail nicht nutzbar ist.",
    ),
}
_TRANSLATED: dict[str, dict[str, tuple[str, str]]] = {
    "reason": REASONS,
    "kind": NOUNS,
    "resource": RESOURCE_NOUNS,
    "action": VERBS,
    "bounce": BOUNCE_WORDS,
    "channel": {
        "email": ("e-mail", "E-Mail"),
        "phone": ("phone", "Telefon"),
        "letter": ("letter", "Brief"),
        "sms": ("SMS", "SMS"),
        "fax": ("fax", "Fax"),
    },
}


def register_messages(messages: Mapping[str, tuple[str, str]]) -> None:
    """Add message templates (English, German) for new codes.

    Raises :class:`ValueError` when a code already exists with different text,
    so a plugin cannot silently reword a core message.
    """
    for code, pair in messages.items():
        if len(pair) != 2 or not all(isinstance(t, str) and t for t in pair):
            raise ValueError(f"message {code!r} needs an English and a German template")
        existing = _CATALOGUE.get(code)
        if existing is not None and existing != pair:
            raise ValueError(f"message code {code!r} is already registered")
        _CATALOGUE[code] = (pair[0], pair[1])


def codes() -> frozenset[str]:
    """Every message code known to the catalogue."""
    return frozenset(_CATALOGUE)


def template(code: str, lang: Lang = "en") -> str:
    """The raw template for *code* in *lang* (English if the code is unknown)."""
    pair = _CATALOGUE.get(code)
    if pair is None:
        return code + ": {detail}"
    return pair[0] if lang == "en" else pair[1]


class _Defaulting(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(code: str, lang: Lang = "en", /, **params: object) -> str:
    """Format the message for *code* in *lang* with *params*.

    Missing parameters stay visible as ``{name}`` rather than raising, so a
    message can never hide the error it reports.
    """
    text = template(code, lang)
    index = 0 if lang == "en" else 1
    for key, table in _TRANSLATED.items():
        value = params.get(key)
        if isinstance(value, str) and value in table:
            params = {**params, key: table[value][index]}
    for key, table in _TRANSLATED_LISTS.items():
        value = params.get(key)
        if isinstance(value, (tuple, list)):
            words = (table[v][index] if v in table else str(v) for v in value)
            params = {**params, key: ", ".join(words)}
    try:
        return text.format_map(_Defaulting(params))
    except (ValueError, IndexError, AttributeError, KeyError):
        return f"{text} {params!r}"
