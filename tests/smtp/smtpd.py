#!/usr/bin/python3
"""A small real SMTP server for the mail tests, built on aiosmtpd.

    smtpd.py --host 127.0.0.1 --port 0 --ready-file F --dir D
             [--starttls CERT KEY | --implicit-tls CERT KEY]
             [--auth-user U --auth-password-file F]
             [--reject-rcpt ADDR ...]

Every message accepted is saved as D/NNNN.eml (the exact DATA bytes, after
SMTP dot-unstuffing, with CRLF line ends) and D/NNNN.json (the envelope:
mail_from, rcpt_tos, the authenticated user or null, whether TLS was
active).  Every AUTH command received is appended to D/auth.log (one line:
mechanism and outcome; never the credentials), so a test can tell that a
client sent no AUTH at all.  Once listening, the port is written to the
ready file (atomically).  SIGTERM or SIGINT stops it cleanly.

Run it with /usr/bin/python3 (Debian's python3-aiosmtpd).
"""
import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    """Accepts mail, refusing the recipients it was told to refuse."""

    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = {a.lower() for a in reject}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.directory, "%04d" % self.count)
        tls = (server.transport is not None and
               server.transport.get_extra_info("ssl_object") is not None)
        user = None
        if session.authenticated and isinstance(session.auth_data,
                                                LoginPassword):
            user = session.auth_data.login.decode("utf-8", "replace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "user": user,
            "tls": tls,
        }
        write_atomic(base + ".eml", envelope.original_content)
        write_atomic(base + ".json", json.dumps(meta).encode())
        return "250 2.0.0 OK: queued as %04d" % self.count


class LoggingSMTP(SMTP):
    """aiosmtpd's SMTP, noting every AUTH command in auth.log."""

    def __init__(self, handler, directory, **kwargs):
        self._auth_log = os.path.join(directory, "auth.log")
        super().__init__(handler, **kwargs)

    async def smtp_AUTH(self, arg):
        mech = arg.split()[0].upper() if arg else ""
        before = self.session.authenticated
        await super().smtp_AUTH(arg)
        ok = bool(self.session.authenticated) and not before
        tls = self.transport.get_extra_info("ssl_object") is not None
        with open(self._auth_log, "a") as f:
            f.write("AUTH %s %s tls=%s\n" % (mech, "ok" if ok else "refused",
                                               tls))


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def read_first_line(path):
    with open(path, "rb") as f:
        return f.readline().rstrip(b"\r\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--auth-user")
    ap.add_argument("--auth-password-file")
    ap.add_argument("--reject-rcpt", action="append", default=[])
    a = ap.parse_args()
    # aiosmtpd warns about its own deprecations and about AUTH without TLS
    # (which --auth-user without TLS asks for on purpose); keep errors.
    logging.basicConfig(level=logging.ERROR)
    warnings.simplefilter("ignore")
    if a.starttls and a.implicit_tls:
        ap.error("--starttls and --implicit-tls exclude each other")
    if bool(a.auth_user) != bool(a.auth_password_file):
        ap.error("--auth-user and --auth-password-file go together")

    tls_ctx = None
    certkey = a.starttls or a.implicit_tls
    if certkey:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(certkey[0], certkey[1])

    kwargs = {"hostname": "smtpd.test", "ident": "gfsbackup test smtpd"}
    if a.starttls:
        kwargs["tls_context"] = tls_ctx
    if a.auth_user:
        user = a.auth_user.encode()
        password = read_first_line(a.auth_password_file)

        def authenticator(server, session, envelope, mechanism, data):
            if (isinstance(data, LoginPassword) and data.login == user and
                    data.password == password):
                return AuthResult(success=True, auth_data=data)
            return AuthResult(success=False, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # With STARTTLS, AUTH only after it (aiosmtpd's default).  With
        # implicit TLS the channel is already encrypted, but aiosmtpd only
        # knows about STARTTLS; with no TLS at all this is deliberately a
        # server that accepts a password in clear (the client must not
        # send one).
        kwargs["auth_require_tls"] = bool(a.starttls)

    handler = Handler(a.dir, a.reject_rcpt)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory():
        return LoggingSMTP(handler, a.dir, loop=loop, **kwargs)

    server = loop.run_until_complete(loop.create_server(
        factory, host=a.host, port=a.port,
        ssl=tls_ctx if a.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    write_atomic(a.ready_file, b"%d\n" % port)

    async def serve():
        await stop.wait()
        server.close()
        await server.wait_closed()

    try:
        loop.run_until_complete(serve())
        # Cancel what is still running (open sessions) and let it finish.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for t in pending:
            t.cancel()
        loop.run_until_complete(asyncio.gather(*pending,
                                               return_exceptions=True))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
