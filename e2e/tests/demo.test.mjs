// `gatehouse serve --demo` in Chromium, as a newcomer follows its banner:
// alice reads the measurements, bob is refused with 403, and the page
// explains bob's token with the fix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startGatehouse, launch, tempDir, cleanup, run } from './harness.mjs';

let gh, browser, dir, banner;

/** The banner's "Log in as <email> (password <password>)" for `name`. */
function password(name) {
  const m = banner.match(new RegExp(`in as ${name}@example\\.com \\(password (\\S+)\\)`));
  assert.ok(m, `the banner prints ${name}'s password:\n${banner}`);
  return m[1];
}

before(async () => {
  dir = tempDir();
  gh = await startGatehouse(dir, ['--demo']);
  for (let i = 0; i < 100 && !gh.output().includes('Start over'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  banner = gh.output();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  gh?.child.kill();
  if (dir) cleanup(dir);
});

/** Logs in through the demo page's button, the login page and, on first use, consent. */
async function logIn(page, name) {
  await page.goto(gh.url + '/demo');
  await page.click(`#login-${name}`);
  await page.waitForURL(gh.url + '/u/login?**');
  assert.equal(await page.inputValue('#email'), `${name}@example.com`, 'login_hint fills the email');
  await page.fill('#password', password(name));
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.pathname === '/demo' || url.pathname === '/u/consent');
  if (new URL(page.url()).pathname === '/u/consent') {
    await page.click('button[value=accept]');
  }
  await page.waitForSelector('#signed-in:not([hidden])');
}

async function readMeasurements(page) {
  const answer = page.waitForResponse((r) => r.url().endsWith('/demo/api/measurements'));
  await page.click('#read');
  const response = await answer;
  await page.waitForFunction(() => document.getElementById('status').textContent !== '');
  return response;
}

test('the banner says loudly it is a demo and what to try', () => {
  assert.match(banner, /DEMO MODE/);
  assert.match(banner, new RegExp(`Open ${gh.url}/demo`));
  assert.match(banner, /gatehouse explain <bob's access token> --data-dir/);
  password('alice');
  password('bob');
});

test('alice (role reader) reads the measurements', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, 'alice');
  assert.equal(await page.textContent('#who'), 'alice@example.com');
  const claims = JSON.parse(await page.textContent('#claims'));
  assert.match(claims.scope, /\bread:measurements\b/);
  assert.deepEqual(claims.permissions, ['read:measurements']);
  const response = await readMeasurements(page);
  assert.equal(response.status(), 200);
  assert.match(response.request().headers().authorization, /^Bearer ey/);
  assert.match(await page.textContent('#status'), /^200/);
  assert.match(await page.textContent('#result'), /greenhouse/);
  assert.equal(await page.isHidden('#why'), true);
  await context.close();
});

test('bob (no role) is refused with 403, and the page explains why with the fix', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await logIn(page, 'bob');
  const claims = JSON.parse(await page.textContent('#claims'));
  assert.doesNotMatch(claims.scope, /read:measurements/, 'RBAC drops the scope bob has no role for');
  const response = await readMeasurements(page);
  assert.equal(response.status(), 403);
  assert.match(response.headers()['www-authenticate'], /error="insufficient_scope"/);
  assert.match(await page.textContent('#status'), /^403 insufficient_scope/);
  await page.waitForSelector('#why:not([hidden])');
  await page.waitForFunction(() => document.getElementById('explanation').textContent !== '');
  const explanation = await page.textContent('#explanation');
  assert.match(explanation, /scope read:measurements: dropped \(RBAC/);
  assert.match(explanation, /fix: Assign the role reader or the permission read:measurements to bob@example\.com/);
  assert.equal(await page.getAttribute('#why-link', 'href'), '/admin/why');

  // The command the page prints gives the same explanation in a terminal.
  const command = (await page.textContent('#command')).split(' ');
  assert.deepEqual([command[0], command[1], command[3], command[5]],
    ['gatehouse', 'explain', '--data-dir', '--public-url']);
  const terminal = run(command.slice(1));
  assert.equal(terminal.status, 0, terminal.stderr);
  // The same summary and facts; times ("expires in …") may differ by the seconds between.
  assert.equal(terminal.stdout.split('\n')[0], explanation.split('\n')[0]);
  assert.match(terminal.stdout, /read:measurements/);
  await context.close();
});
