// Email over a real SMTP server (nodemailer's smtp-server on 127.0.0.1),
// links followed in Chromium: signup → verification email → verified;
// "Forgot your password?" → email → new password → the new one logs in and
// the old one does not; the SMTP server down at signup, the mail delivered
// once it is back; and, with no SMTP server configured, the outbox of a
// fresh data directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { startGatehouse, startApp, seed, launch, tempDir, cleanup, claims } from './harness.mjs';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a fresh long passphrase 42';
let gh, app, browser, dir, smtp, smtpPort;
const inbox = [];

/** A real SMTP server on `port` (0: any); every message lands in `inbox`, parsed. */
function startSmtp(port = 0) {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), mail });
        callback();
      }, callback);
    },
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function waitFor(check, what, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const mailsTo = (address) => inbox.filter((m) => m.to.includes(address));
const linkIn = (mail) => mail.html.match(/href="([^"]*ticket=[^"]*)"/)[1].replace(/&amp;/g, '&');

before(async () => {
  dir = tempDir();
  smtp = await startSmtp();
  smtpPort = smtp.server.address().port;
  app = await startApp();
  gh = await startGatehouse(dir, ['--smtp-url', `smtp://127.0.0.1:${smtpPort}`, '--smtp-from', 'Measurements <no-reply@measurements.test>']);
  seed(dir, {
    clients: [{ client_id: 'spa-client', name: 'Measurements SPA', app_type: 'spa',
      callbacks: [app.url + '/'], web_origins: [app.url], allowed_logout_urls: [app.url + '/'] }],
    users: [{ email: 'alice@example.com', password: PASSWORD, email_verified: true }],
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  gh?.child.kill();
  app?.server.close();
  smtp?.close();
  if (dir) cleanup(dir);
});

const spaOptions = () => ({
  domain: gh.url,
  clientId: 'spa-client',
  cacheLocation: 'memory',
  authorizationParams: { redirect_uri: app.url + '/', scope: 'openid profile email' },
});

/** auth0-spa-js's loginWithRedirect from the test SPA, stopped on Gatehouse's page `path`. */
async function openFromApp(context, path, extra = {}) {
  const page = await context.newPage();
  await page.goto(app.url + '/');
  const o = spaOptions();
  o.authorizationParams = { ...o.authorizationParams, ...extra };
  await Promise.all([page.waitForURL(gh.url + path + '?**'), page.evaluate((x) => window.start(x), o)]);
  return page;
}

/** Back at the app after a login or signup: consent once (loopback), then the tokens. */
async function finishAtApp(page) {
  await page.waitForURL((url) => url.href.startsWith(gh.url + '/u/consent') || url.href.startsWith(app.url + '/?'));
  if (page.url().startsWith(gh.url + '/u/consent')) {
    await page.click('button[value=accept]');
    await page.waitForURL(app.url + '/?**');
  }
  return page.evaluate(() => window.finish());
}

test('signup sends the verification email; its link verifies the address', async () => {
  const context = await browser.newContext();
  const page = await openFromApp(context, '/u/signup', { screen_hint: 'signup' });
  await page.fill('#email', 'carol@example.com');
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  const first = await finishAtApp(page);
  assert.equal(first.claims.email_verified, false);

  const [message] = await waitFor(() => mailsTo('carol@example.com').length && mailsTo('carol@example.com'), 'the verification email');
  assert.match(message.mail.from.text, /no-reply@measurements\.test/);
  assert.ok(message.mail.text.includes('ticket='), 'a plain-text part with the link');
  const link = linkIn(message.mail);
  assert.ok(link.startsWith(gh.url + '/u/email-verification?ticket='), link);
  const verify = await context.newPage();
  await verify.goto(link);
  assert.match(await verify.textContent('#message'), /Your email was verified/);

  // A fresh token (no cache) carries the verified address.
  const fresh = await page.evaluate(() => window.freshSilent());
  assert.ok(fresh.token, JSON.stringify(fresh));
  assert.equal(claims(fresh.token.id_token).email_verified, true);
  // The link is single-use (a new tab: the same URL with its '#' would not reload).
  const again = await context.newPage();
  await again.goto(link);
  assert.match(await again.textContent('#message'), /already used/);
  await context.close();
});

test('a forgotten password is reset through the emailed link', async () => {
  const context = await browser.newContext();
  const page = await openFromApp(context, '/u/login');
  await page.click('#forgot-password');
  await page.fill('#email', 'alice@example.com');
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#message'), /we have sent it a link/);
  const [message] = await waitFor(() => mailsTo('alice@example.com').length && mailsTo('alice@example.com'), 'the reset email');
  const link = linkIn(message.mail);
  assert.ok(link.startsWith(gh.url + '/u/reset-password?ticket='), link);
  await page.goto(link);
  await page.fill('#password', NEW_PASSWORD);
  await page.fill('#password_confirm', NEW_PASSWORD);
  await page.click('button[type=submit]');
  assert.match(await page.textContent('#message'), /Your password was changed/);

  const old = await openFromApp(await browser.newContext(), '/u/login');
  await old.fill('#email', 'alice@example.com');
  await old.fill('#password', PASSWORD);
  await old.click('button[type=submit]');
  assert.match(await old.textContent('#form-error'), /Wrong email or password/);

  const fresh = await openFromApp(await browser.newContext(), '/u/login');
  await fresh.fill('#email', 'alice@example.com');
  await fresh.fill('#password', NEW_PASSWORD);
  await fresh.click('button[type=submit]');
  const done = await finishAtApp(fresh);
  assert.equal(done.claims.email, 'alice@example.com');
  await context.close();
});

test('with the SMTP server down, signup succeeds and the email arrives once it is back', async () => {
  await new Promise((r) => smtp.close(r));
  const r = await fetch(gh.url + '/dbconnections/signup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'spa-client', email: 'dana@example.com', password: PASSWORD,
      connection: 'Username-Password-Authentication' }),
  });
  assert.equal(r.status, 200, await r.text());
  // Long enough for the first attempt to fail against the closed port.
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(mailsTo('dana@example.com').length, 0);
  smtp = await startSmtp(smtpPort);
  const [message] = await waitFor(() => mailsTo('dana@example.com').length && mailsTo('dana@example.com'), 'the retried email', 45000);
  assert.ok(linkIn(message.mail).includes('/u/email-verification?ticket='));
  await new Promise((res) => setTimeout(res, 1500));
  assert.equal(mailsTo('dana@example.com').length, 1, 'delivered once');
});

