"""MIME assembly of one outbox mail; pure (the date and Message-ID are passed in).

Layout, the one calendar clients (Outlook, Thunderbird, Apple Mail, Gmail) show with
accept/decline buttons (iMIP, RFC 6047): `multipart/alternative` of text, HTML and
`text/calendar; method=…`. Files go next to it in a `multipart/mixed`.
"""

from __future__ import annotations

import html
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from bot.core.mail import MailContent


def text_to_html(text: str, language: str) -> str:
    """A readable HTML twin of a plain text: paragraphs, line breaks, nothing executable."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head>'
        '<meta charset="utf-8"></head>\n'
        f"<body>\n{body}\n</body></html>\n"
    )


def message_id(key: str, domain: str) -> str:
    """`<outbox-12@example.org>`: the same for every attempt at one outbox row, so a mail
    sent again after an uncertain attempt is recognisable as the same one."""
    return f"<{key}@{domain}>"


def build_mail(
    content: MailContent,
    *,
    sender: Address,
    recipient: str,
    msgid: str,
    date: datetime,
) -> EmailMessage:
    alternative = EmailMessage()
    alternative.set_content(content.text, subtype="plain", charset="utf-8")
    alternative.add_alternative(
        content.html or text_to_html(content.text, content.language), subtype="html"
    )
    if content.calendar is not None:
        alternative.add_alternative(
            content.calendar.decode("utf-8"),
            subtype="calendar",
            params={"method": content.method or "REQUEST"},
        )
    if content.attachments:
        message = EmailMessage()
        message.make_mixed()
        message.attach(alternative)
        for document in content.attachments:
            maintype, _, subtype = document.mime_type.partition(";")[0].strip().partition("/")
            part = EmailMessage()
            if maintype == "text":  # with its charset, or umlauts arrive as mojibake
                part.set_content(
                    document.content.decode("utf-8", errors="replace"),
                    subtype=subtype or "plain",
                    charset="utf-8",
                    disposition="attachment",
                    filename=document.filename,
                )
            else:
                part.set_content(
                    document.content,
                    maintype=maintype or "application",
                    subtype=subtype or "octet-stream",
                    disposition="attachment",
                    filename=document.filename,
                )
            message.attach(part)
    else:
        message = alternative
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = content.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = msgid
    message["Content-Language"] = content.language
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to the bot
    if "MIME-Version" not in message:
        message["MIME-Version"] = "1.0"
    return message
