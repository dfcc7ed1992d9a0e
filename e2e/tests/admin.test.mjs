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
  admin = bootstrapAdmin(dir);
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
  assert.ok(overflow <= 1, `${name} scrolls sideways at 375 px by ${overflow} px`);
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
