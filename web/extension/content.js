// Content script (every page): a "Shop" button on the picture under the pointer, the boxes
// over a shopped picture, and a click on a box asks the service worker to open the results.
// It never reads picture bytes itself: the offscreen document fetches them.
(() => {
  const MIN_SIDE = 64; // as web/shared/shoplook.mjs: smaller pictures hold nothing to shop
  const Z = 2147483000;
  let hovered = null;
  let lastContextTarget = null;
  let overlayModule = null;

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

  function note(img, text, isError = false) {
    let n = document.getElementById('shoplook-note');
    if (!n) {
      n = document.createElement('div');
      n.id = 'shoplook-note';
      n.setAttribute('role', 'status');
      Object.assign(n.style, {
        position: 'absolute', zIndex: String(Z + 2), maxWidth: '360px', padding: '6px 10px',
        font: '13px/18px system-ui, sans-serif', borderRadius: '6px', boxShadow: '0 1px 6px rgba(0,0,0,0.4)',
      });
      document.body.append(n);
    }
    n.textContent = text;
    n.dataset.error = String(isError);
    n.style.color = isError ? '#fff' : '#222';
    n.style.background = isError ? '#c92a2a' : '#fff';
    place(n, img, 4, 4);
    n.style.display = text ? 'block' : 'none';
  }

  function layerFor(img) {
    let layer = img.shoplookLayer;
    if (!layer) {
      layer = document.createElement('div');
      layer.className = 'shoplook-layer';
      Object.assign(layer.style, { position: 'absolute', zIndex: String(Z), pointerEvents: 'none' });
      document.body.append(layer);
      img.shoplookLayer = layer;
    }
    const r = place(layer, img);
    layer.style.width = `${r.width}px`;
    layer.style.height = `${r.height}px`;
    return layer;
  }

  async function shop(img) {
    shopButton.style.display = 'none';
    const src = img.currentSrc || img.src;
    if (!src) return note(img, 'This picture has no address the extension could read.', true);
    if (/^data:image\/svg|\.svgz?(\?|#|$)/i.test(src)) return note(img, 'This is an SVG drawing, not a photo: there is nothing to shop in it.', true);
    if (img.naturalWidth && Math.min(img.naturalWidth, img.naturalHeight) < MIN_SIDE)
      return note(img, `This picture is too small (${img.naturalWidth}x${img.naturalHeight}) to find products in.`, true);
    note(img, 'ShopLook is looking at this picture...');
    let answer;
    try {
      answer = await chrome.runtime.sendMessage({ type: 'analyze', src });
    } catch (e) {
      return note(img, `ShopLook is not available: ${e.message}`, true);
    }
    if (!answer?.ok) return note(img, answer?.message || 'ShopLook failed.', true);
    const { analysis, model } = answer;
    if (analysis.items.length === 0) return note(img, 'Nothing shoppable found in this picture.');
    note(img, '');
    overlayModule ??= await import(chrome.runtime.getURL('vendor/overlay.mjs'));
    overlayModule.drawBoxes(layerFor(img), analysis, async (item) => {
      const r = await chrome.runtime.sendMessage({ type: 'search', item, model }).catch((e) => ({ ok: false, message: e.message }));
      if (!r?.ok) note(img, r?.message || 'The results could not be shown.', true);
    });
  }

  shopButton.addEventListener('click', (e) => {
    e.preventDefault();
    e.stopPropagation();
    if (hovered) shop(hovered);
  });

  document.addEventListener('mouseover', (e) => {
    const t = e.target;
    if (t === shopButton) return;
    if (!(t instanceof HTMLImageElement)) return;
    const r = t.getBoundingClientRect();
    if (r.width < 48 || r.height < 48) return; // icons and spacers get no button
    hovered = t;
    if (!shopButton.isConnected) document.body.append(shopButton);
    shopButton.style.display = 'block';
    place(shopButton, t, Math.max(4, r.width - 64), 6);
  }, true);

  document.addEventListener('contextmenu', (e) => {
    if (e.target instanceof HTMLImageElement) lastContextTarget = e.target;
  }, true);

  chrome.runtime.onMessage.addListener((msg) => {
    if (msg.type !== 'shop-src') return false;
    const img = lastContextTarget?.isConnected && (lastContextTarget.currentSrc || lastContextTarget.src) === msg.src
      ? lastContextTarget
      : [...document.images].find((i) => (i.currentSrc || i.src) === msg.src);
    if (img) shop(img);
    return false;
  });
})();
