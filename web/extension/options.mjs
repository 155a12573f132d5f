import { loadSettings, saveSettings } from './settings.mjs';

const $ = (id) => document.getElementById(id);
loadSettings().then(({ server, key }) => {
  $('server').value = server;
  $('key').value = key;
});
$('form').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    await saveSettings({ server: $('server').value, key: $('key').value });
    $('saved').textContent = 'Saved.';
  } catch (err) {
    $('saved').textContent = `Not saved: ${err.message}`;
  }
});
