// The Angular examples, built with the Angular CLI from their own
// package-lock.json and driven in Chromium against a real Gatehouse:
// examples/angular-auth0 (seed 000: auth0-angular's interceptor calling the
// Rust Measurements API) and examples/angular-oauth2-oidc (seed 001: code
// flow with PKCE, with and without an audience). Each example's build is
// copied to a temporary folder and served on its own origin, with a
// config.json written by the test.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { binary, root, startGatehouse, serveDir, seed, launch, tempDir, cleanup, claims } from './harness.mjs';

const AUDIENCE = 'https://measurements.example/api';
const EXAMPLE_ORIGIN = 'http://localhost:4200';
const shots = process.env.E2E_SCREENSHOTS || '/tmp';
// Built by cargo beside the gatehouse binary (`cargo test --workspace` builds it).
const apiBinary = process.env.MEASUREMENTS_API_BIN || join(dirname(binary), 'measurements-api');

/** `npm <args>` in `cwd`; fails with the end of its output. */
function npm(cwd, args) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        console.log(`npm ${args.join(' ')} in ${cwd}: ${seconds} s`);
        resolve();
      } else {
        reject(new Error(`npm ${args.join(' ')} in ${cwd} exited with ${code}:\n${output.slice(-4000)}`));
      }
    });
  });
}

/**
 * Installs the example's packages when missing, builds it, and copies the
 * build to a temporary folder: the folder to serve and write config.json to.
 */
async function build(name) {
  const dir = join(root, 'examples', name);
  if (!existsSync(join(dir, 'node_modules'))) await npm(dir, ['ci', '--no-audit', '--no-fund']);
  await npm(dir, ['run', 'build']);
  const dist = join(dir, 'dist', 'browser');
  assert.ok(existsSync(join(dist, 'index.html')), `no ${dist}/index.html after the build`);
  const site = tempDir();
  cpSync(dist, site, { recursive: true });
  return site;
}

function readSeed(name) {
  return JSON.parse(readFileSync(join(root, 'examples', name, 'seed.json')).toString());
}

/**
 * The example's seed.json with the test's origin beside the example's
 * http://localhost:4200 in every client URL list.
 */
function seedFor(name, origin) {
  const data = readSeed(name);
  for (const client of data.clients) {
    for (const key of ['callbacks', 'allowed_logout_urls', 'web_origins', 'allowed_origins']) {
      if (client[key]) client[key] = [...client[key], ...client[key].map((u) => u.replace(EXAMPLE_ORIGIN, origin))];
    }
  }
  return data;
}

/** The example API on a free port, trusting `issuer` and answering CORS for `origin`. */
function startMeasurementsApi(issuer, origin) {
  return new Promise((resolve, reject) => {
    const child = spawn(apiBinary, ['--issuer', issuer, '--audience', AUDIENCE, '--listen', '127.0.0.1:0',
      '--allow-origin', origin], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`measurements-api did not start: ${out}${err}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => reject(new Error(`cannot start ${apiBinary} (build it with cargo build -p measurements-api, or set MEASUREMENTS_API_BIN): ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`measurements-api exited with ${code}: ${err}`)));
  });
}

/** From the login page to the app: the consent page only when Gatehouse shows it. */
async function logIn(page, gh, app, email, password) {
  await page.waitForURL(gh.url + '/u/login?**');
  await page.fill('#email', email);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  const consentOrApp = (url) => url.href.startsWith(gh.url + '/u/consent') || url.origin === app.url;
  await page.waitForURL(consentOrApp);
  if (page.url().startsWith(gh.url + '/u/consent')) {
    await page.click('button[value=accept]');
    await page.waitForURL((url) => url.origin === app.url);
  }
}

/** A fresh context and page that records uncaught page errors. */
async function newPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

