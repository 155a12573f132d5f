// ShopLook in the browser: the wasm core (web/pkg, built by scripts/build-wasm.sh) with the
// default models, loaded once. Shared by the /try page and the extension's offscreen document
// (both serve this file next to shoplook_wasm.js and shoplook_wasm_bg.wasm).
import init, { ShopLook, lastPanic } from './shoplook_wasm.js';

export const DETECTOR = 'ssd_mbv2_oidv4';
export const EMBEDDER = 'efficientnet_lite0_feat';
// Photos over this many pixels are refused from their header (a 40 MP photo decodes to 120 MB).
export const MAX_PIXELS = 40_000_000;
// Pictures smaller than this on their shorter side hold nothing worth shopping.
export const MIN_SIDE = 64;

/** An error with a stable `code` (the core's error codes, plus those of this module). */
export class ShopLookError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'ShopLookError';
    this.code = code;
  }
}

async function fetchOk(url) {
  let resp;
  try {
    resp = await fetch(url);
  } catch (e) {
    throw new ShopLookError('models_unavailable', `cannot fetch ${url}: ${e.message}`);
  }
  if (!resp.ok) throw new ShopLookError('models_unavailable', `cannot fetch ${url}: HTTP ${resp.status}`);
  return resp;
}

async function fetchModel(base, name) {
  const manifest = await (await fetchOk(`${base}/${name}.json`)).text();
  const onnx = new Uint8Array(await (await fetchOk(`${base}/${JSON.parse(manifest).file}`)).arrayBuffer());
  return { manifest, onnx };
}

/** The loaded core. `Engine.load(modelBase)` fetches the wasm and the models (a few seconds). */
export class Engine {
  constructor(core, loadMs) {
    this.core = core;
    this.loadMs = loadMs;
    this.poisoned = null;
  }

  static async load(modelBase) {
    const t0 = performance.now();
    await init();
    const [det, emb] = await Promise.all([fetchModel(modelBase, DETECTOR), fetchModel(modelBase, EMBEDDER)]);
    const core = Engine.call(() => new ShopLook([det.manifest], [det.onnx], emb.manifest, emb.onnx, MAX_PIXELS));
    return new Engine(core, performance.now() - t0);
  }

  /** `id@version` of the embedder (the `model` of a catalogue search). */
  get model() {
    return this.core.model;
  }

  /** The JSON of `shoplook analyze --json` for image bytes, as an object. */
  analyze(bytes, options = { embeddings: true }) {
    return JSON.parse(this.guarded(() => this.core.analyze(bytes, JSON.stringify(options))));
  }

  /** `{model, embedding}` of a region in photo pixels. */
  embedRegion(bytes, { x, y, width, height }) {
    return JSON.parse(this.guarded(() => this.core.embedRegion(bytes, x, y, width, height)));
  }

  guarded(f) {
    if (this.poisoned) throw this.poisoned;
    try {
      return Engine.call(f);
    } catch (e) {
      if (e.code === 'internal') this.poisoned = e;
      throw e;
    }
  }

  // Core errors are JS Errors named by their code; a trap (a Rust panic: the module aborts)
  // leaves the instance unusable, so it becomes `internal` and the caller must start afresh.
  static call(f) {
    try {
      return f();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        let why = '';
        try {
          why = lastPanic() || '';
        } catch {}
        throw new ShopLookError('internal', `ShopLook stopped on an internal error (${why || e.message}); reload to start again`);
      }
      if (e instanceof Error && e.name && e.name !== 'Error') throw new ShopLookError(e.name, e.message);
      throw e;
    }
  }
}

/** A sentence for a user, for an error of the core or of this module. */
export function explain(e) {
  switch (e.code) {
    case 'unsupported_format':
      return `This picture is not a JPEG, PNG or WebP photo (${e.message}).`;
    case 'image_too_large':
    case 'file_too_large':
      return `This picture is too large to analyse here (${e.message}).`;
    case 'corrupt_image':
      return `This picture is damaged or incomplete (${e.message}).`;
    case 'empty_input':
      return 'This picture is empty.';
    default:
      return e.message || String(e);
  }
}
