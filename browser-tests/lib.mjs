// Shared helpers for the real-browser tests: Debian's chromium (never a downloaded browser)
// driven by puppeteer-core, a tiny test runner that prints `NAME: N passed, N failed`, and a
// way to start the real `shoplook` catalogue server on a free loopback port.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The chromium binary: $SHOPLOOK_CHROMIUM, else Debian's. */
export function chromiumPath() {
  const candidates = [process.env.SHOPLOOK_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('chromium not found: run scripts/setup-browser.sh (apt-get install chromium)');
  return found;
}

/**
 * Launches chromium in the new headless mode (which loads unpacked extensions).
 * opts.extensionDir: an unpacked extension to load; opts.args: extra flags.
 */
export async function launch(opts = {}) {
  const args = [
    '--no-sandbox', // CI runs as root in a container
    '--disable-dev-shm-usage',
    '--no-first-run',
    '--no-default-browser-check',
    ...(opts.args || []),
  ];
  if (opts.extensionDir) {
    args.push(`--disable-extensions-except=${opts.extensionDir}`, `--load-extension=${opts.extensionDir}`);
  }
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true, // puppeteer >= 22: the new headless mode
    args,
    defaultViewport: opts.viewport || { width: 1280, height: 900 },
    enableExtensions: opts.extensionDir ? true : undefined,
    pipe: !!opts.extensionDir,
  });
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers (any HTTP status) or `timeoutMs` passes. */
export async function waitForHttp(url, timeoutMs = 60000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      await fetch(url);
      return;
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${last}`);
}

/**
 * Starts a child process (e.g. `target/release/shoplook catalogue serve ...`), returns
 * { child, output() } ; killed by `stopAll()` and on exit.
 */
const children = [];
export function startProcess(cmd, args, opts = {}) {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  children.push(child);
  return { child, output: () => out };
}
export function stopAll() {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGTERM');
}
process.on('exit', stopAll);

/**
 * A minimal runner: `test(name, fn)` registers, `run(suite)` runs them in order, prints each
 * result and `SUITE: N passed, N failed`, and sets the exit code.
 */
const tests = [];
export function test(name, fn) { tests.push({ name, fn }); }
export async function run(suite, { before, after } = {}) {
  let passed = 0;
  let failed = 0;
  try {
    if (before) await before();
    for (const t of tests) {
      const t0 = Date.now();
      try {
        await t.fn();
        passed++;
        console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}: ${e && e.stack ? e.stack : e}`);
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${suite} set-up: ${e && e.stack ? e.stack : e}`);
  } finally {
    try { if (after) await after(); } catch (e) { console.log(`(${suite} tear-down: ${e})`); }
    stopAll();
  }
  console.log(`${suite}: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
}

/** Throws with `msg` unless `cond`. */
export function assert(cond, msg) { if (!cond) throw new Error(msg); }
export function assertEq(actual, expected, msg) {
  if (actual !== expected) throw new Error(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
