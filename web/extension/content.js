// Content script (every page): a "Shop" button on the picture under the pointer and, once the
// user clicks it, an extension frame (frame.html) laid over the picture that shows the boxes or
// a message. It never reads picture bytes itself (the offscreen document fetches them, without
// the user's cookies) and writes nothing a page script could learn from into the page: the
// results and error texts live in the frame, another origin that the page cannot read.
//
// Only the user's own gestures count: the page can dispatch mouseover and click events of its
// own (and call .click()), which are not `isTrusted`; every handler here ignores those.
(() => {
  const Z = 2147483000;
  const FRAME = chrome.runtime.getURL('frame.html');
  const ORIGIN = new URL(FRAME).origin;
  let hovered = null; // the picture the Shop button belongs to
  let lastContextTarget = null;
  let shown = null; // { frame, img, job }: the one shopped picture

  const shopButton = document.createElement('button');
  shopButton.type = 'button';
  shopButton.textContent = 'Shop';
  shopButton.id = 'shoplook-shop-button';
  Object.assign(shopButton.style, {
    position: 'absolute', zIndex: String(Z + 1), display: 'none', padding: '4px 10px',
    font: '600 13px/18px system-ui, sans-serif', color: '#fff', background: '#1971c2',
    border: '0', borderRadius: '14px', cursor: 'pointer', boxShadow: '0 1px 4px rgba(0,0,0,0.4)',
  });

  function place(el, img, dx = 0, dy = 0) {
    const r = img.getBoundingClientRect();
    el.style.left = `${r.left + window.scrollX + dx}px`;
    el.style.top = `${r.top + window.scrollY + dy}px`;
    return r;
  }

  function closeFrame() {
    shown?.frame.remove();
    shown = null;
  }

  // The frame is as large as the picture whatever the answer (its size tells the page nothing).
  // Once loaded it gets the job id, its secret, by postMessage to the extension's origin (the page
  // cannot read that message, nor navigate the frame elsewhere and still receive it), and asks
  // the service worker for the answer.
  function showFrame(img, job) {
    closeFrame();
    const frame = document.createElement('iframe');
    frame.className = 'shoplook-frame';
    frame.title = 'Shopping boxes';
    frame.src = FRAME;
    frame.addEventListener('load', (e) => {
      if (e.isTrusted) frame.contentWindow?.postMessage({ shoplookJob: job }, ORIGIN);
    });
    frame.setAttribute('allowtransparency', 'true');
    Object.assign(frame.style, {
      position: 'absolute', zIndex: String(Z), border: '0', margin: '0', padding: '0',
      background: 'transparent', colorScheme: 'normal', display: 'block',
    });
    const r = place(frame, img);
    frame.style.width = `${Math.max(r.width, 48)}px`;
    frame.style.height = `${Math.max(r.height, 48)}px`;
    document.body.append(frame);
    shown = { frame, img, job };
  }

  async function shop(img) {
    shopButton.style.display = 'none';
    const job = crypto.randomUUID();
    const src = img.currentSrc || img.src;
    let answer;
    try {
      answer = await chrome.runtime.sendMessage({ type: 'shop', job, src, width: img.naturalWidth, height: img.naturalHeight });
    } catch (e) {
      console.warn('ShopLook is not available:', e.message); // the extension was reloaded or removed
      return;
    }
    if (answer?.ok) showFrame(img, job);
  }

  shopButton.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    if (!e.isTrusted) return;
    if (hovered?.isConnected) shop(hovered);
  });

  document.addEventListener('mouseover', (e) => {
    if (!e.isTrusted) return;
    let t = e.target;
    if (t === shopButton) return;
    if (shown && t === shown.frame) t = shown.img; // over the boxes: Shop again
    if (!(t instanceof HTMLImageElement)) return;
    const r = t.getBoundingClientRect();
    if (r.width < 48 || r.height < 48) return; // icons and spacers get no button
    hovered = t;
    if (!shopButton.isConnected) document.body.append(shopButton);
    shopButton.style.display = 'block';
    place(shopButton, t, Math.max(4, r.width - 64), 6);
  }, true);

  document.addEventListener('contextmenu', (e) => {
    if (e.isTrusted && e.target instanceof HTMLImageElement) lastContextTarget = e.target;
  }, true);

  // From the service worker: the context menu's "Shop this picture" (a browser-UI gesture), or
  // the frame's close button.
  chrome.runtime.onMessage.addListener((msg) => {
    if (msg.type === 'close-frame') {
      if (shown?.job === msg.job) closeFrame();
      return false;
    }
    if (msg.type !== 'shop-src') return false;
    const img = lastContextTarget?.isConnected && (lastContextTarget.currentSrc || lastContextTarget.src) === msg.src
      ? lastContextTarget
      : [...document.images].find((i) => (i.currentSrc || i.src) === msg.src);
    if (img) shop(img);
    return false;
  });
})();
