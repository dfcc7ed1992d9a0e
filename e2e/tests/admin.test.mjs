// The dashboard at /admin in Chromium: the bootstrap admin signs in through
// /authorize and sets up the whole seed 000 story with the dashboard alone
// (API with RBAC and permissions in the token, the SPA, alice and bob, the
// role reader); bob logs in with auth0-spa-js, the dropped scope is explained
// on the logs page, the role is assigned, and bob's next token carries it.
// Every page is screenshotted (phone and desktop) and checked with axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, startApp, launch, tempDir, cleanup, claims, bootstrapAdmin, accessibilityProblems } from './harness.mjs';

const API = 'https://measurements.example/';
const PASSWORD = 'correct horse battery staple';
const shots = process.env.E2E_SCREENSHOTS || '/tmp';
let gh, app, browser, dir, admin, dashboard, page;
const checked = [];

before(async () => {
  dir = tempDir();
  app = await startApp();
  gh = await startGatehouse(dir);
  admin = await bootstrapAdmin(dir);
  browser = await launch();
  // axe is injected as a script: the dashboard's CSP allows only its own.
  dashboard = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
  page = await dashboard.newPage();
});

after(async () => {
  await browser?.close();
  gh?.child.kill();
  app?.server.close();
  if (dir) cleanup(dir);
});