describe('examples/angular-auth0 (seed 000)', () => {
  const users = Object.fromEntries(readSeed('angular-auth0').users.map((u) => [u.email, u.password]));
  let dir, site, app, gh, api, browser;

  before(async () => {
    site = await build('angular-auth0');
    app = await serveDir(site);
    dir = tempDir();
    gh = await startGatehouse(dir);
    seed(dir, seedFor('angular-auth0', app.url));
    api = await startMeasurementsApi(gh.url + '/', app.url);
    writeFileSync(join(site, 'config.json'), JSON.stringify({ domain: gh.url, clientId: 'measurements-spa', apiUrl: api.url }));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    api?.child.kill();
    gh?.child.kill();
    app?.server.close();
    if (dir) cleanup(dir);
    if (site) cleanup(site);
  });

  /** Logs in, calls the API through the app; what the page and the wire showed. */
  async function loginAndCallApi(email) {
    const { context, page, errors } = await newPage(browser);
    const toApi = [];
    page.on('request', (r) => { if (r.url().startsWith(api.url + '/') && r.method() === 'GET') toApi.push(r); });
    await page.goto(app.url + '/');
    await page.click('#login');
    await logIn(page, gh, app, email, users[email]);
    await page.waitForSelector('#user');
    assert.match(await page.textContent('#user'), new RegExp(email.replaceAll('.', '\\.')));
    await page.waitForSelector('#token-payload');
    const shown = JSON.parse(await page.textContent('#token-payload'));
    await page.click('#call-api');
    await page.waitForSelector('#api-result');
    const result = {
      status: Number(await page.getAttribute('#api-result', 'data-status')),
      body: JSON.parse(await page.textContent('#api-body')),
      shown,
      requests: toApi,
      authorization: toApi.length ? (await toApi[0].allHeaders()).authorization : undefined,
    };
    await page.screenshot({ path: `${shots}/angular-auth0-${email.split('@')[0]}.png`, fullPage: true });
    assert.deepEqual(errors, []);
    await context.close();
    return result;
  }

  test('alice (role reader) logs in; the interceptor attaches her token and the API answers 200', async () => {
    const r = await loginAndCallApi('alice@example.com');
    assert.equal(r.requests.length, 1, 'one GET to the API');
    assert.match(r.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, 'the interceptor attached a JWT');
    const sent = claims(r.authorization.slice('Bearer '.length));
    assert.equal(sent.jti, r.shown.jti, 'the page shows the token the interceptor sent');
    assert.ok([sent.aud].flat().includes(AUDIENCE), JSON.stringify(sent.aud));
    assert.deepEqual(sent.permissions, ['read:measurements']);
    assert.ok(sent.scope.split(' ').includes('read:measurements'), sent.scope);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(Array.isArray(r.body) && r.body.some((m) => m.sensor === 'greenhouse-1'), JSON.stringify(r.body));
  });

  test('bob (no role) logs in; the interceptor attaches his token and the API refuses it with 403', async () => {
    const r = await loginAndCallApi('bob@example.com');
    assert.equal(r.requests.length, 1, 'one GET to the API');
    assert.match(r.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/, 'the interceptor attached a JWT');
    const sent = claims(r.authorization.slice('Bearer '.length));
    assert.deepEqual(sent.permissions, []);
    assert.ok(!sent.scope.split(' ').includes('read:measurements'), sent.scope);
    assert.deepEqual(r.shown.permissions, []);
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.error, 'insufficient_scope', JSON.stringify(r.body));
  });

  test('log out ends the Gatehouse session: the next login asks for the password again', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(app.url + '/');
    await page.click('#login');
    await logIn(page, gh, app, 'alice@example.com', users['alice@example.com']);
    await page.waitForSelector('#user');
    const [logout] = await Promise.all([page.waitForRequest(gh.url + '/v2/logout?**'), page.click('#logout')]);
    assert.equal(new URL(logout.url()).searchParams.get('returnTo'), app.url);
    await page.waitForSelector('#login');
    await page.click('#login');
    await page.waitForURL(gh.url + '/u/login?**');
    assert.deepEqual(errors, []);
    await context.close();
  });
});

