// The service worker: the context menu, the offscreen document that runs the wasm core, and
// the side panel. It holds no state of its own (MV3 workers stop when idle): what the side
// panel needs is in chrome.storage.session.

const OFFSCREEN = 'offscreen.html';

chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: 'shop', title: 'Shop this picture', contexts: ['image'] });
});

chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === 'shop' && tab?.id !== undefined) {
    chrome.tabs.sendMessage(tab.id, { type: 'shop-src', src: info.srcUrl }).catch(() => {});
  }
});

// The toolbar button opens the side panel.
chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch(() => {});

let creating = null;
async function ensureOffscreen() {
  if (await chrome.offscreen.hasDocument()) return;
  creating ??= chrome.offscreen
    .createDocument({
      url: OFFSCREEN,
      reasons: ['WORKERS'],
      justification: 'Runs the ShopLook WebAssembly core on pictures the user asked to shop.',
    })
    .finally(() => (creating = null));
  await creating;
}

async function analyze(src) {
  await ensureOffscreen();
  const answer = await chrome.runtime.sendMessage({ target: 'offscreen', type: 'analyze', src });
  if (answer?.poisoned) await chrome.offscreen.closeDocument().catch(() => {});
  return answer ?? { ok: false, message: 'The ShopLook engine did not answer.' };
}

async function openResults(item, model, tab) {
  // Opened first, while the click's user gesture holds; the panel reads the query from storage.
  const opened = chrome.sidePanel.open({ tabId: tab.id }).then(
    () => null,
    (e) => e.message,
  );
  await chrome.storage.session.set({ query: { item, model, at: Date.now(), page: tab.url } });
  const error = await opened;
  return error ? { ok: false, message: `The side panel could not be opened (${error}): click the ShopLook button in the toolbar.` } : { ok: true };
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (msg.target === 'offscreen') return false;
  if (msg.type === 'analyze') {
    analyze(msg.src).then(reply, (e) => reply({ ok: false, message: e.message }));
    return true;
  }
  if (msg.type === 'search') {
    openResults(msg.item, msg.model, sender.tab).then(reply, (e) => reply({ ok: false, message: e.message }));
    return true;
  }
  return false;
});
