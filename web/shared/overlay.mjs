// Boxes over a picture: one button per analysed item, placed in percentages of the photo so
// they follow the picture's displayed size. Used by the /try page and the extension's content
// script (inline styles: the extension draws on pages whose CSS it does not control).

const COLORS = { shoes: '#e8590c', outfit: '#1971c2', bags: '#2f9e44' };

/**
 * Draws `analysis.items` into `layer` (an element laid exactly over the picture) and calls
 * `onPick(item, button)` when the user clicks one (a trusted click: synthetic events from
 * scripts are ignored). Returns the buttons.
 */
export function drawBoxes(layer, analysis, onPick) {
  layer.replaceChildren();
  const { width, height } = analysis;
  // Larger boxes first, so that a smaller box inside one (a shoe in a person) lies on top.
  const area = (i) => i.bbox.width * i.bbox.height;
  return [...analysis.items].sort((a, b) => area(b) - area(a)).map((item) => {
    const b = item.bbox;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'shoplook-box';
    button.dataset.category = item.category;
    button.dataset.id = String(item.id);
    button.title = `${item.label} (${item.category}), score ${item.score.toFixed(2)}: find similar products`;
    button.setAttribute('aria-label', button.title);
    const color = COLORS[item.category] || '#c2255c';
    Object.assign(button.style, {
      position: 'absolute',
      left: `${(100 * b.x) / width}%`,
      top: `${(100 * b.y) / height}%`,
      width: `${(100 * b.width) / width}%`,
      height: `${(100 * b.height) / height}%`,
      border: `2px solid ${color}`,
      borderRadius: '4px',
      background: 'rgba(255,255,255,0.08)',
      boxShadow: '0 0 0 1px rgba(0,0,0,0.35)',
      cursor: 'pointer',
      padding: '0',
      margin: '0',
      pointerEvents: 'auto',
      boxSizing: 'border-box',
    });
    const tag = document.createElement('span');
    tag.textContent = item.label;
    Object.assign(tag.style, {
      position: 'absolute',
      left: '-2px',
      top: '-18px',
      font: '11px/16px system-ui, sans-serif',
      color: '#fff',
      background: color,
      padding: '0 4px',
      borderRadius: '3px',
      whiteSpace: 'nowrap',
    });
    button.append(tag);
    button.addEventListener('click', (ev) => {
      ev.preventDefault();
      ev.stopPropagation();
      if (!ev.isTrusted) return; // only the user's own click searches: not a script's .click()
      for (const other of layer.querySelectorAll('.shoplook-box')) other.style.background = 'rgba(255,255,255,0.08)';
      button.style.background = 'rgba(255,255,255,0.3)';
      onPick(item, button);
    });
    layer.append(button);
    return button;
  });
}
