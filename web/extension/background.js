// The service worker: the context menu, the offscreen document that runs the wasm core, the
// jobs of Shop clicks, and the side panel's query. It holds no lasting state of its own (MV3
// workers stop when idle): what the side panel needs is in chrome.storage.session. Messages
// that carry results or start searches are answered only to the extension's own frame.

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

// Jobs: a Shop click (content script) starts one; the extension frame over the picture, which
// knows the job id from its URL, collects the answer once. Kept in memory: a job lives seconds.
const FRAME = chrome.runtime.getURL('frame.html');
const MIN_SIDE = 64; // as web/shared/shoplook.mjs: smaller pictures hold nothing to shop
const jobs = new Map(); // id -> { tabId, answer: Promise }

function fromFrame(sender) {
  return sender.id === chrome.runtime.id && typeof sender.url === 'string' && sender.url.startsWith(FRAME) && sender.tab?.id !== undefined;
}

// What the content script can tell from the element alone; everything else, the offscreen
// document finds (it fetches the picture without the user's cookies).
function precheck(src, width, height) {
  if (!src) return 'This picture has no address the extension could read.';
  let url;
  try {
    url = new URL(src);
  } catch {
    return 'This picture has no address the extension could read.';
  }
  if (/^data:image\/svg|\.svgz?(\?|#|$)/i.test(src)) return 'This is an SVG drawing, not a photo: there is nothing to shop in it.';
  if (url.protocol === 'blob:') return 'This picture exists only inside the page (a blob: URL) and cannot be read by the extension.';
  if (!['http:', 'https:', 'data:'].includes(url.protocol)) return `Pictures from ${url.protocol} addresses cannot be shopped.`;
  if (width && height && Math.min(width, height) < MIN_SIDE) return `This picture is too small (${width}x${height}) to find products in.`;
  return null;
}

function startJob(msg, sender) {
  if (typeof msg.job !== 'string' || !/^[0-9a-f-]{36}$/.test(msg.job) || sender.tab?.id === undefined) return { ok: false };
  const refused = precheck(typeof msg.src === 'string' ? msg.src : '', Number(msg.width) || 0, Number(msg.height) || 0);
  const answer = refused ? Promise.resolve({ ok: false, message: refused }) : analyze(msg.src);
  jobs.set(msg.job, { tabId: sender.tab.id, answer: answer.catch((e) => ({ ok: false, message: e.message })) });
  setTimeout(() => jobs.delete(msg.job), 5 * 60_000); // a frame that never asked
  return { ok: true };
}

// The job id is the frame's secret: the content script hands it to its own frame with
// postMessage, which the page cannot read, and it is never in the page's DOM. frame.html is a
// web-accessible page, so a page may frame copies of it, but a copy without the id gets no
// answer, hence no boxes to click. An unknown id is answered as such (the frame waits on).
async function collectJob(msg, sender) {
  const job = jobs.get(msg.job);
  if (!job || job.tabId !== sender.tab.id) return { ok: false, unknown: true };
  jobs.delete(msg.job);
  return { ...(await job.answer), tabId: sender.tab.id };
}

async function storeQuery(msg, sender) {
  // The frame opened the side panel itself, in its click's user gesture; the panel reads this.
  await chrome.storage.session.set({ query: { item: msg.item, model: msg.model, at: Date.now(), page: sender.tab.url } });
  return { ok: true };
}

chrome.runtime.onMessage.addListener((msg, sender, reply) => {
  if (msg.target === 'offscreen' || sender.id !== chrome.runtime.id) return false;
  const answer = (p) => {
    p.then(reply, (e) => reply({ ok: false, message: e.message }));
    return true;
  };
  if (msg.type === 'shop') {
    reply(startJob(msg, sender));
    return false;
  }
  // The rest only from the extension's own frame: the page cannot reach or click into it.
  if (!fromFrame(sender)) return false;
  if (msg.type === 'job') return answer(collectJob(msg, sender));
  if (msg.type === 'search') return answer(storeQuery(msg, sender));
  if (msg.type === 'close') {
    chrome.tabs.sendMessage(sender.tab.id, { type: 'close-frame', job: msg.job }, { frameId: 0 }).catch(() => {});
    return false;
  }
  return false;
});
