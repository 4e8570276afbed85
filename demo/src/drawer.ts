import { h } from './dom.js';
import { icon } from './icons.js';

/**
 * A side panel that becomes a drawer on narrow screens: CSS decides when (the media queries in
 * styles.css match DRAWER_QUERIES), this gives it a toggle button, a close button, a backdrop,
 * Escape to close, and focus that moves into the drawer and back to the toggle. A closed drawer is
 * `visibility: hidden`, so neither Tab nor a screen reader reaches into it.
 */

/** When each panel is a drawer; styles.css has the same widths. */
export const DRAWER_QUERIES = { threads: '(max-width: 860px)', details: '(max-width: 1199px)' } as const;

/** A panel's drawer controls. */
export interface Drawer {
  /** Opens and closes it; shown only while the panel is a drawer. */
  toggle: HTMLButtonElement;
  /** Closes it, inside the drawer. */
  closeButton: HTMLButtonElement;
  close(): void;
}

const open = new Set<Drawer>();
let backdrop: HTMLElement | undefined;

function updateBackdrop(): void {
  backdrop ??= document.body.appendChild(h('div', { class: 'backdrop', onclick: () => [...open].forEach((d) => d.close()) }));
  document.body.classList.toggle('drawer-open', open.size > 0);
}

/** Makes `panel` (which needs an id) a drawer below `query`'s width, toggled by a button named `label`. */
export function drawer(panel: HTMLElement, options: { label: string; icon: string; query: string }): Drawer {
  const media = matchMedia(options.query);
  const toggle = h('button', {
    type: 'button',
    class: `drawer-toggle toggle-${panel.id}`,
    'aria-controls': panel.id,
    'aria-expanded': 'false',
    // The name stays when a narrow screen shows only the icon.
    'aria-label': options.label,
    title: options.label,
    onclick: () => (panel.classList.contains('open') ? self.close() : show()),
  }, h('span', { 'aria-hidden': 'true', text: options.icon }), h('span', { class: 'toggle-label', text: options.label }));
  const closeButton = h('button', { type: 'button', class: 'action drawer-close', 'aria-label': `Close ${options.label.toLowerCase()}`, title: 'Close', onclick: () => self.close() }, icon('close'));

  function show(): void {
    if (!media.matches) return;
    for (const other of [...open]) other.close();
    panel.classList.add('open');
    toggle.setAttribute('aria-expanded', 'true');
    open.add(self);
    updateBackdrop();
    // After the visibility transition has started, so the first control can take focus.
    requestAnimationFrame(() => panel.querySelector<HTMLElement>('button:not([hidden]):not(:disabled), input, select, textarea, summary')?.focus());
  }

  const self: Drawer = {
    toggle,
    closeButton,
    close() {
      if (!panel.classList.contains('open')) return;
      const hadFocus = panel.contains(document.activeElement);
      panel.classList.remove('open');
      toggle.setAttribute('aria-expanded', 'false');
      open.delete(self);
      updateBackdrop();
      if ((hadFocus || document.activeElement === document.body) && media.matches) toggle.focus();
    },
  };
  // Escape closes it wherever the focus is (a click on the page may have taken it out of the drawer).
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && panel.classList.contains('open') && !(event.target as HTMLElement).closest('dialog')) self.close();
  });
  // Widening the window turns the drawer back into a column: it must not stay "open" for later.
  media.addEventListener('change', () => media.matches || self.close());
  return self;
}
