// A real berani-server on loopback with a fresh data folder, the `berani` reporter CLI,
// and headless Debian chromium through playwright-core. Used by the browser tests and by
// scripts/desk-screenshots.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
export const SERVER_BIN = process.env.BERANI_SERVER_BIN || join(TARGET, 'debug', 'berani-server');
export const CLI_BIN = process.env.BERANI_BIN || join(TARGET, 'debug', 'berani');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** A temporary folder, removed by `cleanup()`. */
export function tempDir(prefix) {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts `berani-server serve` on a free loopback port. Resolves with the base URL and the
 * admin password printed at first start (when the folder is new). `extraArgs` go to `serve`
 * (first-start options such as `--hotline`).
 */
export async function startServer(data, extraArgs = []) {
  const child = spawn(SERVER_BIN, ['serve', '--data', data, '--listen', '127.0.0.1:0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // `listening on …` is an info line.
    env: { ...process.env, BERANI_LOG: 'info' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const deadline = Date.now() + 60_000;
  while (!/listening on (\S+?),/.test(err)) {
    if (child.exitCode !== null) throw new Error(`berani-server exited: ${err}`);
    if (Date.now() > deadline) throw new Error(`berani-server did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = err.match(/listening on (\S+?),/)[1];
  const pw = out.match(/^admin password: (\S+)$/m);
  return {
    base,
    data,
    adminPassword: pw ? pw[1] : null,
    log: () => err,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** Runs the server binary for an admin command; returns stdout. */
export function serverCommand(args, env = {}) {
  return execFileSync(SERVER_BIN, args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Creates a desk user with `berani-server user add`; returns the one-time password it prints.
 */
export function addUser(server, adminPassword, name, role) {
  const out = serverCommand(
    ['user', 'add', '--data', server.data, '--name', name, '--role', role, '--display-name', name],
    { BERANI_ADMIN_PASSWORD: adminPassword },
  );
  const m = out.match(/password: (\S+)/);
  if (!m) throw new Error(`user add printed no password: ${out}`);
  return m[1];
}

/** The `berani` reporter CLI on one reporter home. */
export function reporter(home) {
  const run = (...args) =>
    execFileSync(CLI_BIN, ['--home', home, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  return { home, run };
}

/** Headless Debian chromium. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Running as root in CI needs --no-sandbox; nothing but the local server is opened.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** Logs in through the form; returns the response of the form's POST. */
export async function logIn(page, base, user, password) {
  await page.goto(`${base}/desk/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/desk/login') && r.request().method() === 'POST'),
    page.click('form[action="/desk/login"] button[type=submit]'),
  ]);
  await page.waitForLoadState();
  return resp;
}

/** Replaces a generated password on the forced password page. */
export async function changePassword(page, current, next) {
  await page.fill('#current', current);
  await page.fill('#new', next);
  await page.fill('#again', next);
  await Promise.all([
    page.waitForNavigation(),
    page.click('form[action="/desk/account/password"] button[type=submit]'),
  ]);
  if (!/\/desk\/account\?done=password$/.test(page.url())) {
    const why = await page.locator('p.error').allTextContents();
    throw new Error(`the password change was refused: ${why.join(' ')}`);
  }
}

export function cleanup(...dirs) {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
