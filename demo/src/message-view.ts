import type { JsonValue, MessageRecord, MessageStatus } from 'agent-state-store';
import type { ToolCall } from './agent.js';
import { h, timeLabel } from './dom.js';

/**
 * How one message looks. Content is always set as text (a text node or textContent), never parsed
 * as HTML: it comes from people and from a model.
 */

const ROLE_LABELS: Record<string, string> = { user: 'You', assistant: 'Agent', system: 'System' };

/** "You", "Agent", "System", or the raw role. */
export function roleLabel(role: string): string {
  return ROLE_LABELS[role] ?? role;
}

/** The tool calls stored in a message's item, if it has the demo's shape. */
export function toolCallsOf(item: JsonValue | null): ToolCall[] {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return [];
  const calls = item['toolCalls'];
  if (!Array.isArray(calls)) return [];
  return calls.filter((c): c is ToolCall => typeof c === 'object' && c !== null && !Array.isArray(c) && typeof c['name'] === 'string') as ToolCall[];
}

function flag(item: JsonValue | null, key: string): boolean {
  return typeof item === 'object' && item !== null && !Array.isArray(item) && item[key] === true;
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
    h('button', { type: 'button', class: 'icon', 'aria-label': 'Previous branch', 'data-key': `${key}-prev`, disabled: index === 0, onclick: () => go(-1), text: '‹' }),
    h('span', { class: 'branch-count', text: `${index + 1}/${count}` }),
    h('button', { type: 'button', class: 'icon', 'aria-label': 'Next branch', 'data-key': `${key}-next`, disabled: index === count - 1, onclick: () => go(1), text: '›' }),
  );
}

/** The parts of a message element; the conversation adds the switcher and actions. */
export interface MessageParts {
  element: HTMLLIElement;
  head: HTMLElement;
  body: HTMLElement;
  actions: HTMLElement;
}

const STATUS_NOTES: Partial<Record<MessageStatus, string>> = {
  interrupted: 'Interrupted: the app closed while this reply streamed; the text written until then is kept.',
  failed: 'Failed: the reply broke off with an error; the text written until then is kept.',
  streaming: 'Being written in another tab…',
};

/**
 * Renders a stored message (or, with `streaming`, the reply being streamed in this tab). A status
 * other than `complete` shows as a badge; only the assistant's messages are asked for theirs.
 */
export function messageElement(message: Pick<MessageRecord, 'role' | 'content' | 'item' | 'createdAt'>, streaming = false, status: MessageStatus = 'complete'): MessageParts {
  const badge = status === 'complete' || streaming ? null : h('span', { class: `badge message-status status-${status}`, text: status });
  const head = h('div', { class: 'message-head' }, h('span', { class: 'role', text: roleLabel(message.role) }), timeLabel(message.createdAt), badge);
  const body = h('div', { class: 'content', text: message.content });
  const actions = h('div', { class: 'message-actions' });
  const note = streaming ? undefined : STATUS_NOTES[status];
  const notes = [
    note ? h('p', { class: 'note', text: note }) : null,
    flag(message.item, 'stopped') ? h('p', { class: 'note', text: 'Stopped before the end.' }) : null,
    flag(message.item, 'edited') ? h('p', { class: 'note', text: 'Edited.' }) : null,
  ];
  const element = h(
    'li',
    { class: `message role-${message.role}${streaming ? ' streaming' : ''}${status === 'streaming' && !streaming ? ' streaming-elsewhere' : ''}`, 'data-role': message.role, 'data-status': status },
    head,
    h('div', { class: 'tools' }, ...toolCallsOf(message.item).map(toolCard)),
    body,
    ...notes,
    actions,
  );
  return { element, head, body, actions };
}