test('with no SMTP server, a fresh data directory gets an outbox and a log line with the link', async () => {
  const fresh = tempDir();
  const server = await startGatehouse(fresh, [], { GATEHOUSE_LOG: 'info' });
  try {
    seed(fresh, {
      clients: [{ client_id: 'spa-client', name: 'SPA', app_type: 'spa', callbacks: ['http://127.0.0.1/'] }],
      users: [{ email: 'erin@example.com', password: PASSWORD }],
    });
    const r = await fetch(server.url + '/dbconnections/change_password', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'spa-client', email: 'erin@example.com', connection: 'Username-Password-Authentication' }),
    });
    assert.equal(await r.text(), "We've just sent you an email to reset your password.");
    const outbox = join(fresh, 'outbox');
    const files = await waitFor(() => existsSync(outbox) && readdirSync(outbox).filter((f) => f.endsWith('.eml')).length
      && readdirSync(outbox).filter((f) => f.endsWith('.eml')), 'an .eml file');
    const mail = await simpleParser(readFileSync(join(outbox, files[0])));
    assert.equal(mail.to.text, 'erin@example.com');
    const link = linkIn(mail);
    const line = await waitFor(() => server.logs().split('\n').find((l) => l.includes('erin@example.com') && l.includes('ticket=')), 'the log line');
    assert.ok(line.includes(link.split('#')[0]), line);
  } finally {
    server.child.kill();
    cleanup(fresh);
  }
});
