"""A real SMTP server for the mail crate's tests (aiosmtpd).

Listens on 127.0.0.1 at a free port, prints the port, and stores each
delivered message as <dir>/<n>.eml with its envelope in <dir>/<n>.json.
Recipients containing "reject" get 550, "later" get 451. AUTH PLAIN/LOGIN is
offered without TLS (loopback only) and accepts user "mailer", password
"s3cret:@/pw"; every AUTH attempt is logged to <dir>/auth.log.
"""

import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP, AuthResult

OUT = sys.argv[1]
USER, PASSWORD = b"mailer", b"s3cret:@/pw"


class Handler:
    def __init__(self):
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 no such user"
        if "later" in address:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(OUT, str(self.count))
        with open(base + ".json", "w") as f:
            json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                       "auth": bool(session.authenticated)}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted"


def authenticator(server, session, envelope, mechanism, auth_data):
    with open(os.path.join(OUT, "auth.log"), "a") as f:
        f.write(f"{mechanism} {auth_data.login!r}\n")
    ok = auth_data.login == USER and auth_data.password == PASSWORD
    # handled=False: aiosmtpd answers 535 itself on failure.
    return AuthResult(success=ok, handled=False)


async def main():
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, authenticator=authenticator, auth_require_tls=False),
        "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
