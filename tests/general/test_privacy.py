"""/datenschutz states the README's guarantees in the user's language: every guarantee of the
"Security and privacy" and "Data protection" sections that concerns the people the bot
serves appears in both, so neither can change alone."""

from __future__ import annotations

from pathlib import Path

from tests.harness import Conversation, person

ROOT = Path(__file__).resolve().parents[2]

# guarantee: (what the README says, what /privacy says, what /datenschutz says)
GUARANTEES = {
    "what is stored": ("Stored per person", "What I store about you", "Was ich über Sie speichere"),
    "not stored": ("Not stored", "What I do not store", "Was ich nicht speichere"),
    "group isolation": (
        "never show another group",
        "never to another group",
        "nie eine andere Gruppe",
    ),
    "between groups only what is addressed": (
        "reaches that group once the minutes are approved",
        "reaches that group once the minutes are approved",
        "sobald das Protokoll genehmigt ist",
    ),
    "digest shows what chairs share": (
        "of a group only what its chair shares",
        "only what its chair shares",
        "nur, was ihr Vorsitz freigibt",
    ),
    "attendees": (
        "list the group's members as attendees",
        "list the group's members",
        "nennen die Mitglieder",
    ),
    "links only privately": (
        "only into a room whose members are the bot",
        "only into your private chat",
        "nur in Ihren privaten Chat",
    ),
    "membership follows the chat": (
        "Membership follows the chat",
        "Membership follows the chat",
        "Die Mitgliedschaft folgt dem Chat",
    ),
    "leavers get nothing": (
        "no more invitations, reminders or poll nudges",
        "no invitations, reminders or poll nudges",
        "keine Einladungen, Erinnerungen",
    ),
    "coming back": ("member again", "member again", "wieder Mitglied"),
    "derived roles end": (
        "ends when that status does",
        "ends with that status",
        "endet mit diesen",
    ),
    "erasure keeps former member": (
        "ehemaliges Mitglied",
        "“former member”",
        "„ehemaliges Mitglied“",
    ),
    "advisor entry stays": (
        "an admin must erase it",
        "advisor registry stays",
        "Berater*innen-Register bleibt",
    ),
    "retention": (
        "OUTBOX_RETENTION_DAYS",
        "text and files for 30 days",
        "Text und Dateien 30 Tage",
    ),
    "backups": ("Database backups keep older copies", "backups", "Sicherungen"),
    "make the bot a Telegram admin": (
        "make the bot a group admin",
        "make me an admin of every Telegram group",
        "in jeder Telegram-Gruppe zum Admin",
    ),
    "rights": ("`/meinedaten`", "sends you everything as a file", "schickt Ihnen alles als Datei"),
    "handled update ids": (
        "repeated post of an update run its command again",
        "would let a repeated post run the command again",
        "ein wiederholt gesendetes Update den Befehl noch einmal ausführen",
    ),
    "handled update ids expire": (
        "kept until they expire after `TELEGRAM_UPDATE_RETENTION_HOURS`",
        "for 48 hours",
        "48 Stunden lang",
    ),
}


async def test_readme_and_datenschutz_state_the_same_guarantees(chat: Conversation) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    privacy = readme.split("## Data protection (Datenschutz)", 1)[1].split("\n## Operations", 1)[0]
    members = readme.split("## Who is a member", 1)[1].split("\n## ", 1)[0]
    anna = person("anna")
    german = await chat.text(anna, "/datenschutz")
    await chat.say(anna, "/language en")
    english = await chat.text(anna, "/privacy")
    missing = [
        f"{guarantee}: {where}"
        for guarantee, (in_readme, in_english, in_german) in GUARANTEES.items()
        for where, text, part in (
            ("README", privacy + members, in_readme),
            ("/privacy", english, in_english),
            ("/datenschutz", german, in_german),
        )
        if part not in text
    ]
    assert not missing, "guarantees stated in one place only: " + "; ".join(missing)
