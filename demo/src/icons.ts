// 16×16 outline icons (paths drawn for this demo), built as SVG nodes, never parsed from markup.
const ICONS = {
  copy: ['M5.5 5.5h7v8h-7z', 'M3.5 10.5v-8h7'],
  edit: ['M10.8 2.7l2.5 2.5-7.6 7.6-3.2.7.7-3.2z', 'M9.3 4.2l2.5 2.5'],
  regenerate: ['M13 8a5 5 0 1 1-1.6-3.7', 'M13 2.5v3h-3'],
  close: ['M4 4l8 8', 'M12 4l-8 8'],
} as const;

/** The names of the icons. */
export type IconName = keyof typeof ICONS;

/** One of the demo's icons, hidden from screen readers (its button carries the name). */
export function icon(name: IconName): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('fill', 'none');
  svg.setAttribute('stroke', 'currentColor');
  svg.setAttribute('stroke-width', '1.4');
  svg.setAttribute('stroke-linejoin', 'round');
  svg.setAttribute('stroke-linecap', 'round');
  for (const d of ICONS[name]) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

