// The catalogue service's search and events API (catalogue/openapi.json), for the /try page
// and the extension. Failures are CatalogueErrors with a code and a sentence for users.

export class CatalogueError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'CatalogueError';
    this.code = code;
  }
}

/** A random session id as the API wants it (8-64 of [A-Za-z0-9_-]; never a user id). */
export function newSessionId() {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return 'web-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export class Catalogue {
  constructor(baseUrl, apiKey, sessionId = newSessionId()) {
    this.base = String(baseUrl || '').replace(/\/+$/, '');
    this.key = apiKey;
    this.sessionId = sessionId;
  }

  async post(path, body) {
    if (!this.base) throw new CatalogueError('not_configured', 'No catalogue server is set: enter its URL in the options.');
    if (!this.key) throw new CatalogueError('not_configured', 'No API key is set: enter the catalogue API key in the options.');
    let resp;
    try {
      resp = await fetch(this.base + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.key}` },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw new CatalogueError('offline', `The catalogue server at ${this.base} cannot be reached (is it running?): ${e.message}`);
    }
    let json = null;
    try {
      json = await resp.json();
    } catch {}
    if (resp.ok && json) return json;
    const detail = json?.error?.message || `HTTP ${resp.status}`;
    const code = json?.error?.code || 'server';
    if (resp.status === 401 || resp.status === 403)
      throw new CatalogueError('unauthorized', `The catalogue refused the API key: ${detail}`);
    if (resp.status === 429) throw new CatalogueError('rate_limited', `Too many searches; try again in a moment (${detail}).`);
    if (resp.status >= 500 || !json) throw new CatalogueError('server', `The catalogue server failed (HTTP ${resp.status}): ${detail}`);
    throw new CatalogueError(code, `The catalogue refused the search: ${detail}`);
  }

  /** Products like an analysed item (it must carry its `embedding`). */
  search(item, model, k = 8) {
    return this.post('/v1/search', {
      embedding: item.embedding,
      model,
      k,
      category: item.category,
      session_id: this.sessionId,
    });
  }

  /** Reports products shown (positions 1-based) or one clicked. */
  event(type, productId, queryId, position) {
    return this.post('/v1/events', {
      type,
      product_id: productId,
      query_id: queryId,
      position,
      session_id: this.sessionId,
    });
  }

  impressions(response) {
    return Promise.all(response.results.map((p, i) => this.event('impression', p.id, response.query_id, i + 1)));
  }
}

/** `12.50 EUR` in the page's locale. */
export function formatPrice(price, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(price);
  } catch {
    return `${price.toFixed(2)} ${currency}`;
  }
}

/**
 * The link for a product's `url`, or null: only an absolute http(s) URL may become an href (a
 * catalogue or a feed it ingested could hold `javascript:` or `data:` URLs, which would run on
 * a Buy click in the page or the extension's side panel).
 */
export function safeHref(url) {
  if (typeof url !== 'string') return null;
  try {
    const u = new URL(url); // no base: relative and scheme-relative URLs are refused
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/**
 * Shows a search's products in `list` (an <ol>) with prices and Buy links (http(s) only: see
 * `safeHref`), reports them as impressions, and a Buy click as a click event (position
 * 1-based). Resolves once the impressions are stored.
 */
export function renderProducts(list, response, catalogue) {
  list.replaceChildren();
  response.results.forEach((p, i) => {
    const li = document.createElement('li');
    li.className = 'product';
    li.dataset.productId = p.id;
    const title = document.createElement('div');
    title.className = 'title';
    title.textContent = p.title;
    const meta = document.createElement('div');
    meta.className = 'meta';
    const price = document.createElement('span');
    price.className = 'price';
    price.textContent = formatPrice(p.price, p.currency);
    meta.append(price, `${p.brand} · ${p.category}${p.in_stock ? '' : ' · out of stock'} · similarity ${p.similarity.toFixed(2)}`);
    const buy = document.createElement('a');
    buy.className = 'buy';
    buy.textContent = 'Buy';
    const href = safeHref(p.url);
    if (href) {
      buy.href = href;
      buy.target = '_blank';
      buy.rel = 'noopener noreferrer';
      buy.addEventListener('click', () => {
        catalogue.event('click', p.id, response.query_id, i + 1).catch((e) => console.warn('click event:', e.message));
      });
    } else {
      buy.classList.add('disabled'); // an <a> without href: not a link, not focusable
      buy.title = 'This product has no web address that can be opened safely.';
    }
    li.append(title, meta, buy);
    list.append(li);
  });
  if (response.results.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'No similar products in this catalogue.';
    list.append(li);
  }
  return catalogue.impressions(response);
}
