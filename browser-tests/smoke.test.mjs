// Checks the browser set-up itself: chromium starts headless and renders a page.
import { launch, test, run, assertEq } from './lib.mjs';

let browser;
test('chromium renders a page', async () => {
  const page = await browser.newPage();
  await page.setContent('<h1 id="t">ShopLook</h1>');
  assertEq(await page.$eval('#t', (e) => e.textContent), 'ShopLook', 'heading text');
});
await run('browser-smoke', {
  before: async () => { browser = await launch(); },
  after: async () => { if (browser) await browser.close(); },
});
