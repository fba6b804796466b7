"""A local SMTP server (``aiosmtpd``) that keeps every message it receives, for tests, benchmarks and demos.

    async with Mailbox(starttls=True, login=("alerts", "pw")) as box:   # box.port on 127.0.0.1
        ... send to {"host": "127.0.0.1", "port": box.port, "starttls": True, "validate_certs": False,
                     "username": "alerts", "password": "pw", ...}
        mail = (await box.wait_for(1))[0]
        mail["subject"], mail["text"], mail["html"], mail["to"]

It runs in the caller's event loop (no thread). With ``starttls`` it offers
STARTTLS with a throw-away self-signed certificate and refuses mail before
it; with ``login`` it asks for AUTH and answers 535 to a wrong password.
``aiosmtpd`` is a test dependency: nothing in the app imports this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import ssl
import tempfile
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


def self_signed_context() -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 / localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_file, key_file)
    return context


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""  # type: ignore[attr-defined]


class Mailbox:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, starttls: bool = False,
                 login: tuple[str, str] | None = None) -> None:
        self.host, self.port = host, port
        self.starttls, self.login = starttls, login
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._server: asyncio.base_events.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)  # type: ignore[arg-type]
        async with self._arrived:
            self.messages.append({
                "from": envelope.mail_from, "to": list(envelope.rcpt_tos), "subject": str(message["subject"] or ""),
                "text": _part(message, "plain"), "html": _part(message, "html"),  # type: ignore[arg-type]
                "tls": session.ssl is not None, "received_at": time.time(), "received_monotonic": time.monotonic(),
            })
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        if isinstance(data, LoginPassword) and self.login is not None \
                and (data.login.decode(), data.password.decode()) == self.login:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _protocol(self) -> SMTP:
        tls = self._tls
        return SMTP(self, hostname="mailbox.local", tls_context=tls, require_starttls=tls is not None,
                    auth_required=self.login is not None, auth_require_tls=tls is not None,
                    authenticator=self._authenticate if self.login is not None else None, enable_SMTPUTF8=True)

    async def start(self) -> Mailbox:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO
        self._tls = self_signed_context() if self.starttls else None
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Mailbox:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """Wait until ``count`` messages arrived; ``TimeoutError`` otherwise."""
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.messages) >= count)
        return self.messages

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A route config pointing at this mailbox."""
        config: dict[str, Any] = {"host": self.host, "port": self.port, "starttls": self.starttls,
                                  "from": "ordergraph@example.com", "to": ["ops@example.com"]}
        if self.starttls:
            config["validate_certs"] = False
        if self.login:
            config["username"], config["password"] = self.login
        return config | overrides
