"""Email through the real auth0-python (4.9.0), over a real SMTP server (aiosmtpd).

A Gatehouse started with `--smtp-url` pointing at aiosmtpd on 127.0.0.1:
`Database.signup` answers Auth0's body and sends the verification email,
whose link verifies the address; `Database.change_password` answers Auth0's
sentence and sends the reset link; the Management API's `Tickets`, `Jobs`,
`EmailTemplates` and `Emails` clients work as written for Auth0; a template
change shows in the next email; errors surface as Auth0Error with Auth0's codes.
"""

import email
import re
import socket
import threading
import time
import types

import pytest
import requests
from aiosmtpd.controller import Controller
from auth0.authentication import Database, GetToken
from auth0.exceptions import Auth0Error
from auth0.management import Clients, EmailTemplates, Emails, Jobs, Tickets, Users

from conftest import running_gatehouse

PASSWORD = "correct horse battery staple"
CONNECTION = "Username-Password-Authentication"


class Inbox:
    """aiosmtpd handler: keeps every delivered message, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def wait_for(self, address, count=1, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                found = [m for to, m in self.messages if address in to]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} message(s) to {address} within {timeout} s")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def html_of(message):
    for part in message.walk():
        if part.get_content_type() == "text/html":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def link_in(message):
    return re.search(r'href="([^"]*ticket=[^"#]*)', html_of(message)).group(1).replace("&amp;", "&")


@pytest.fixture(scope="module")
def world():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with running_gatehouse(["--smtp-url", f"smtp://127.0.0.1:{port}"]) as gh:
            creds = gh.creds
            token = GetToken(
                gh.domain,
                creds["management_client_id"],
                creds["management_client_secret"],
                protocol="http",
            ).client_credentials(creds["management_audience"])["access_token"]
            mgmt = types.SimpleNamespace(
                users=Users(gh.domain, token, protocol="http"),
                clients=Clients(gh.domain, token, protocol="http"),
                tickets=Tickets(gh.domain, token, protocol="http"),
                jobs=Jobs(gh.domain, token, protocol="http"),
                email_templates=EmailTemplates(gh.domain, token, protocol="http"),
                emails=Emails(gh.domain, token, protocol="http"),
            )
            spa = mgmt.clients.create(
                {"name": "py-spa", "app_type": "spa", "callbacks": ["http://127.0.0.1:9/cb"]}
            )
            yield {"gh": gh, "inbox": inbox, "mgmt": mgmt, "spa": spa["client_id"]}
    finally:
        controller.stop()


def database(world):
    return Database(world["gh"].domain, world["spa"], protocol="http")


def test_signup_answers_auth0s_body_and_the_verification_link_verifies(world):
    reply = database(world).signup(
        email="py-carol@example.com", password=PASSWORD, connection=CONNECTION, given_name="Carol"
    )
    assert reply["email"] == "py-carol@example.com"
    assert reply["email_verified"] is False
    assert reply["given_name"] == "Carol"
    user_id = "auth0|" + reply["_id"]
    [message] = world["inbox"].wait_for("py-carol@example.com")
    link = link_in(message)
    assert "/u/email-verification?ticket=" in link
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    assert "Your email was verified" in page.text
    assert world["mgmt"].users.get(user_id)["email_verified"] is True
    assert requests.get(link, timeout=10).status_code == 400


def test_signup_errors_are_auth0_errors(world):
    db = database(world)
    with pytest.raises(Auth0Error) as taken:
        db.signup(email="py-carol@example.com", password=PASSWORD, connection=CONNECTION)
    assert (taken.value.status_code, taken.value.error_code) == (400, "invalid_signup")
    with pytest.raises(Auth0Error) as weak:
        db.signup(email="py-weak@example.com", password="password", connection=CONNECTION)
    assert weak.value.error_code == "invalid_password"
    assert weak.value.message == "Password is too common"


def test_change_password_sends_a_reset_link(world):
    db = database(world)
    db.signup(email="py-dora@example.com", password=PASSWORD, connection=CONNECTION)
    answer = db.change_password(email="py-dora@example.com", connection=CONNECTION)
    assert answer == "We've just sent you an email to reset your password."
    assert db.change_password(email="py-nobody@example.com", connection=CONNECTION) == answer
    messages = world["inbox"].wait_for("py-dora@example.com", count=2)
    link = link_in(messages[-1])
    assert "/u/reset-password?ticket=" in link
    page = requests.get(link, timeout=10)
    assert page.status_code == 200
    assert "Set a new password" in page.text


def test_management_tickets_and_the_verification_job(world):
    mgmt = world["mgmt"]
    user = mgmt.users.create(
        {"email": "py-erin@example.com", "password": PASSWORD, "connection": CONNECTION}
    )
    ticket = mgmt.tickets.create_pswd_change(
        {"user_id": user["user_id"], "result_url": "https://app.example/done", "ttl_sec": 600}
    )["ticket"]
    assert "/u/reset-password?ticket=" in ticket
    assert requests.get(ticket, timeout=10).status_code == 200
    verification = mgmt.tickets.create_email_verification({"user_id": user["user_id"]})["ticket"]
    assert "/u/email-verification?ticket=" in verification
    job = mgmt.jobs.send_verification_email({"user_id": user["user_id"]})
    assert job["type"] == "verification_email"
    assert job["status"] == "pending"
    world["inbox"].wait_for("py-erin@example.com")
    for _ in range(100):
        if mgmt.jobs.get(job["id"])["status"] == "completed":
            break
        time.sleep(0.05)
    assert mgmt.jobs.get(job["id"])["status"] == "completed"


def test_a_template_change_shows_in_the_next_email(world):
    mgmt = world["mgmt"]
    template = mgmt.email_templates.get("verify_email")
    assert template["syntax"] == "liquid"
    assert template["enabled"] is True
    mgmt.email_templates.update(
        "verify_email", {"subject": "Confirm {{ user.email }} for {{ application.name }}"}
    )
    database(world).signup(email="py-finn@example.com", password=PASSWORD, connection=CONNECTION)
    [message] = world["inbox"].wait_for("py-finn@example.com")
    assert message["Subject"] == "Confirm py-finn@example.com for py-spa"
    with pytest.raises(Auth0Error) as broken:
        mgmt.email_templates.update("verify_email", {"body": "{% if %}"})
    assert broken.value.status_code == 400


def test_the_provider_password_is_write_only(world):
    mgmt = world["mgmt"]
    secret = "py-smtp-password-never-returned"
    mgmt.emails.config(
        {
            "name": "smtp",
            "enabled": False,
            "default_from_address": "no-reply@py.example",
            "credentials": {"smtp_host": "127.0.0.1", "smtp_port": 2525, "smtp_user": "py", "smtp_pass": secret},
        }
    )
    provider = mgmt.emails.get()
    assert provider["name"] == "smtp"
    assert provider["credentials"]["smtp_user"] == "py"
    assert secret not in str(provider)
    mgmt.emails.delete()
