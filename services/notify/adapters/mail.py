"""Sending one e-mail attempt over SMTP (aiosmtplib)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from services.notify.adapters.failures import AttemptFailedError


class MailSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        starttls: bool,
        username: str,
        password: str,
        timeout: float,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._starttls = starttls
        self._username = username or None
        self._password = password or None
        self._timeout = timeout

    async def send(
        self,
        *,
        message_id: str,
        recipients: tuple[str, ...],
        subject: str,
        text: str,
        language: str,
    ) -> None:
        """Send one attempt; raises AttemptFailedError when the server did not take it."""
        message = EmailMessage()
        message.set_content(text)  # first: it replaces every Content-* header
        message["From"] = self._sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # The same id on every attempt: a mail system can recognise a repeated message.
        message["Message-ID"] = f"<{message_id}@{self._sender.rpartition('@')[2] or 'mla'}>"
        message["Content-Language"] = language
        message["Auto-Submitted"] = "auto-generated"
        try:
            await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                start_tls=self._starttls,
                username=self._username,
                password=self._password,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPResponseException as exc:
            raise AttemptFailedError(f"SMTP {exc.code}: {exc.message}"[:300], exc.code) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise AttemptFailedError(f"{type(exc).__name__}: {exc}"[:300]) from None