describe('examples/angular-oauth2-oidc (seed 001)', () => {
  const example = readSeed('angular-oauth2-oidc');
  const user = example.users[0];
  const clientId = example.clients[0].client_id;
  let dir, site, app, gh, browser;

  before(async () => {
    site = await build('angular-oauth2-oidc');
    app = await serveDir(site);
    dir = tempDir();
    gh = await startGatehouse(dir);
    seed(dir, seedFor('angular-oauth2-oidc', app.url));
    writeFileSync(join(site, 'config.json'), JSON.stringify({ issuer: gh.url + '/', clientId, audience: AUDIENCE }));
    browser = await launch();
  });

  after(async () => {
    await browser?.close();
    gh?.child.kill();
    app?.server.close();
    if (dir) cleanup(dir);
    if (site) cleanup(site);
  });

  /** Logs in with or without the audience and loads /userinfo; what the page and the wire showed. */
  async function loginAndUserinfo(withAudience) {
    const { context, page, errors } = await newPage(browser);
    const authorize = [];
    page.on('request', (r) => { if (r.url().startsWith(gh.url + '/authorize?')) authorize.push(new URL(r.url())); });
    await page.goto(app.url + '/');
    await page.click(withAudience ? '#login-with-audience' : '#login-without-audience');
    await logIn(page, gh, app, user.email, user.password);
    await page.waitForSelector('#access-token');
    const text = async (selector) => (await page.textContent(selector)).trim();
    const format = await page.getAttribute('#access-token', 'data-format');
    const r = {
      authorize: authorize[0],
      mode: await text('#mode'),
      user: await text('#user'),
      scope: await text('#response-scope'),
      tokenType: await text('#response-token-type'),
      expiresIn: Number(await text('#response-expires-in')),
      format,
      claims: format === 'jwt' ? JSON.parse(await page.textContent('#access-token-claims')) : undefined,
    };
    const [response] = await Promise.all([
      page.waitForResponse((res) => res.url() === gh.url + '/userinfo' && res.request().method() === 'GET'),
      page.click('#userinfo'),
    ]);
    await page.waitForSelector('#userinfo-result');
    r.userinfoStatus = response.status();
    r.userinfoOk = await page.getAttribute('#userinfo-result', 'data-ok');
    r.userinfo = JSON.parse(await page.textContent('#userinfo-body'));
    await page.screenshot({ path: `${shots}/angular-oauth2-oidc-${withAudience ? 'with' : 'without'}-audience.png`, fullPage: true });
    const error = await page.$('#error');
    assert.equal(error && (await error.textContent()), null, 'no error shown');
    assert.deepEqual(errors, []);
    await context.close();
    return r;
  }

  test('with the audience: the code flow with PKCE gets a JWT for the API with read:measurements, and /userinfo answers', async () => {
    const r = await loginAndUserinfo(true);
    assert.equal(r.authorize.searchParams.get('audience'), AUDIENCE);
    assert.equal(r.authorize.searchParams.get('response_type'), 'code');
    assert.equal(r.authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(r.mode, 'with');
    assert.match(r.user, /carol@example\.com/);
    assert.equal(r.format, 'jwt');
    assert.deepEqual(r.claims.aud, [AUDIENCE, gh.url + '/userinfo']);
    assert.equal(r.claims.scope, 'openid profile email read:measurements');
    assert.deepEqual(r.claims.permissions, ['read:measurements']);
    assert.equal(r.scope, 'openid profile email read:measurements');
    assert.equal(r.tokenType, 'Bearer');
    assert.ok(r.expiresIn > 0, String(r.expiresIn));
    assert.equal(r.userinfoStatus, 200);
    assert.equal(r.userinfoOk, 'true', JSON.stringify(r.userinfo));
    assert.equal(r.userinfo.email, user.email);
    assert.equal(r.userinfo.nonce, undefined, "the answer of /userinfo, not the ID token's claims");
  });

  test('without the audience (seed 001 as asked): an opaque token, read:measurements dropped, and /userinfo still answers', async () => {
    const r = await loginAndUserinfo(false);
    assert.equal(r.authorize.searchParams.get('audience'), null);
    assert.equal(r.authorize.searchParams.get('scope'), 'openid profile email read:measurements');
    assert.equal(r.mode, 'without');
    assert.equal(r.format, 'opaque');
    assert.equal(r.scope, 'openid profile email');
    assert.equal(r.tokenType, 'Bearer');
    assert.ok(r.expiresIn > 0, String(r.expiresIn));
    assert.equal(r.userinfoStatus, 200);
    assert.equal(r.userinfoOk, 'true', JSON.stringify(r.userinfo));
    assert.equal(r.userinfo.email, user.email);
    assert.equal(r.userinfo.nonce, undefined, "the answer of /userinfo, not the ID token's claims");
  });

  test('log out goes through the end_session_endpoint and ends the Gatehouse session', async () => {
    const { context, page, errors } = await newPage(browser);
    await page.goto(app.url + '/');
    await page.click('#login-with-audience');
    await logIn(page, gh, app, user.email, user.password);
    await page.waitForSelector('#access-token');
    const [logout] = await Promise.all([page.waitForRequest(gh.url + '/oidc/logout?**'), page.click('#logout')]);
    const params = new URL(logout.url()).searchParams;
    assert.equal(params.get('post_logout_redirect_uri'), app.url + '/');
    assert.ok(params.get('id_token_hint'), 'the ID token as id_token_hint');
    await page.waitForSelector('#login-without-audience');
    await page.click('#login-without-audience');
    await page.waitForURL(gh.url + '/u/login?**');
    assert.deepEqual(errors, []);
    await context.close();
  });
});
