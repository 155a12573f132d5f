// ShopLook on the web, in a real browser (Debian's chromium, new headless mode): the wasm core
// on the /try page of a real catalogue server, and the unpacked extension on a local page.
// Needs scripts/build-wasm.sh (web/pkg, web/extension/vendor), `cargo b` (target/release/
// shoplook) and fixtures/external/bus.jpg (scripts/fetch-photos.sh; timing only). scripts/test-web.sh
// runs all three, then this. Screenshots go to docs/web-*.png: they show fixtures/web/messi5.jpg
// (OpenCV sample data, BSD), never the AGPL bus.jpg, which must not be committed in any form.
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { launch, freePort, startProcess, test as register, run, assert, assertEq, ROOT } from './lib.mjs';

// WEB_TESTS=extension (or /try) runs only the tests whose name contains it (for debugging).
const test = (name, fn) => (!process.env.WEB_TESTS || name.includes(process.env.WEB_TESTS)) && register(name, fn);

const BIN = path.join(ROOT, 'target/release/shoplook');
// The street photo of the flows and screenshots (a footballer: 4 shoe boxes; committed, BSD).
const STREET = path.join(ROOT, 'fixtures/web/messi5.jpg');
// The timing photo, as in the README's benchmarks (fetched, AGPL: never in a screenshot).
const PHOTO = path.join(ROOT, 'fixtures/external/bus.jpg');
const EXT = path.join(ROOT, 'web/extension');
const DOCS = path.join(ROOT, 'docs');
const T = 90_000; // generous: the first analysis loads 40 MB of models into wasm

let server; // { url, key }
let statics; // { page, cross } base URLs
let browser;
const staticServers = []; // closed in `after`: a listening server would keep node running

// ---- the real catalogue server (demo catalogue: real product photos, embedded natively) ----
async function startCatalogue() {
  const data = mkdtempSync(path.join(tmpdir(), 'shoplook-web-'));
  execFileSync(BIN, ['catalogue', 'ingest', '--data', data, 'fixtures/demo-catalogue/feed.jsonl'], { cwd: ROOT, stdio: 'ignore' });
  const key = execFileSync(BIN, ['catalogue', 'keys', 'create', '--data', data, '--name', 'web-test'], { cwd: ROOT }).toString().trim();
  const proc = startProcess(BIN, ['catalogue', 'serve', '--data', data, '--listen', '127.0.0.1:0', '--rate-limit', '0', '--web-dir', path.join(ROOT, 'web')]);
  for (let i = 0; i < 300; i++) {
    const m = proc.output().match(/listening on (http:\/\/[0-9.]+:[0-9]+)/);
    if (m) return { url: m[1], key };
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`catalogue server did not start: ${proc.output()}`);
}

async function eventCount() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(text.match(/^shoplook_events (\d+)/m)?.[1] ?? NaN);
}

// ---- pictures for the page: a real street photo and the awkward cases ----
function png(width, height, gray = 128) {
  const crc = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type, body) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type), body]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(tb));
    return Buffer.concat([len, tb, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale
  const row = Buffer.alloc(width + 1, gray);
  row[0] = 0;
  const raw = Buffer.alloc(row.length * height);
  for (let y = 0; y < height; y++) row.copy(raw, y * row.length);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function startStatic(port, routes) {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      const r = routes[req.url.split('?')[0]];
      if (!r) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': r.type, 'cache-control': 'no-store' }).end(r.body);
    });
    staticServers.push(srv);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });
}

async function startPages() {
  const [pagePort, crossPort] = [await freePort(), await freePort()];
  // The pictures come from another origin (localhost vs 127.0.0.1, another port): a page's
  // own scripts could not read them; the extension fetches them with its host permission.
  const cross = `http://localhost:${crossPort}`;
  const pictures = {
    '/street.jpg': { type: 'image/jpeg', body: readFileSync(STREET) },
    '/tiny.png': { type: 'image/png', body: png(40, 40) },
    '/huge.png': { type: 'image/png', body: png(7000, 7000) }, // 49 MP: over the 40 MP limit
    '/logo.svg': {
      type: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><rect width="300" height="200" fill="#1971c2"/></svg>',
    },
  };
  const html = `<!doctype html><meta charset="utf-8"><title>A street</title>
<style>body{font:15px system-ui;margin:20px} img{display:block;margin:12px 0}</style>
<h1>A match photo</h1><p>A blog post with a photo of a footballer.</p>
<img id="street" src="${cross}/street.jpg" width="548" height="342" alt="a footballer on a pitch">
<img id="tiny" src="${cross}/tiny.png" width="120" height="120" alt="tiny">
<img id="svg" src="${cross}/logo.svg" width="300" height="200" alt="logo">
<img id="huge" src="${cross}/huge.png" width="300" height="300" alt="huge">`;
  await startStatic(crossPort, pictures);
  await startStatic(pagePort, { '/street.html': { type: 'text/html; charset=utf-8', body: html } });
  return { page: `http://127.0.0.1:${pagePort}`, cross };
}

