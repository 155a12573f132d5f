// The /try page: the wasm core analyses the photo here; a tapped box searches this catalogue.
import { Engine, explain, MIN_SIDE } from '/try/lib/shoplook.mjs';
import { drawBoxes } from '/try/lib/overlay.mjs';
import { Catalogue, newSessionId, renderProducts } from '/try/lib/catalogue.mjs';

const $ = (id) => document.getElementById(id);
const status = (text, error = false) => {
  $('status').textContent = text;
  $('status').classList.toggle('error', error);
};

const keyInput = $('key');
keyInput.value = localStorage.getItem('shoplook.key') || '';
keyInput.addEventListener('change', () => localStorage.setItem('shoplook.key', keyInput.value.trim()));
const sessionId = newSessionId();
const catalogue = () => new Catalogue(location.origin, keyInput.value.trim(), sessionId);
let engine;
let current = null; // { analysis }

async function main() {
  try {
    engine = await Engine.load('/try/models');
  } catch (e) {
    status(`ShopLook could not start: ${explain(e)}`, true);
    return;
  }
  // For the browser tests and the curious: the loaded engine and the last analysis.
  window.shoplook = { engine, last: () => current };
  document.body.dataset.ready = 'true';
  status(`Ready (models loaded in ${(engine.loadMs / 1000).toFixed(1)} s). Drop or pick a photo.`);
}

async function analyzeFile(file) {
  if (!engine) return;
  if (!/^image\/(jpeg|png|webp)$/.test(file.type)) {
    status(file.type === 'image/svg+xml' ? 'SVG drawings cannot be shopped: pick a photo (JPEG, PNG or WebP).' : `"${file.name}" is not a JPEG, PNG or WebP photo.`, true);
    return;
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  status('Looking for shoppable objects...');
  $('products').replaceChildren();
  const url = URL.createObjectURL(file);
  const img = $('photo');
  img.src = url;
  await img.decode().catch(() => {});
  let analysis;
  try {
    analysis = engine.analyze(bytes, { embeddings: true });
  } catch (e) {
    status(explain(e), true);
    return;
  }
  if (Math.min(analysis.width, analysis.height) < MIN_SIDE) {
    status(`This picture is too small (${analysis.width}x${analysis.height}) to find products in.`, true);
    return;
  }
  current = { analysis };
  $('hint').hidden = true;
  $('stage').hidden = false;
  const t = analysis.timings_ms;
  drawBoxes($('boxes'), analysis, search);
  document.body.dataset.analyzed = String(analysis.items.length);
  status(
    analysis.items.length
      ? `${analysis.items.length} object(s) found in ${t.total.toFixed(0)} ms (decode ${t.decode.toFixed(0)}, detect ${t.detect.toFixed(0)}, embed ${t.embed.toFixed(0)}). Tap one.`
      : 'Nothing shoppable found in this photo.',
  );
}

async function search(item) {
  status(`Searching for products like this ${item.label.toLowerCase()}...`);
  const cat = catalogue();
  try {
    const response = await cat.search(item, engine.model);
    await renderProducts($('products'), response, cat);
    status(`${response.results.length} product(s) like this ${item.label.toLowerCase()}.`);
  } catch (e) {
    $('products').replaceChildren();
    status(e.message, true);
  }
}

$('file').addEventListener('change', (e) => e.target.files[0] && analyzeFile(e.target.files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) analyzeFile(f);
});
main();
