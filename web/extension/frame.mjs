// The extension's frame over a shopped picture (content.js lays it there): it collects the
// analysis of its job (an id the content script posts to it) from the service worker and draws
// the boxes or a message. It is an extension page, another origin than the page under it, so the page's
// scripts can neither read what it shows nor click into it: only the user can.
import { drawBoxes } from './vendor/overlay.mjs';

const $ = (id) => document.getElementById(id);
let job = null; // the secret the content script posts (never in the page's DOM)

function note(text, isError = false) {
  $('note').textContent = text;
  $('note').dataset.error = String(isError);
  $('note').hidden = !text;
}

async function pick(item, model, tabId) {
  // Opened here, in the click's user gesture; the side panel then reads the query from storage.
  const opened = chrome.sidePanel.open({ tabId }).then(() => null, (e) => e.message);
  const stored = await chrome.runtime.sendMessage({ type: 'search', job, item, model }).catch((e) => ({ ok: false, message: e.message }));
  const error = await opened;
  if (!stored?.ok) note(stored?.message || 'The results could not be shown.', true);
  else if (error) note(`The side panel could not be opened (${error}): click the ShopLook button in the toolbar.`, true);
  else note('');
}

// Waits for the content script's job id (anyone in the page may post to this frame: an id that
// the service worker does not know is ignored) and shows its answer.
async function start(candidate) {
  let answer;
  try {
    answer = await chrome.runtime.sendMessage({ type: 'job', job: candidate });
  } catch (e) {
    answer = { ok: false, message: `ShopLook is not available: ${e.message}` };
  }
  if (answer?.unknown || job) return;
  job = candidate;
  if (!answer?.ok) note(answer?.message || 'ShopLook failed.', true);
  else if (answer.analysis.items.length === 0) note('Nothing shoppable found in this picture.');
  else {
    note('');
    drawBoxes($('boxes'), answer.analysis, (item) => pick(item, answer.model, answer.tabId));
  }
  document.body.dataset.state = 'done';
}

addEventListener('message', (e) => {
  const candidate = e.data?.shoplookJob;
  if (!job && typeof candidate === 'string' && /^[0-9a-f-]{36}$/.test(candidate)) start(candidate);
});
$('close').addEventListener('click', (e) => {
  if (e.isTrusted) chrome.runtime.sendMessage({ type: 'close', job }).catch(() => {});
});
note('ShopLook is looking at this picture...');