// ---- /try ----
let tryPage;
const timings = {};

test('/try loads the wasm core and the models from the catalogue server (no CDN)', async () => {
  tryPage = await browser.newPage();
  const foreign = [];
  tryPage.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) foreign.push(r.url());
  });
  const resp = await tryPage.goto(`${server.url}/try`);
  assertEq(resp.status(), 200, '/try status');
  await tryPage.waitForSelector('body[data-ready=true]', { timeout: T });
  assertEq(foreign.length, 0, `requests outside the server: ${foreign.join(', ')}`);
  const manifest = JSON.parse(readFileSync(path.join(ROOT, 'models/efficientnet_lite0_feat.json')));
  assertEq(await tryPage.evaluate(() => window.shoplook.engine.model), `${manifest.id}@${manifest.version}`, 'model contract');
});

test('/try: a street photo gets boxes, a shoe box gets shoes from the catalogue, events are stored', async () => {
  await tryPage.type('#key', server.key);
  await tryPage.$eval('#key', (e) => e.dispatchEvent(new Event('change')));
  const input = await tryPage.$('#file');
  await input.uploadFile(STREET);
  await tryPage.waitForSelector('body[data-analyzed]', { timeout: T });
  const shoes = await tryPage.$$('#boxes .shoplook-box[data-category=shoes]');
  assert(shoes.length >= 2, `shoe boxes: ${shoes.length}`);
  const before = await eventCount();
  await shoes[0].click();
  await tryPage.waitForSelector('#products .product', { timeout: T });
  const products = await tryPage.$$eval('#products .product', (ps) =>
    ps.map((p) => ({ title: p.querySelector('.title').textContent, meta: p.querySelector('.meta').textContent, buy: p.querySelector('a.buy').href })));
  assert(products.length >= 3, `products: ${products.length}`);
  assert(products[0].meta.includes('shoes'), `first product is a shoe: ${JSON.stringify(products[0])}`);
  assert(products.every((p) => p.buy.startsWith('https://example.com/')), 'Buy links');
  assert(/€|EUR/.test(products[0].meta), `price shown: ${products[0].meta}`);
  for (let i = 0; i < 50 && (await eventCount()) < before + products.length; i++) await new Promise((r) => setTimeout(r, 100));
  assertEq(await eventCount(), before + products.length, 'impressions stored');
  await tryPage.screenshot({ path: path.join(DOCS, 'web-try.png') });
});

test('/try: analyze time in the browser vs the native CLI on the same photo', async () => {
  const bytes = [...readFileSync(PHOTO)];
  const browserRuns = await tryPage.evaluate((b) => {
    const u8 = new Uint8Array(b);
    const runs = [];
    for (let i = 0; i < 4; i++) runs.push(window.shoplook.engine.analyze(u8, { embeddings: true }).timings_ms);
    return runs.slice(1); // the first run warms up
  }, bytes);
  const nativeRuns = [];
  for (let i = 0; i < 3; i++) {
    const out = execFileSync(BIN, ['analyze', PHOTO, '--json', '--embeddings', '--threads', '1'], { cwd: ROOT });
    nativeRuns.push(JSON.parse(out).timings_ms);
  }
  const median = (runs, k) => runs.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  for (const k of ['decode', 'detect', 'embed', 'total']) timings[k] = [median(browserRuns, k), median(nativeRuns, k)];
  console.log(`web timing (bus.jpg, median ms, browser wasm vs native 1 thread): ${Object.entries(timings).map(([k, [b, n]]) => `${k} ${b.toFixed(0)} vs ${n.toFixed(0)}`).join(', ')}`);
  assert(timings.total[0] > 0 && timings.total[1] > 0, 'timings measured');
});

