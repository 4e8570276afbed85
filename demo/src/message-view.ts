import type { JsonValue, MessageRecord, MessageStatus } from 'agent-state-store';
import type { ToolCall } from './agent.js';
import { h, timeLabel } from './dom.js';
import { icon, type IconName } from './icons.js';
import { renderMarkdown } from './markdown.js';

/**
 * How one message looks. What people type is set as text (textContent), never parsed; what the
 * agent writes is Markdown, rendered by markdown-it with raw HTML, images and unsafe links off.
 */

const ROLE_LABELS: Record<string, string> = { user: 'You', assistant: 'Agent', system: 'System', tool: 'Tool' };

/** "You", "Agent", "System", or the raw role. */
export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}

function field(item: JsonValue | null, key: string): JsonValue | undefined {
  return typeof item === 'object' && item !== null && !Array.isArray(item) ? item[key] : undefined;
}

/** The tool calls stored in a message's item, if it has the demo's shape. */
export function toolCallsOf(item: JsonValue | null): ToolCall[] {
  const calls = field(item, 'toolCalls');
  if (!Array.isArray(calls)) return [];
  return calls.filter((c): c is ToolCall => typeof c === 'object' && c !== null && !Array.isArray(c) && typeof c['name'] === 'string') as ToolCall[];
}

/** A collapsible card for one tool call: its name in the summary, arguments and output inside. */
export function toolCard(call: ToolCall): HTMLElement {
  return h(
    'details',
    { class: 'tool-card' },
    h('summary', {}, h('span', { class: 'tool-icon', 'aria-hidden': 'true', text: '⚙' }), 'Tool call: ', h('code', { text: call.name })),
    h('div', { class: 'tool-body' }, h('h4', { text: 'Arguments' }), h('pre', { text: JSON.stringify(call.arguments, null, 2) }), h('h4', { text: 'Output' }), h('pre', { text: call.output })),
  );
}

/** The "‹ 2/3 ›" switcher between a message and its siblings. */
export function branchSwitcher(index: number, count: number, key: string, go: (delta: number) => void): HTMLElement {
  return h(
    'span',
    { class: 'branches', role: 'group', 'aria-label': `Branch ${index + 1} of ${count}` },
    h('button', { type: 'button', class: 'icon', 'aria-label': 'Previous branch', title: 'Previous branch', 'data-key': `${key}-prev`, disabled: index === 0, onclick: () => go(-1), text: '‹' }),
    h('span', { class: 'branch-count', text: `${index + 1}/${count}` }),
    h('button', { type: 'button', class: 'icon', 'aria-label': 'Next branch', title: 'Next branch', 'data-key': `${key}-next`, disabled: index === count - 1, onclick: () => go(1), text: '›' }),
  );
}

/** The parts of a message element; the conversation fills the footer and may swap the body for an editor. */
export interface MessageParts {
  element: HTMLLIElement;
  body: HTMLElement;
  /** Always visible: the branch switcher. */
  footer: HTMLElement;
  /** Shown on hover and on keyboard focus: copy, edit, regenerate. */
  actions: HTMLElement;
}

const STATUS_NOTES: Partial<Record<MessageStatus, string>> = {
  interrupted: 'Interrupted: the app closed while this reply streamed; the text written until then is kept.',
  failed: 'Failed: the reply broke off with an error; the text written until then is kept.',
  streaming: 'Being written in another tab…',
};

/** Fills a message body: Markdown for what the agent wrote, plain text for anything a person typed. */
export function fillBody(body: HTMLElement, role: string, content: string): void {
  if (role === 'assistant') renderMarkdown(body, content);
  else body.textContent = content;
}

/** What to render: a stored message, or the reply this tab is streaming (drawn from its run). */
export type Renderable = Pick<MessageRecord, 'role' | 'content' | 'item' | 'createdAt'> & { status: MessageStatus };

/**
 * Renders a message. `ownStream`: this tab is writing it, so it is drawn from the run and needs no
 * "in another tab" note. A status other than `complete` shows as a badge and a note.
 */
export function messageElement(message: Renderable, ownStream = false): MessageParts {
  const { status } = message;
  const streaming = status === 'streaming';
  const badge = status === 'complete' || streaming ? null : h('span', { class: `badge message-status status-${status}`, text: status });
  const head = h('div', { class: 'message-head' }, h('span', { class: 'role', text: roleLabel(message.role) }), timeLabel(message.createdAt), badge);
  const body = h('div', { class: `content${message.role === 'assistant' ? ' markdown' : ''}` });
  fillBody(body, message.role, message.content);
  const stopReason = field(message.item, 'stopReason');
  const stopped = field(message.item, 'stopped') === true;
  const note = ownStream ? undefined : STATUS_NOTES[status];
  const notes = [
    note ? h('p', { class: 'note', text: note }) : null,
    stopped && stopReason === 'budget_limited' ? h('p', { class: 'note', text: 'Stopped: the goal’s token budget ran out (budget limited).' }) : null,
    stopped && stopReason !== 'budget_limited' ? h('p', { class: 'note', text: 'Stopped before the end.' }) : null,
    field(message.item, 'edited') === true ? h('p', { class: 'note muted', text: 'Edited.' }) : null,
  ];
  const footer = h('div', { class: 'message-footer' });
  const actions = h('div', { class: 'message-actions' });
  footer.append(actions);
  const classes = ['message', `role-${message.role}`, ownStream && streaming ? 'streaming' : '', !ownStream && streaming ? 'streaming-elsewhere' : ''];
  const element = h(
    'li',
    { class: classes.filter(Boolean).join(' '), 'data-role': message.role, 'data-status': status },
    h('div', { class: 'bubble' }, head, h('div', { class: 'tools' }, ...toolCallsOf(message.item).map(toolCard)), body, ...notes),
    footer,
  );
  return { element, body, footer, actions };
}

/** A small icon button with a name for screen readers and a tooltip for the mouse. */
export function actionButton(label: string, name: IconName, key: string, onclick: () => void): HTMLButtonElement {
  return h('button', { type: 'button', class: 'action', 'aria-label': label, title: label, 'data-key': key, onclick }, icon(name));
}

// Block elements whose last child holds the end of the text; a cursor goes inside the deepest one.
const CONTAINERS = new Set(['OL', 'UL', 'LI', 'BLOCKQUOTE', 'P', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6']);

/** Puts `cursor` right after the last text of a (Markdown) body, not on a line of its own. */
export function placeCursor(body: HTMLElement, cursor: HTMLElement): void {
  let at: Element = body;
  while (at.lastElementChild && CONTAINERS.has(at.lastElementChild.tagName)) at = at.lastElementChild;
  at.append(cursor);
}
