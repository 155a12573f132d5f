// The offscreen document: fetches a picture's bytes itself (the extension's host permission
// lets it read cross-origin pictures that the page's own scripts could not) and analyses them
// with the wasm core. One engine, loaded on the first request.
//
// The address comes from the page, so the fetch carries none of the user's credentials: no
// cookies (an extension with host permissions would otherwise send even SameSite=Strict ones),
// no HTTP auth, no referrer, and no cached answer to an earlier credentialed request.
import { Engine, explain, MIN_SIDE } from './vendor/shoplook.mjs';

// Encoded pictures larger than this are refused before download completes.
const MAX_BYTES = 30 << 20;
let engine = null;

async function fetchPicture(src) {
  const url = new URL(src);
  if (url.protocol === 'blob:') throw new Error('This picture exists only inside the page (a blob: URL) and cannot be read by the extension.');
  if (!['http:', 'https:', 'data:'].includes(url.protocol)) throw new Error(`Pictures from ${url.protocol} addresses cannot be shopped.`);
  let resp;
  try {
    resp = await fetch(src, { credentials: 'omit', referrerPolicy: 'no-referrer', cache: 'no-store' });
  } catch (e) {
    throw new Error(`The picture could not be downloaded from ${url.host || 'the page'}: ${e.message}.`);
  }
  if (!resp.ok) {
    const hint = resp.status === 401 || resp.status === 403 ? ' ShopLook downloads pictures without your cookies or logins, so pictures only you can see cannot be shopped.' : '';
    throw new Error(`The picture could not be downloaded from ${url.host}: HTTP ${resp.status}.${hint}`);
  }
  const type = (resp.headers.get('content-type') || '').toLowerCase();
  if (type.includes('svg') || /\.svgz?$/i.test(url.pathname)) throw new Error('This is an SVG drawing, not a photo: there is nothing to shop in it.');
  const length = Number(resp.headers.get('content-length') || 0);
  if (length > MAX_BYTES) throw new Error(`This picture is too large to analyse (${(length / 1048576).toFixed(0)} MB; the limit is ${MAX_BYTES >> 20} MB).`);
  const bytes = new Uint8Array(await resp.arrayBuffer());
  if (bytes.length > MAX_BYTES) throw new Error(`This picture is too large to analyse (${(bytes.length / 1048576).toFixed(0)} MB).`);
  return bytes;
}

async function analyze(src) {
  try {
    engine ??= await Engine.load(chrome.runtime.getURL('vendor/models'));
    const bytes = await fetchPicture(src);
    const analysis = engine.analyze(bytes, { embeddings: true });
    if (Math.min(analysis.width, analysis.height) < MIN_SIDE)
      return { ok: false, message: `This picture is too small (${analysis.width}x${analysis.height}) to find products in.` };
    return { ok: true, analysis, model: engine.model, loadMs: engine.loadMs };
  } catch (e) {
    return { ok: false, message: explain(e), code: e.code, poisoned: e.code === 'internal' };
  }
}

chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (msg.target !== 'offscreen') return false;
  if (msg.type === 'analyze') {
    analyze(msg.src).then(reply);
    return true;
  }
  return false;
});
