// Starts Gatehouse (the debug binary) on 127.0.0.1:0 with a fresh data
// directory, seeds it with `gatehouse seed`, serves the test SPA on its own
// origin, and launches Debian's Chromium through playwright-core.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, extname, sep, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, '..', '..');
// scripts/test.sh sets GATEHOUSE_BIN; run alone, this honours CARGO_TARGET_DIR
// (relative to the working directory, as for cargo).
const targetDir = process.env.CARGO_TARGET_DIR
  ? resolvePath(process.env.CARGO_TARGET_DIR)
  : join(root, 'target');
export const binary = process.env.GATEHOUSE_BIN || join(targetDir, 'debug', 'gatehouse');

/**
 * `gatehouse serve` on a free port; `args` are more flags, `env` more
 * variables. The result's `logs()` is everything it wrote to stderr so far,
 * `output()` everything it wrote to stdout.
 */
export function startGatehouse(dataDir, args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['serve', '--bind', '127.0.0.1:0', '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GATEHOUSE_LOG: process.env.GATEHOUSE_LOG || 'warn', ...env },
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error('gatehouse did not start: ' + out)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: `http://127.0.0.1:${m[1]}`, logs: () => err, output: () => out });
      }
    });
    child.stderr.on('data', (d) => {
      err += d;
      if (!env.GATEHOUSE_LOG) process.stderr.write(d);
    });
    child.on('exit', (code) => reject(new Error(`gatehouse exited with ${code}: ${out}`)));
  });
}

export function seed(dataDir, data) {
  const file = join(dataDir, 'seed.json');
  writeFileSync(file, JSON.stringify(data));
  return JSON.parse(execFileSync(binary, ['seed', '--file', file, '--data-dir', dataDir]).toString());
}

/** `gatehouse explain <input>` on the data directory: what a newcomer runs. */
export function explain(dataDir, input) {
  return run(['explain', input, '--data-dir', dataDir]);
}

/** `gatehouse <args>` without colour; its status and output as text. */
export function run(args) {
  const r = spawnSync(binary, args, {
    env: { ...process.env, NO_COLOR: '1', GATEHOUSE_LOG: 'warn' },
  });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** The test SPA and the auth0-spa-js bundle from node_modules, on their own origin. */
export function startApp() {
  const page = readFileSync(join(here, '..', 'app', 'index.html'));
  const spa = readFileSync(join(here, '..', 'node_modules', '@auth0', 'auth0-spa-js', 'dist', 'auth0-spa-js.production.js'));
  const server = createServer((req, res) => {
    if (req.url.startsWith('/spa.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      return res.end(spa);
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
};

/**
 * A built single-page app (a folder with index.html) on its own origin:
 * its files as they are on disk at each request, and index.html for any
 * other path, as a deployed SPA is served.
 */
export function serveDir(dir) {
  const base = resolvePath(dir);
  const server = createServer((req, res) => {
    let file = join(base, 'index.html');
    try {
      const wanted = resolvePath(base, '.' + decodeURIComponent(new URL(req.url, 'http://x').pathname));
      if (wanted.startsWith(base + sep) && statSync(wanted).isFile()) file = wanted;
    } catch {
      // a missing file or a malformed path: index.html
    }
    res.writeHead(200, { 'content-type': contentTypes[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}` }));
  });
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export function tempDir() {
  return mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

/** The payload of a JWT, unverified (the Rust tests verify signatures). */
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/**
 * The bootstrap administrator `gatehouse serve` writes to the data directory
 * on first start, just after it starts listening (so wait for the file).
 */
export async function bootstrapAdmin(dataDir) {
  const file = join(dataDir, 'bootstrap.json');
  for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
  const creds = JSON.parse(readFileSync(file).toString());
  return { email: creds.admin_email, password: creds.admin_password };
}

const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js')).toString();

/**
 * Runs axe-core on the page; returns the serious and critical violations as
 * readable lines. The page's context must bypass CSP (the dashboard allows
 * only its own scripts, and axe is injected).
 */
export async function accessibilityProblems(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ content: axeSource });
  }
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact}: ${v.id} (${v.help}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
