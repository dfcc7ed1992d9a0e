// Auth0's quickstart post-login Action, unchanged, through auth0-spa-js in
// Chromium: deployed with `gatehouse actions deploy`, it puts the user's roles
// in the access and ID tokens, and denies a user whose email is not verified
// with its own reason, which auth0-spa-js surfaces as the error description.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGatehouse, startApp, seed, launch, tempDir, cleanup, claims, binary, explain } from './harness.mjs';

const API = 'https://measurements.example/';
const PASSWORD = 'correct horse battery staple';
const NS = 'https://measurements.example/';
const QUICKSTART = `exports.onExecutePostLogin = async (event, api) => {
  const ns = 'https://measurements.example/';
  api.accessToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  api.idToken.setCustomClaim(ns + 'roles', event.authorization.roles);
  if (!event.user.email_verified) api.access.deny('Please verify your email first.');
};
`;
let gh, app, browser, dir;

before(async () => {
  dir = tempDir();
  app = await startApp();
  gh = await startGatehouse(dir);
  seed(dir, {
    apis: [{ name: 'Measurements', identifier: API, enforce_policies: true, token_dialect: 'access_token_authz',
      scopes: [{ value: 'read:measurements', description: 'Read your measurements' }] }],
    clients: [{ client_id: 'spa-client', name: 'Measurements SPA', app_type: 'spa',
      callbacks: [app.url + '/'], web_origins: [app.url], allowed_logout_urls: [app.url + '/'] }],
    roles: [{ name: 'reader', permissions: [{ resource_server_identifier: API, permission_name: 'read:measurements' }] }],
    users: [
      { email: 'alice@example.com', password: PASSWORD, roles: ['reader'], email_verified: true },
      { email: 'carol@example.com', password: PASSWORD, email_verified: false },
    ],
  });
  const file = join(dir, 'add-roles.js');
  writeFileSync(file, QUICKSTART);
  const out = execFileSync(binary, ['actions', 'deploy', file, '--trigger', 'post-login', '--name', 'Add roles',
    '--data-dir', dir], { env: { ...process.env, GATEHOUSE_LOG: 'warn' } }).toString();
  assert.match(out, /Add roles/, out);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  gh?.child.kill();
  app?.server.close();
  if (dir) cleanup(dir);
});

const options = {
  clientId: 'spa-client',
  cacheLocation: 'memory',
  authorizationParams: { audience: API, scope: 'openid profile email read:measurements' },
};

async function logIn(email) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(app.url + '/');
  const o = { ...options, domain: gh.url, authorizationParams: { ...options.authorizationParams, redirect_uri: app.url + '/' } };
  await Promise.all([page.waitForURL(gh.url + '/u/login?**'), page.evaluate((x) => window.start(x), o)]);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await page.click('button[type=submit]');
  // A loopback callback: the consent screen shows once.
  await page.waitForURL(gh.url + '/u/consent?**');
  await page.click('button[value=accept]');
  await page.waitForURL(app.url + '/?**');
  return { context, page };
}

test('the roles quickstart Action puts the roles in both tokens', async () => {
  const { context, page } = await logIn('alice@example.com');
  const r = await page.evaluate(() => window.finish());
  assert.deepEqual(r.claims[NS + 'roles'], ['reader']);
  const at = claims(r.token.access_token);
  assert.deepEqual(at[NS + 'roles'], ['reader']);
  assert.deepEqual(at.permissions, ['read:measurements']);
  // The trace says who put the claim there.
  const why = explain(dir, r.token.access_token);
  assert.equal(why.status, 0, why.stderr);
  assert.match(why.stdout, /claim https:\/\/measurements\.example\/roles set by the Action 'Add roles'/, why.stdout);
  await context.close();
});

test('an unverified user is denied with the Action\'s reason', async () => {
  const { context, page } = await logIn('carol@example.com');
  const r = await page.evaluate(() => window.finish().then(
    () => ({ error: 'none' }),
    (e) => ({ error: e.error, description: e.error_description }),
  ));
  assert.deepEqual(r, { error: 'access_denied', description: 'Please verify your email first.' });
  await context.close();
});