/** Screenshot (desktop, then 375 px wide) and axe check of the current page. */
async function look(name) {
  await page.waitForLoadState('load');
  const problems = await accessibilityProblems(page);
  assert.deepEqual(problems, [], `accessibility of ${name} (${page.url()})`);
  await page.screenshot({ path: `${shots}/gatehouse-admin-${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 375, height: 760 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((e) => !e.parentElement.closest('.table-wrap, pre'))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px`));
  assert.ok(overflow <= 1, `${name} scrolls sideways at 375 px by ${overflow} px: ${wide.join(', ')}`);
  await page.screenshot({ path: `${shots}/gatehouse-admin-${name}-phone.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 860 });
  checked.push(name);
}

async function go(path) {
  const response = await page.goto(gh.url + path);
  assert.equal(response.status(), 200, `${path}: ${await page.content()}`);
}

test('a signed-out browser gets the sign-in page, then the bootstrap admin signs in', async () => {
  await page.goto(gh.url + '/admin/users');
  assert.match(page.url(), /\/admin\/sign-in\?return_to=/);
  await look('sign-in');
  await page.click('text=Sign in with');
  await page.waitForURL(gh.url + '/u/login?**');
  await page.fill('#email', admin.email);
  await page.fill('#password', admin.password);
  await page.click('button[type=submit]');
  await page.waitForURL(gh.url + '/admin/users**');
  await go('/admin');
  await look('home');
});

/** Clicks the submit button named `label` and waits for the next page. */
async function submit(label) {
  await Promise.all([page.waitForNavigation(), page.click(`main button:has-text("${label}")`)]);
  assert.notEqual(page.url().includes('/admin/sign-in'), true, 'still signed in');
  const status = await page.evaluate(() => document.title);
  assert.doesNotMatch(status, /^Error/, `after "${label}": ${await page.textContent('main')}`);
}

const paths = {};

test('seed 000, set up in the dashboard alone: the API, the SPA, alice and bob, the role reader', async () => {
  // The API with RBAC and permissions in the token.
  await go('/admin/apis');
  await look('apis');
  await go('/admin/apis/new');
  await page.fill('#f-name', 'Measurements');
  await page.fill('#f-identifier', API);
  await look('api-new');
  await submit('Create API');
  paths.api = new URL(page.url()).pathname;
  await page.check('input[name=rbac]');
  await page.check('input[name=add_permissions]');
  await submit('Save');
  assert.equal(await page.isChecked('input[name=add_permissions]'), true);
  await look('api-settings');
  await go(paths.api + '/permissions');
  for (const [value, description] of [['read:measurements', 'Read measurements'], ['write:measurements', 'Record measurements']]) {
    await page.fill('#f-value', value);
    await page.fill('#f-description', description);
    await submit('Add');
  }
  assert.match(await page.textContent('main'), /write:measurements/);
  await look('api-permissions');
  await go(paths.api + '/m2m');
  await look('api-m2m');

  // The single-page application, with the test SPA's URLs.
  await go('/admin/applications');
  await look('applications');
  await go('/admin/applications/new');
  await page.fill('#f-name', 'Measurements SPA');
  await page.check('input[name=app_type][value=spa]');
  await look('application-new');
  await submit('Create');
  paths.clientId = (await page.textContent('#client-id')).trim();
  paths.app = `/admin/applications/${paths.clientId}`;
  await go(paths.app);
  await page.fill('#f-callbacks', app.url + '/');
  await page.fill('#f-web_origins', app.url);
  await page.fill('#f-allowed_logout_urls', app.url + '/');
  await submit('Save changes');
  assert.equal(await page.inputValue('#f-web_origins'), app.url);
  await look('application-settings');
  await go(paths.app + '/quickstart');
  const quickstart = await page.textContent('main');
  assert.match(quickstart, new RegExp(paths.clientId));
  assert.match(quickstart, /allowedList/);
  assert.match(quickstart, /customQueryParams/);
  await look('application-quickstart');
  await go(paths.app + '/apis');
  await look('application-apis');

  // alice and bob.
  for (const email of ['alice@example.com', 'bob@example.com']) {
    await go('/admin/users/new');
    await page.fill('#f-email', email);
    await page.fill('#f-password', PASSWORD);
    await page.check('input[name=email_verified]');
    if (email.startsWith('alice')) await look('user-new');
    await submit('Create user');
    paths[email] = new URL(page.url()).pathname;
  }
  await look('user-profile');
  await go('/admin/users');
  assert.match(await page.textContent('main'), /bob@example\.com/);
  await look('users');

  // The role reader, with read:measurements, given to alice.
  await go('/admin/roles/new');
  await page.fill('#f-name', 'reader');
  await page.fill('#f-description', 'Reads measurements');
  await look('role-new');
  await submit('Create role');
  paths.role = new URL(page.url()).pathname.replace(/\/permissions$/, '');
  await go(paths.role + '/permissions');
  await page.locator('label.check', { hasText: 'read:measurements' }).locator('input').first().check();
  await submit('Add permissions');
  await look('role-permissions');
  await go(paths.role + '/users');
  await page.fill('#f-user', 'alice@example.com');
  await submit('Add user');
  assert.match(await page.textContent('main'), /alice@example\.com/);
  await look('role-users');
  await go('/admin/roles');
  await look('roles');
});

/**
 * Logs in to the test SPA as `email` with auth0-spa-js (through the login
 * page, or straight through with an SSO session; the consent page when a
 * scope is new, since the redirect URI is a loopback one); returns its result.
 */
async function spaLogin(context, email) {
  const spa = await context.newPage();
  await spa.goto(app.url + '/');
  const options = {
    domain: gh.url,
    clientId: paths.clientId,
    cacheLocation: 'memory',
    authorizationParams: { audience: API, scope: 'openid profile email read:measurements', redirect_uri: app.url + '/' },
  };
  const landed = (url) => ['/u/login', '/u/consent'].includes(url.pathname) || (url.origin === app.url && url.search.includes('code='));
  await Promise.all([spa.waitForURL(landed), spa.evaluate((o) => window.start(o), options)]);
  if (new URL(spa.url()).pathname === '/u/login') {
    await spa.fill('#email', email);
    await spa.fill('#password', PASSWORD);
    await Promise.all([spa.waitForURL(landed), spa.click('button[type=submit]')]);
  }
  if (new URL(spa.url()).pathname === '/u/consent') {
    await Promise.all([spa.waitForURL(app.url + '/?**'), spa.click('button[value=accept]')]);
  }
  const result = await spa.evaluate(() => window.finish());
  await spa.close();
  return result;
}

test('bob has no role: the dropped scope is explained on the logs page, the fix assigns the role, and the next token carries it', async () => {
  const bobContext = await browser.newContext();
  const result = await spaLogin(bobContext, 'bob@example.com');
  const first = claims(result.token.access_token);
  assert.equal(first.scope.includes('read:measurements'), false, first.scope);
  assert.deepEqual(first.permissions, []);
  paths.bobToken = result.token.access_token;

  await go('/admin/logs?user=bob%40example.com&type=seacft');
  await look('logs');
  await Promise.all([page.waitForNavigation(), page.click('main table a:has-text("View")')]);
  const event = await page.textContent('main');
  assert.match(event, /read:measurements/);
  assert.match(event, /reader/, 'the fix names the role that grants it');
  await look('log-event');
  const fix = page.locator(`main a[href="${paths['bob@example.com']}/roles"]`).first();
  await Promise.all([page.waitForNavigation(), fix.click()]);
  await page.selectOption('#f-role', { label: 'reader' });
  await submit('Assign');
  assert.match(await page.textContent('main'), /reader/);
  await look('user-roles');
  await go(paths['bob@example.com'] + '/permissions');
  assert.match(await page.textContent('main'), /role reader/i);
  await look('user-permissions');

  // Bob's next login (his SSO session; the consent page asks for the new scope) carries it.
  const again = await spaLogin(bobContext, 'bob@example.com');
  const second = claims(again.token.access_token);
  assert.ok(second.scope.split(' ').includes('read:measurements'), second.scope);
  assert.deepEqual(second.permissions, ['read:measurements']);
  await bobContext.close();
});

test('why this token and simulate, settings, home', async () => {
  await go('/admin/why');
  await page.fill('textarea', paths.bobToken);
  await submit('Explain');
  assert.match(await page.textContent('main'), /read:measurements/);
  await look('why');
  await go(`/admin/why/simulate?client=${paths.clientId}&grant=authorization_code&user=bob%40example.com&api=${encodeURIComponent(API)}&scope=openid+read%3Ameasurements`);
  assert.match(await page.textContent('main'), /read:measurements/);
  await look('why-simulate');
  await go('/admin/settings');
  await look('settings');
  await go('/admin');
  await look('home-after-setup');
  await go(paths['bob@example.com'] + '/logs');
  await look('user-logs');
  await go(paths['bob@example.com'] + '/roles');
  await look('user-roles-assigned');
  await go(paths.app + '/danger');
  await look('application-danger');
  // A destructive action asks first, on its own page.
  await go(paths.role + '/delete');
  assert.match(await page.textContent('main'), /reader/);
  await look('confirm-delete-role');
  const missing = await page.goto(gh.url + '/admin/applications/no-such-app');
  assert.equal(missing.status(), 404);
  await look('not-found');
});

test('a form posted without its CSRF token changes nothing; a user without the permission sees only the sign-in page', async () => {
  const status = await page.evaluate(async () => {
    const r = await fetch('/admin/roles/new', { method: 'POST', body: new URLSearchParams({ name: 'sneaky' }) });
    return r.status;
  });
  assert.equal(status, 403);
  await go('/admin/roles');
  assert.doesNotMatch(await page.textContent('main'), /sneaky/);

  const context = await browser.newContext({ bypassCSP: true });
  const bob = await context.newPage();
  await bob.goto(gh.url + '/admin/roles');
  await bob.click('text=Sign in with');
  await bob.waitForURL(gh.url + '/u/login?**');
  await bob.fill('#email', 'alice@example.com');
  await bob.fill('#password', PASSWORD);
  await bob.click('button[type=submit]');
  await bob.waitForURL(gh.url + '/admin/callback?**');
  assert.match(await bob.textContent('main'), /cannot use the dashboard/);
  await bob.screenshot({ path: `${shots}/gatehouse-admin-refused.png`, fullPage: true });
  const resp = await bob.goto(gh.url + '/admin/users');
  assert.match(bob.url(), /\/admin\/sign-in/);
  assert.equal(resp.status(), 200);
  await context.close();
  assert.ok(checked.length >= 25, `pages checked: ${checked.join(', ')}`);
});
