"""A real SMTP server for the aftercare-smtp tests, built on aiosmtpd (PyPI `aiosmtpd`,
Debian `python3-aiosmtpd`).

Started by the Rust tests as a subprocess. Prints `READY <port>` once it listens on
127.0.0.1, then serves until its standard input closes (so it dies with the test).

Every accepted message is written to OUT/<n>.eml (raw bytes as received) and OUT/<n>.json
(envelope plus the message as parsed by Python's own `email` package: decoded headers and
the decoded text of each leaf part), so the tests check lettre's encoding with an
independent MIME parser.

Behaviour by recipient local part:
- `reject...@`: RCPT answered `550 5.1.1 ... User unknown`;
- `busy...@`: RCPT answered `451 4.3.0 ... try again later`;
- `drop...@`: the connection is closed after the message body arrived, without a final
  reply (the client cannot know whether it was accepted).
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0]
        if local.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown in local recipient table" % address
        if local.startswith("busy"):
            return "451 4.3.0 <%s>: Temporary lookup failure, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if any(r.split("@", 1)[0].startswith("drop") for r in envelope.rcpt_tos):
            server.transport.abort()
            return "250 2.0.0 never seen"
        self.n += 1
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        base = os.path.join(self.out, "%d" % self.n)
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = []
        for part in msg.walk():
            if part.is_multipart():
                continue
            parts.append(
                {
                    "content_type": part.get_content_type(),
                    "charset": part.get_content_charset(),
                    "transfer_encoding": part.get("Content-Transfer-Encoding"),
                    "text": part.get_content(),
                }
            )
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "authenticated": bool(session.authenticated),
            "content_type": msg.get_content_type(),
            "headers": [[k, str(v)] for k, v in msg.items()],
            "parts": parts,
        }
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.replace(base + ".json.tmp", base + ".json")
        return "250 2.0.0 Ok: queued as %d" % self.n


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", choices=["plain", "starttls", "tls"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()

    ctx = None
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == (a.user or "").encode()
            and auth_data.password == (a.password or "").encode()
        )
        # handled=False: aiosmtpd itself answers 235 or `535 5.7.8`.
        return AuthResult(success=ok, handled=False)

    kwargs = dict(
        hostname="127.0.0.1",
        port=free_port(),
        decode_data=False,
        enable_SMTPUTF8=True,
    )
    if a.user is not None:
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=(a.mode == "starttls"))
        # (with implicit TLS aiosmtpd does not count the connection as TLS for AUTH, so it
        # would not offer AUTH at all; the connection is encrypted from the first byte anyway)
    if a.mode == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    elif a.mode == "tls":
        kwargs.update(ssl_context=ctx)
    controller = Controller(Handler(a.out), **kwargs)
    controller.start()
    print("READY %d" % controller.port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