test('/try: an SVG is refused with a clear message', async () => {
  const svg = path.join(mkdtempSync(path.join(tmpdir(), 'shoplook-svg-')), 'logo.svg');
  (await import('node:fs')).writeFileSync(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
  await (await tryPage.$('#file')).uploadFile(svg);
  await tryPage.waitForFunction(() => document.querySelector('#status').classList.contains('error'), { timeout: T });
  const text = await tryPage.$eval('#status', (e) => e.textContent);
  assert(/SVG/.test(text), `message: ${text}`);
});

// ---- the extension ----
let extId;
let streetPage;

async function panelPage() {
  const target = await browser.waitForTarget((t) => t.url().startsWith(`chrome-extension://${extId}/sidepanel.html`), { timeout: 15000 });
  return target.asPage();
}

async function shopPicture(id) {
  await streetPage.bringToFront();
  await streetPage.evaluate((sel) => document.getElementById(sel).scrollIntoView({ block: 'center' }), id);
  await streetPage.hover(`#${id}`);
  await streetPage.waitForSelector('#shoplook-shop-button', { visible: true, timeout: 5000 });
  await streetPage.click('#shoplook-shop-button');
}

async function noteText() {
  await streetPage.waitForFunction(() => {
    const n = document.getElementById('shoplook-note');
    return n && n.dataset.error === 'true' && n.style.display !== 'none';
  }, { timeout: T });
  return streetPage.$eval('#shoplook-note', (n) => n.textContent);
}

test('extension: options page saves the server URL and API key', async () => {
  const options = await browser.newPage();
  await options.goto(`chrome-extension://${extId}/options.html`);
  await options.waitForFunction(() => document.getElementById('server').value !== '');
  await options.$eval('#server', (e) => (e.value = ''));
  await options.type('#server', server.url);
  await options.type('#key', server.key);
  await options.click('#save');
  await options.waitForFunction(() => document.getElementById('saved').textContent === 'Saved.');
  await options.close();
});

test('extension: hover a cross-origin street photo, Shop, boxes appear; a shoe box shows shoes in the side panel', async () => {
  streetPage = await browser.newPage();
  await streetPage.goto(`${statics.page}/street.html`);
  await streetPage.waitForFunction(() => document.getElementById('street').complete);
  await shopPicture('street');
  await streetPage.waitForSelector('.shoplook-layer .shoplook-box[data-category=shoes]', { timeout: T });
  const boxes = await streetPage.$$('.shoplook-layer .shoplook-box');
  assert(boxes.length >= 3, `boxes: ${boxes.length}`);
  const before = await eventCount();
  await streetPage.click('.shoplook-layer .shoplook-box[data-category=shoes]');
  const panel = await panelPage();
  await panel.waitForSelector('#products .product', { timeout: T });
  const metas = await panel.$$eval('#products .product .meta', (ms) => ms.map((m) => m.textContent));
  assert(metas.length >= 3 && metas[0].includes('shoes'), `side panel products: ${metas.join(' | ')}`);
  assert(await panel.$eval('#products a.buy', (a) => a.href.startsWith('https://example.com/')), 'Buy link');
  for (let i = 0; i < 50 && (await eventCount()) < before + metas.length; i++) await new Promise((r) => setTimeout(r, 100));
  assertEq(await eventCount(), before + metas.length, 'impressions stored');
  await streetPage.bringToFront();
  await streetPage.screenshot({ path: path.join(DOCS, 'web-extension.png') });
  await panel.screenshot({ path: path.join(DOCS, 'web-extension-panel.png') });
});

test('extension: a Buy click is reported as a click event with its query id and position', async () => {
  const panel = await panelPage();
  const before = await eventCount();
  await panel.click('#products a.buy');
  for (let i = 0; i < 50 && (await eventCount()) < before + 1; i++) await new Promise((r) => setTimeout(r, 100));
  assertEq(await eventCount(), before + 1, 'click stored');
});

test('extension: a tiny picture gets a clear message', async () => {
  await shopPicture('tiny');
  assert(/too small \(40x40\)/.test(await noteText()), 'tiny message');
});

test('extension: an SVG picture gets a clear message', async () => {
  await shopPicture('svg');
  assert(/SVG/.test(await noteText()), 'svg message');
});

test('extension: a huge picture gets a clear message', async () => {
  await shopPicture('huge');
  const text = await noteText();
  assert(/too large.*7000x7000/.test(text), `huge message: ${text}`);
});

test('extension: a catalogue server that is down gets a clear message', async () => {
  const options = await browser.newPage();
  await options.goto(`chrome-extension://${extId}/options.html`);
  await options.waitForFunction(() => document.getElementById('server').value !== '');
  await options.$eval('#server', (e) => (e.value = ''));
  await options.type('#server', `http://127.0.0.1:${await freePort()}`);
  await options.click('#save');
  await options.waitForFunction(() => document.getElementById('saved').textContent === 'Saved.');
  await options.close();
  await shopPicture('street');
  await streetPage.waitForSelector('.shoplook-layer .shoplook-box[data-category=shoes]', { timeout: T });
  await streetPage.click('.shoplook-layer .shoplook-box[data-category=shoes]');
  const panel = await panelPage();
  await panel.waitForFunction(() => document.getElementById('status').classList.contains('error'), { timeout: T });
  const text = await panel.$eval('#status', (e) => e.textContent);
  assert(/cannot be reached/.test(text), `server-down message: ${text}`);
});

await run('web', {
  before: async () => {
    server = await startCatalogue();
    statics = await startPages();
    browser = await launch({ extensionDir: EXT });
    // Now: an idle MV3 service worker stops after 30 s, and its target with it.
    const sw = await browser.waitForTarget((t) => t.type() === 'service_worker' && t.url().endsWith('/background.js'), { timeout: 15000 });
    extId = new URL(sw.url()).host;
  },
  after: async () => {
    if (browser) await browser.close();
    for (const srv of staticServers) {
      srv.closeAllConnections();
      srv.close();
    }
  },
});
