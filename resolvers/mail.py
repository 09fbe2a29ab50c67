"""Sending e-mail through the configured SMTP server (`CYTOGATE_SMTP_URL`, README "Settings").

One plain-text message at a time, within the server's timeout. Callers send before they commit,
so a message that cannot be delivered to the server undoes the change that wanted it.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from resolvers.errors import BadGateway, Unavailable
from settings import Settings, SmtpServer

__all__ = ["mail_server", "send_mail"]

log = logging.getLogger(__name__)


def mail_server(settings: Settings) -> SmtpServer:
    """The configured mail server; `Unavailable` (503) when there is none."""
    if settings.smtp is None:
        raise Unavailable("mail delivery is not configured")
    return settings.smtp


def _one_line(text: str) -> str:
    """A header value: line breaks (which would start new headers) become spaces."""
    return " ".join(text.split())


async def send_mail(settings: Settings, to: str, subject: str, body: str) -> None:
    """Send a plain-text e-mail from `settings.mail_from` to one address.

    Raises:
        Unavailable: no mail server is configured (503).
        BadGateway: the server could not be reached in time or refused the message (502).
    """
    server = mail_server(settings)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = _one_line(subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2])
    message.set_content(body)
    try:
        await aiosmtplib.send(
            message,
            sender=settings.mail_from,
            recipients=[to],
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.tls == "implicit",
            start_tls={"starttls": True, "off": False}.get(server.tls),
            timeout=server.timeout,
        )
    except (aiosmtplib.SMTPException, OSError) as error:  # OSError: refused, TLS, timeouts
        log.warning("mail to %s through %s:%s failed: %s", to, server.host, server.port, error)
        raise BadGateway("The mail server could not be reached or refused the message") from None
