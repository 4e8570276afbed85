/**
 * The demo's whole "framework": an element factory that only ever sets text through text nodes and
 * textContent (message content comes from users and from a model, so it must never be parsed as HTML).
 */

/** Something that can be a child: strings become text nodes, falsy values are skipped. */
export type Child = Node | string | number | null | undefined | false;

/** Attributes and properties of h(); `on*` functions become listeners, `text` sets textContent. */
export type Props = Record<string, unknown>;

// Set as properties, not attributes, because their attribute only gives the initial state.
const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'open', 'selected', 'min', 'max']);

/** Creates an element with props and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || (value === false && !PROPERTIES.has(key))) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'class') el.className = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (PROPERTIES.has(key)) (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children, turning strings into text nodes. */
export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** The `data-key` of the focused element when it is inside `container`: what to focus again after a redraw. */
export function focusedKey(container: Element): string | undefined {
  const active = document.activeElement;
  return active instanceof HTMLElement && container.contains(active) ? active.dataset['key'] : undefined;
}

/**
 * Focuses the element with `data-key` = `key` in `container` again, if the focus was lost (the
 * element was replaced). A button that became disabled (the last branch, say) cannot hold focus;
 * its enabled neighbour gets it.
 */
export function refocus(container: Element, key: string | undefined): void {
  if (!key || container.contains(document.activeElement)) return;
  const again = container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`);
  const target = again && (again as HTMLButtonElement).disabled ? again.parentElement?.querySelector<HTMLElement>('button:not(:disabled)') : again;
  target?.focus();
}

/**
 * Replaces a container's content. A re-render must not throw the keyboard user back to the top of
 * the page, so the focused element's `data-key` is looked up in the new content and focused again.
 */
export function replaceKeepingFocus(container: Element, children: Child[]): void {
  const key = focusedKey(container);
  container.replaceChildren();
  append(container, children);
  refocus(container, key);
}

/** Puts `items` into `container` in this order, moving only what is out of place (a moved focused node loses focus). */
export function reconcile(container: Element, items: Element[]): void {
  items.forEach((item, i) => {
    if (container.children[i] !== item) container.insertBefore(item, container.children[i] ?? null);
  });
  while (container.children.length > items.length) container.lastElementChild?.remove();
}

/**
 * Takes a field's text and clears the field at once, so that what is typed while the write is in
 * flight (the next message, the next job) is not wiped when it finishes; gives the text back if
 * `use` fails.
 */
export async function consume<T>(field: HTMLInputElement | HTMLTextAreaElement, use: (text: string) => Promise<T>): Promise<T> {
  const text = field.value.trim();
  field.value = '';
  try {
    return await use(text);
  } catch (error) {
    if (field.value === '') field.value = text;
    throw error;
  }
}

/** A section with a heading that names it, so it is a landmark region ("Checkpoints", "Jobs", …). */
export function panel(id: string, title: string, ...children: Child[]): HTMLElement {
  const headingId = `${id}-heading`;
  return h('section', { id, class: 'panel', 'aria-labelledby': headingId }, h('h2', { id: headingId, text: title }), ...children);
}

/** "3 min ago"-style time for Unix seconds, with the full date in a tooltip. */
export function timeLabel(seconds: number): HTMLTimeElement {
  const date = new Date(seconds * 1000);
  const diff = Math.round(Date.now() / 1000 - seconds);
  const text = diff < 45 ? 'just now' : diff < 3600 ? `${Math.round(diff / 60)} min ago` : date.toLocaleString();
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString(), text });
}

/** Bytes as "1.2 MB". */
export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
