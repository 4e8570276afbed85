import type { DynamicToolRecord, JsonValue } from 'agent-state-store';

/**
 * The simulated model: deterministic enough to test, varied enough to look alive. It picks a tool
 * from the thread's dynamic tools, invents arguments that fit the tool's input schema, and writes a
 * short answer that the runner streams out token by token.
 */

/** One tool call, as stored in the assistant message's `item`. */
// A type alias, not an interface, so that it is assignable to JsonValue.
export type ToolCall = {
  id: string;
  name: string;
  arguments: Record<string, JsonValue>;
  output: string;
};

/** What the agent will say and do for one turn. */
export interface PlannedReply {
  toolCalls: ToolCall[];
  text: string;
}

function excerpt(text: string, max = 48): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function argumentsFor(schema: JsonValue, prompt: string): Record<string, JsonValue> {
  const args: Record<string, JsonValue> = {};
  const properties = typeof schema === 'object' && schema !== null && !Array.isArray(schema) ? schema['properties'] : null;
  if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return args;
  for (const [key, spec] of Object.entries(properties)) {
    const type = typeof spec === 'object' && spec !== null && !Array.isArray(spec) ? spec['type'] : undefined;
    if (type === 'number' || type === 'integer') args[key] = 3;
    else if (type === 'boolean') args[key] = false;
    else if (type === 'array') args[key] = [excerpt(prompt, 24)];
    else if (type === 'object') args[key] = {};
    else args[key] = excerpt(prompt, 32);
  }
  return args;
}

// The tool whose name shares a word with the prompt, else the first one: a crude but visible "choice".
function chooseTool(prompt: string, tools: DynamicToolRecord[]): DynamicToolRecord | undefined {
  const words = new Set(prompt.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 2));
  return tools.find((t) => t.name.toLowerCase().split(/[^a-z0-9]+/).some((w) => words.has(w))) ?? tools[0];
}

const OPENERS = ['Good question.', 'Let me work through that.', 'Here is what I found.', 'On it.'];
const CLOSERS = [
  'Want me to go one step further and apply the change?',
  'Say the word and I will turn this into a patch.',
  'If that is not what you meant, edit your message and I will try again on a new branch.',
];

// What a "long" answer adds: enough text that it streams for several seconds.
const DETAILS = [
  '### How a reply is stored',
  'The reply starts as an empty message with the status **streaming**. Every quarter of a second the page sends what was written since, and the worker folds those pieces into one transaction, so a reply costs a handful of commits instead of one per token.',
  'If the tab closes halfway, the text written so far is kept and the message is marked **interrupted** the next time the store opens.',
  '### How branches work',
  'Every message points at its parent. Editing a message adds a sibling next to it, and the thread remembers which leaf is current, so `getBranch` can walk from that leaf back to the root and say, for each message, how many siblings it has.',
  '```ts\nconst branch = await store.getBranch(threadId);\nfor (const m of branch) console.log(m.role, m.siblings.index + 1, \'/\', m.siblings.count);\n```',
  '### Several tabs',
  'Only one tab owns the database file. The others reach it through a channel, and every committed change is announced to all of them, which is how this reply shows up in a second tab while it is still being written.',
  'When the owning tab closes, another one takes the lead within a moment, and nothing that was committed is lost.',
];

/** Plans the reply to `prompt` with the thread's tools; `turn` varies the wording between turns. */
export function planReply(prompt: string, tools: DynamicToolRecord[], turn: number, objective?: string): PlannedReply {
  const tool = chooseTool(prompt, tools);
  const toolCalls: ToolCall[] = tool
    ? [{ id: `call_${turn}_${tool.position}`, name: tool.name, arguments: argumentsFor(tool.inputSchema, prompt), output: `${2 + (turn % 4)} results for “${excerpt(prompt, 24)}”` }]
    : [];
  const long = /\b(long|story|detail|explain)/i.test(prompt);
  const lines = [
    `**${OPENERS[turn % OPENERS.length]}** You asked: “${excerpt(prompt)}”.`,
    '',
    tool ? `1. I called \`${tool.name}\` — it returned ${toolCalls[0]?.output}.` : '1. No tools are registered for this thread, so I answered from memory.',
    '2. The state of this conversation lives in SQLite inside a Web Worker, on OPFS.',
    objective ? `3. That moves us toward the goal: ${excerpt(objective, 60)}.` : '3. Every branch you create is kept; switch between them with ‹ ›.',
    '',
    ...(long ? DETAILS.flatMap((d) => [d, '']) : []),
    CLOSERS[turn % CLOSERS.length] ?? '',
  ];
  return { toolCalls, text: lines.join('\n') };
}

/** Splits text into the pieces a model would stream: words with their following whitespace. */
export function tokenize(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A rough token count (four characters a token), for the goal's budget. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
