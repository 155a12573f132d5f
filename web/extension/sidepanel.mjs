// The side panel: searches the catalogue for the box the user clicked (the service worker puts
// it in chrome.storage.session) and shows products with prices and Buy links; impressions and
// Buy clicks are reported as events.
import { Catalogue, newSessionId, renderProducts } from './vendor/catalogue.mjs';
import { loadSettings } from './settings.mjs';

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
};
const sessionId = newSessionId();
let shownAt = 0;

async function show(query) {
  if (!query || query.at <= shownAt) return;
  shownAt = query.at;
  const { server, key } = await loadSettings();
  const catalogue = new Catalogue(server, key, sessionId);
  status(`Searching for products like this ${query.item.label.toLowerCase()}...`);
  $('products').replaceChildren();
  try {
    const response = await catalogue.search(query.item, query.model);
    await renderProducts($('products'), response, catalogue);
    status(`${response.results.length} product(s) like this ${query.item.label.toLowerCase()}.`);
    document.body.dataset.queryId = response.query_id;
  } catch (e) {
    status(e.message, true);
  }
}

chrome.storage.session.onChanged.addListener((changes) => {
  if (changes.query) show(changes.query.newValue);
});
chrome.storage.session.get('query').then(({ query }) => show(query));
