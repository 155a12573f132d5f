// The web console in Debian's chromium against a real catalogue server (started by
// scripts/test-console.sh with the demo catalogue and seeded demo traffic). Checks that the
// tables and charts show the seeded numbers (the true counts written by `seed-events
// --summary`), that a brand key sees only its brand, that an app key sees no reports, that the
// pages work with the keyboard and on a narrow screen; saves screenshots.
//
// Env: CONSOLE_URL, ADMIN_KEY, BRAND_KEY, BRAND, OTHER_BRAND, APP_KEY, TRUTH (JSON file),
// SCREENSHOTS (a folder, optional), STORE (a label).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { launch, test, run, assert, assertEq } from './lib.mjs';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (scripts/test-console.sh sets it)`);
  return v;
};
const URL_ = env('CONSOLE_URL');
const TRUTH = JSON.parse(readFileSync(env('TRUTH'), 'utf8'));
const SHOTS = process.env.SCREENSHOTS;
const STORE = process.env.STORE || 'store';
let browser;

/** A fresh browser context signed in with `key` (typed and submitted from the keyboard). */
async function signIn(key, viewport) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  if (viewport) await page.setViewport(viewport);
  await page.goto(`${URL_}/console`, { waitUntil: 'load' });
  await page.focus('#key');
  await page.keyboard.type(key);
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.keyboard.press('Enter')]);
  return { ctx, page };
}

/** Rows of a table: {bucket, category, brand, cells: [text...]}. */
async function tableRows(page, id) {
  return page.$$eval(`#${id} tbody tr`, (trs) => trs.map((tr) => ({
    bucket: tr.dataset.bucket,
    category: tr.dataset.category,
    brand: tr.dataset.brand,
    cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
  })));
}

