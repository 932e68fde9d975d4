// QR codes for links: drawn locally from the vendored qrcode-generator, always with the
// 4-module quiet zone the QR standard (ISO/IEC 18004) asks for, so phone cameras read them
// off any background; downloadable as PNG or SVG at a chosen size.

import qrcode from '../vendor/qrcode-generator-2.0.4.mjs';
import { h, select, field, download, toast } from './ui.js';

/** Light modules around the code on every side. */
export const QUIET_ZONE = 4;
export const SIZES = [256, 512, 1024];

function matrix(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  return { n, dark: (r, c) => qr.isDark(r, c) };
}

/**
 * Whole pixels per module for an image of `px` pixels: the code and its quiet zone fit in
 * it, and what is left over widens the quiet zone (never narrows it), so modules stay sharp.
 */
function layout(n, px) {
  const cell = Math.max(1, Math.floor(px / (n + 2 * QUIET_ZONE)));
  const size = Math.max(px, cell * (n + 2 * QUIET_ZONE));
  return { cell, size, offset: Math.floor((size - cell * n) / 2) };
}

/** A canvas of `px`×`px` pixels with the code drawn black on white. */
export function qrCanvas(text, px) {
  const m = matrix(text);
  const { cell, size, offset } = layout(m.n, px);
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, size);
  ctx.fillStyle = '#000';
  for (let r = 0; r < m.n; r++) {
    for (let c = 0; c < m.n; c++) if (m.dark(r, c)) ctx.fillRect(offset + c * cell, offset + r * cell, cell, cell);
  }
  return canvas;
}

/** The SVG text of the code, `px` wide; one path of unit squares in module coordinates. */
export function qrSvg(text, px) {
  const m = matrix(text);
  const total = m.n + 2 * QUIET_ZONE;
  let d = '';
  for (let r = 0; r < m.n; r++) {
    for (let c = 0; c < m.n; c++) if (m.dark(r, c)) d += `M${c + QUIET_ZONE} ${r + QUIET_ZONE}h1v1h-1z`;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${px}" height="${px}" viewBox="0 0 ${total} ${total}" shape-rendering="crispEdges">`
    + `<rect width="${total}" height="${total}" fill="#fff"/><path d="${d}" fill="#000"/></svg>\n`;
}

/** The code as an on-screen image (a data: URL, allowed by the CSP). */
export function qrImage(text, label, px = 192) {
  const canvas = qrCanvas(text, px);
  return h('img', { class: 'qr', src: canvas.toDataURL('image/png'), alt: `QR code for ${label}`, width: canvas.width, height: canvas.height });
}

const safeName = (label) => String(label).replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'link';

/** The image plus a size picker and PNG/SVG downloads. */
export function qrPanel(text, label) {
  const size = select('qr_size', SIZES.map((s) => [String(s), `${s} × ${s} px`]), '512');
  const png = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Download PNG QR code for ${label}` }, 'Download PNG');
  const svg = h('button', { type: 'button', class: 'small secondary', 'aria-label': `Download SVG QR code for ${label}` }, 'Download SVG');
  const name = () => `quiver-qr-${safeName(label)}-${size.value}`;
  png.addEventListener('click', () => {
    qrCanvas(text, Number(size.value)).toBlob((blob) => {
      if (!blob) { toast('Could not draw the PNG'); return; }
      download(`${name()}.png`, blob, 'image/png');
    }, 'image/png');
  });
  svg.addEventListener('click', () => download(`${name()}.svg`, qrSvg(text, Number(size.value)), 'image/svg+xml'));
  return h('div', { class: 'qr-panel' },
    qrImage(text, label),
    h('div', { class: 'qr-actions' }, field('QR size', size), h('div', { class: 'actions' }, png, svg)),
    h('p', { class: 'hint' }, 'With a 4-module white border, as scanners need. SVG scales to any print size.'));
}
