// The extension's settings (chrome.storage.local: the API key is not synced to other devices).
export const DEFAULTS = { server: 'http://127.0.0.1:8787', key: '' };

export async function loadSettings() {
  return { ...DEFAULTS, ...(await chrome.storage.local.get(['server', 'key'])) };
}

export async function saveSettings({ server, key }) {
  const url = new URL(server); // throws on a malformed URL
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('The server URL must start with http:// or https://');
  await chrome.storage.local.set({ server: url.origin + url.pathname.replace(/\/+$/, ''), key: key.trim() });
}