async function api(key, query) {
  const r = await fetch(`${URL_}/v1/trends?${query}`, { headers: { Authorization: `Bearer ${key}` } });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

test('the sign-in page is reachable with the keyboard (skip link first)', async () => {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.goto(`${URL_}/console`, { waitUntil: 'load' });
  await page.keyboard.press('Tab');
  assertEq(await page.evaluate(() => document.activeElement.className), 'skip', 'first Tab stop');
  await page.keyboard.press('Tab');
  assertEq(await page.evaluate(() => document.activeElement.id), 'key', 'second Tab stop');
  await ctx.close();
});

test('an unknown key is refused with a message', async () => {
  const { ctx, page } = await signIn('slk_' + '0'.repeat(64));
  const alert = await page.$eval('#sign-in-error', (e) => e.textContent);
  assert(/unknown/.test(alert), `alert: ${alert}`);
  await ctx.close();
});

test('admin: the market table shows the seeded counts', async () => {
  const { ctx, page } = await signIn(env('ADMIN_KEY'));
  assertEq(await page.$eval('#role', (e) => e.textContent), 'admin', 'role shown');
  const rows = await tableRows(page, 'market');
  assert(rows.length > 0, 'market rows');
  let shown = 0;
  let hidden = 0;
  for (const r of rows) {
    const truth = TRUTH.weeks[r.bucket]?.categories[r.category];
    assert(truth, `no seeded week ${r.bucket} / ${r.category}`);
    const [searches, taps, purchases] = r.cells.slice(2, 5);
    for (const [shownText, want, name] of [[searches, truth.searches, 'searches'], [taps, truth.taps, 'taps'], [purchases, truth.purchases, 'purchases']]) {
      if (shownText === '–') { hidden++; continue; }
      assertEq(Number(shownText), want, `${r.bucket} ${r.category} ${name}`);
      shown++;
    }
  }
  console.log(`  [${STORE}] market: ${shown} figures equal the seeded counts, ${hidden} hidden`);
  assert(shown >= 10, `only ${shown} figures shown`);
  // The chart's points: the sum of the table's published taps per week.
  const points = await page.$$eval('#market-chart circle[data-series="taps"]', (cs) => cs.map((c) => [c.dataset.bucket, Number(c.dataset.value)]));
  assert(points.length > 0, 'chart points');
  for (const [bucket, value] of points) {
    const sum = rows.filter((r) => r.bucket === bucket && r.cells[3] !== '–').reduce((s, r) => s + Number(r.cells[3]), 0);
    assertEq(value, sum, `chart taps ${bucket}`);
  }
  const brands = await tableRows(page, 'brands');
  let brandShown = 0;
  for (const r of brands) {
    const truth = TRUTH.weeks[r.bucket]?.brands[`${r.category}|${r.brand}`];
    assert(truth, `no seeded ${r.bucket} ${r.category}|${r.brand}`);
    if (r.cells[4] !== '–') { assertEq(Number(r.cells[4]), truth.taps, `${r.bucket} ${r.brand} taps`); brandShown++; }
  }
  assert(brandShown > 0, 'some brand figures shown');
  const distinctBrands = new Set(brands.map((r) => r.brand));
  assert(distinctBrands.size >= 2, `admin sees several brands: ${[...distinctBrands]}`);
  const looks = await page.$$('#looks .look');
  assert(looks.length >= 1, 'a rising look is shown');
  assert((await page.$$('#looks .look .thumbs svg, #looks .look .thumbs img')).length >= 1, 'look thumbnails');
  // The look seeded to rise is found: a look led by its product, growing (or new).
  const looksShown = await page.$$eval('#looks .look', (ls) => ls.map((e) => [e.dataset.products.split(' ')[0], e.dataset.growth]));
  const rising = looksShown.find(([first]) => first === TRUTH.rising_product);
  assert(rising, `no look led by the rising ${TRUTH.rising_product}: ${JSON.stringify(looksShown)}`);
  assert(rising[1] === 'new' || Number(rising[1]) > 0, `the rising look does not grow: ${rising[1]}`);
  console.log(`  [${STORE}] rising look ${rising[0]}: growth ${rising[1]}`);
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console.png'), fullPage: true });
  await ctx.close();
});

test('brand key: only its own brand, in the page and the API', async () => {
  const brand = env('BRAND');
  const other = env('OTHER_BRAND');
  const { ctx, page } = await signIn(env('BRAND_KEY'), { width: 390, height: 844 });
  assertEq(await page.$eval('#brand', (e) => e.textContent), brand, 'brand shown');
  const rows = await tableRows(page, 'brands');
  assert(rows.length > 0, 'brand rows');
  for (const r of rows) assertEq(r.brand.toLowerCase(), brand.toLowerCase(), 'brand row');
  const top = await page.$$eval('#top-products tbody tr', (trs) => trs.map((t) => t.dataset.brand));
  for (const b of top) assertEq(b.toLowerCase(), brand.toLowerCase(), 'top product brand');
  const text = await page.$eval('#main', (e) => e.innerText);
  const brandTables = await page.$$eval('#brands, #top-products, #rising-products', (ts) => ts.map((t) => t.innerText).join('\n'));
  assert(!brandTables.includes(other), `${other} appears in the brand's tables`);
  assert(text.includes('Market'), 'market totals shown');
  // Narrow screen: nothing wider than the viewport (tables scroll inside their box).
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert(overflow <= 1, `page is ${overflow}px wider than a 390px screen`);
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, 'console-brand-narrow.png'), fullPage: true });
  await ctx.close();
  const forbidden = await api(env('BRAND_KEY'), `brand=${encodeURIComponent(other)}`);
  assertEq(forbidden.status, 403, "another brand's report");
  const own = JSON.parse((await api(env('BRAND_KEY'), 'granularity=day&period=14')).body);
  const foreign = own.rows.filter((r) => r.brand && r.brand.toLowerCase() !== brand.toLowerCase());
  assertEq(foreign.length, 0, 'API rows of other brands');
  assert(own.rows.some((r) => r.level === 'category'), 'market rows in the API');
});

test('app key: no reports, in the page and the API', async () => {
  const { ctx, page } = await signIn(env('APP_KEY'));
  assert(await page.$('#no-reports'), 'the no-reports notice');
  assertEq((await page.$$('#market')).length, 0, 'no market table');
  await ctx.close();
  assertEq((await api(env('APP_KEY'), '')).status, 403, 'GET /v1/trends with an app key');
});

test('CSV: the same rows as JSON', async () => {
  const csv = await api(env('ADMIN_KEY'), 'format=csv&period=4');
  assertEq(csv.status, 200, 'status');
  assert(csv.type.startsWith('text/csv'), `content-type ${csv.type}`);
  const json = JSON.parse((await api(env('ADMIN_KEY'), 'period=4')).body);
  const lines = csv.body.trim().split('\n');
  assert(lines[0].startsWith('bucket,level,category'), 'header');
  assertEq(lines.length - 1, json.rows.length, 'rows');
});

await run('console', {
  before: async () => { browser = await launch(); },
  after: async () => { if (browser) await browser.close(); },
});
