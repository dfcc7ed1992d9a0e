// auth0-spa-js against Gatehouse in Chromium: login through the login and
// consent pages, handleRedirectCallback, getUser, silent authentication in
// a hidden iframe (web_message) and with refresh tokens, loginWithPopup,
// logout; seed 000 (RBAC scope and permissions) and seed 001 (opaque token
// for /userinfo without an audience).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, startApp, seed, launch, tempDir, cleanup, claims, explain } from './harness.mjs';

const API = 'https://measurements.example/';
const PASSWORD = 'correct horse battery staple';
const shots = process.env.E2E_SCREENSHOTS || '/tmp';
let gh, app, browser, dir;

before(async () => {
  dir = tempDir();
  app = await startApp();
  gh = await startGatehouse(dir);
  const spa = (client_id, name) => ({
    client_id, name, app_type: 'spa',
    callbacks: [app.url + '/'], web_origins: [app.url], allowed_logout_urls: [app.url + '/'],
  });
  seed(dir, {
    apis: [
      { name: 'Measurements', identifier: API, enforce_policies: true, token_dialect: 'access_token_authz',
        allow_offline_access: true,
        scopes: [{ value: 'read:measurements', description: 'Read your measurements' },
          { value: 'write:measurements', description: 'Record measurements' }] },
      { name: 'Other', identifier: 'https://other.example/', scopes: [{ value: 'myscope' }] },
    ],
    clients: [spa('spa-client', 'Measurements SPA'), spa('generic-client', 'Generic OIDC app')],
    roles: [{ name: 'reader', permissions: [{ resource_server_identifier: API, permission_name: 'read:measurements' }] }],
    users: [
      { email: 'alice@example.com', password: PASSWORD, roles: ['reader'], email_verified: true },
      { email: 'bob@example.com', password: PASSWORD, email_verified: true },
    ],
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  gh?.child.kill();
  app?.server.close();
  if (dir) cleanup(dir);
});

function options(extra = {}) {
  return {
    domain: gh.url,
    clientId: 'spa-client',
    cacheLocation: 'memory',
    useRefreshTokens: false,
    authorizationParams: { audience: API, scope: 'openid profile email read:measurements', redirect_uri: app.url + '/' },
    ...extra,
  };
}

async function logIn(page, email, { consent, screenshot } = {}) {
  await page.waitForURL(gh.url + '/u/login?**');
  if (screenshot) await page.screenshot({ path: `${shots}/gatehouse-login.png` });
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  if (consent) {
    await page.waitForURL(gh.url + '/u/consent?**');
    if (screenshot) await page.screenshot({ path: `${shots}/gatehouse-consent.png`, fullPage: true });
    await page.click('button[value=accept]');
  }
  await page.waitForURL(app.url + '/?**');
}

test('seed 000: alice (role reader) logs in, silent auth by iframe and by refresh token, logout', async () => {
  // offline_access from the start: the localhost consent then covers the refresh-token client too.
  const alice = (extra = {}) => options({
    authorizationParams: { audience: API, scope: 'openid profile email read:measurements offline_access', redirect_uri: app.url + '/' },
    ...extra,
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/');
  await Promise.all([page.waitForURL(gh.url + '/u/login?**'), page.evaluate((o) => window.start(o), alice())]);
  // A loopback callback: the consent screen shows once even for a first-party app.
  await logIn(page, 'alice@example.com', { consent: true, screenshot: true });
  const r = await page.evaluate(() => window.finish());
  assert.equal(r.user.email, 'alice@example.com');
  assert.equal(r.claims.iss, gh.url + '/');
  assert.equal(r.claims.aud, 'spa-client');
  assert.ok(r.claims.sid);
  const at = claims(r.token.access_token);
  assert.deepEqual(at.aud, [API, gh.url + '/userinfo']);
  assert.equal(at.scope, 'openid profile email read:measurements offline_access');
  assert.deepEqual(at.permissions, ['read:measurements']);

  // Hidden iframe, response_mode=web_message, prompt=none, SSO cookie.
  const silent = await page.evaluate(() => window.silent());
  assert.notEqual(silent.access_token, r.token.access_token);
  assert.match(claims(silent.access_token).scope, /read:measurements/);

  // Refresh tokens on: the first call gets a refresh token through the
  // iframe, the second uses the refresh grant.
  await page.evaluate(async (o) => {
    window.c = await auth0.createAuth0Client(o);
    sessionStorage.setItem('e2e-opts', JSON.stringify(o));
  }, alice({ useRefreshTokens: true, useRefreshTokensFallback: true }));
  const viaIframe = await page.evaluate(() => window.c.getTokenSilently({ cacheMode: 'off', detailedResponse: true }));
  const viaRefresh = await page.evaluate(() => window.c.getTokenSilently({ cacheMode: 'off', detailedResponse: true }));
  assert.ok(viaIframe.access_token && viaRefresh.access_token);
  assert.equal(claims(viaRefresh.access_token).gty, 'refresh_token');
  assert.match(viaRefresh.scope, /read:measurements/);

  // Logout ends the SSO session: silent authentication now needs a login.
  await Promise.all([page.waitForURL(app.url + '/'), page.evaluate(() => window.logout())]);
  const after = await page.evaluate((o) => { sessionStorage.setItem('e2e-opts', JSON.stringify(o)); return window.freshSilent(); }, alice());
  assert.equal(after.error, 'login_required');
  await context.close();
});

test('seed 000: bob (no role) logs in with a popup and gets neither scope nor permission', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/');
  await page.evaluate((o) => sessionStorage.setItem('e2e-opts', JSON.stringify(o)), options());
  const [popup] = await Promise.all([page.waitForEvent('popup'), page.click('#popup')]);
  await popup.waitForURL(gh.url + '/u/login?**');
  await popup.fill('#email', 'bob@example.com');
  await popup.fill('#password', PASSWORD);
  await popup.click('button[type=submit]');
  await popup.waitForURL(gh.url + '/u/consent?**');
  await popup.click('button[value=accept]');
  await page.waitForFunction(() => window.popupResult, null, { timeout: 30000 });
  const r = await page.evaluate(() => window.popupResult);
  assert.equal(r.error, undefined, JSON.stringify(r));
  assert.equal(r.claims.email, 'bob@example.com');
  const at = claims(r.token.access_token);
  assert.equal(at.scope, 'openid profile email');
  assert.deepEqual(at.permissions, []);

  // One command says why, and what to change.
  const why = explain(dir, r.token.access_token);
  assert.equal(why.status, 0, why.stderr);
  const out = why.stdout;
  assert.match(out, /- scope read:measurements: dropped \(RBAC: the user lacks the permission\)/, out);
  assert.match(out, /bob@example\.com/, out);
  assert.match(out, /fix: .*reader/, out);
  assert.match(out, /ok {3}signature/, out);
  assert.doesNotMatch(out, /\x1b\[/, 'no colour when not on a terminal');
  await context.close();
});

test('seed 001: code + PKCE without audience gets an opaque token that works at /userinfo', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/');
  const o = options({ clientId: 'generic-client', authorizationParams: { scope: 'openid profile email myscope', redirect_uri: app.url + '/' } });
  await Promise.all([page.waitForURL(gh.url + '/u/login?**'), page.evaluate((x) => window.start(x), o)]);
  await logIn(page, 'alice@example.com');
  const r = await page.evaluate(() => window.finish());
  assert.equal(r.token.access_token.split('.').length, 1, 'opaque access token');
  assert.equal(r.token.scope, 'openid profile email');
  const info = await page.evaluate(([d, t]) => window.userinfo(d, t), [gh.url, r.token.access_token]);
  assert.equal(info.status, 200);
  assert.equal(info.body.email, 'alice@example.com');
  assert.equal(info.body.sub, r.claims.sub);

  // Seed 001's question, answered: opaque because no audience, and how to give one.
  const why = explain(dir, r.token.access_token);
  assert.equal(why.status, 0, why.stderr);
  assert.match(why.stdout, /token format: opaque, because no audience was given/, why.stdout);
  for (const way of ['audience=', 'resource=', 'default audience', 'infer_audience_from_scope', 'customQueryParams']) {
    assert.ok(why.stdout.includes(way), `${way} missing: ${why.stdout}`);
  }
  assert.match(why.stdout, /- scope myscope: dropped/, why.stdout);
  await context.close();
});

test('seed 001: the same client sending RFC 8707 resource gets a JWT with the custom scope', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/');
  const o = options({
    clientId: 'generic-client',
    authorizationParams: { scope: 'openid profile email myscope', resource: 'https://other.example/', redirect_uri: app.url + '/' },
  });
  await Promise.all([page.waitForURL(gh.url + '/u/login?**'), page.evaluate((x) => window.start(x), o)]);
  // An API and a localhost callback: the consent screen, once.
  await logIn(page, 'bob@example.com', { consent: true });
  const r = await page.evaluate(() => window.finish());
  const at = claims(r.token.access_token);
  assert.deepEqual(at.aud, ['https://other.example/', gh.url + '/userinfo']);
  assert.equal(at.scope, 'openid profile email myscope');
  await context.close();
});

test('an unregistered redirect_uri shows the error page and never redirects', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const resp = await page.goto(`${gh.url}/authorize?client_id=spa-client&response_type=code&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&code_challenge=${'a'.repeat(43)}&code_challenge_method=S256`);
  assert.equal(resp.status(), 400);
  assert.ok(page.url().startsWith(gh.url));
  assert.match(await page.textContent('main'), /not in the list of allowed callback URLs/);
  await page.screenshot({ path: `${shots}/gatehouse-error.png` });
  await context.close();
});
