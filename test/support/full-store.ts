/**
 * A store with data in every table, and a canonical dump of a database to compare two copies by.
 * Shared by the Node copy tests, the workerd tests and the browser round trip; it uses only the public
 * API (sync or async) and plain SQL, so it runs on every host.
 */

/** Any store whose methods return values or promises of them: StateStore, the edge client, the browser client. */
type AnyStore = Record<string, (...args: never[]) => unknown>;

const thread = (id: string, over: Record<string, unknown> = {}) => ({
  id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'openai', createdAt: 100, updatedAt: 100, status: 'idle', cwd: '/work', cliVersion: '1.2.3', source: 'api', ...over,
});

/** The thread ids `fillEveryTable` writes. */
export const FULL_STORE_THREADS = ['alpha', 'beta', 'gamma', 'empty'] as const;

/** A word only one message holds, for checking that search works after a copy. */
export const SEARCH_WORD = 'zanzibar';

/**
 * Writes threads (archived, unnamed, empty), a branching message tree, a streamed message, checkpoints,
 * jobs, dynamic tools, a goal, LangGraph checkpoints and writes, and a deleted thread (so that an
 * AUTOINCREMENT counter is above the largest id). Every store table gets rows.
 */
export async function fillEveryTable(given: object): Promise<void> {
  const store = given as AnyStore;
  const call = async (method: string, ...args: unknown[]): Promise<unknown> => {
    const fn = store[method];
    if (typeof fn !== 'function') throw new Error(`the store has no ${method}`);
    return await (fn as (...a: unknown[]) => unknown).apply(store, args);
  };
  await call('upsertThread', thread('alpha', { rolloutPath: '/rollouts/alpha.jsonl', name: 'Alpha project', gitSha: 'abc123', status: 'running', updatedAt: 300 }));
  await call('upsertThread', thread('beta', { name: 'Beta', ephemeral: true, updatedAt: 200, modelProvider: 'anthropic' }));
  await call('upsertThread', thread('gamma', { updatedAt: 250, source: 'resume' }));
  await call('upsertThread', thread('empty', { updatedAt: 50, status: 'paused', name: 'Nothing here' }));

  const a1 = (await call('appendMessage', 'alpha', 'user', 'Plan the release', { type: 'message', role: 'user' })) as number;
  const a2 = (await call('appendMessage', 'alpha', 'assistant', `Here is a plan for ${SEARCH_WORD}`, { type: 'message', content: [{ text: 'plan' }] })) as number;
  await call('appendMessage', 'alpha', 'user', 'Ship it on Friday');
  await call('forkAtMessage', a2, 'user', 'Ship it on Monday instead', { edited: true });
  await call('setCurrentLeafId', 'alpha', a1 + 2);
  await call('appendMessage', 'beta', 'user', 'été ☀️ 漢字 😀 — unicode survives');
  await call('appendMessage', 'beta', 'tool', 'tool output', { type: 'function_call_output', call_id: 'c1' });
  await call('appendMessage', 'gamma', 'user', 'An untitled thread gets named by its first user message');
  const streamed = (await call('beginMessage', 'gamma', 'assistant', { type: 'message' })) as number;
  await call('appendMessageDelta', streamed, 'half a stream');
  await call('upsertThread', thread('gone'));
  await call('appendMessage', 'gone', 'user', 'deleted with its thread');
  await call('deleteThread', 'gone');

  await call('saveCheckpoint', 'alpha', 'cp-1', { step: 1 });
  await call('saveCheckpoint', 'alpha', 'cp-2', { step: 2, plan: ['a', 'b'], done: false });
  await call('saveCheckpoint', 'beta', 'only', [1, 2, 3]);
  await call('upsertJob', { id: 'job-1', name: 'index', status: 'queued', progress: null, detail: null, createdAt: 10, updatedAt: 10 });
  await call('upsertJob', { id: 'job-2', name: 'embed', status: 'running', progress: 40, detail: 'halfway', createdAt: 11, updatedAt: 12 });
  await call('persistDynamicTools', 'alpha', [
    { position: 0, name: 'search', description: 'Web search', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } },
    { position: 1, name: 'calc', description: null, inputSchema: { type: 'object' } },
  ]);
  await call('upsertThreadGoal', { threadId: 'alpha', goalId: 'g-1', objective: 'Ship the port', status: 'active', tokenBudget: 5000, tokensUsed: 10, timeUsedSeconds: 5, continuationCount: 0, createdAt: 100, updatedAt: 101 });
  await call('setThreadMemoryMode', 'beta', 'enabled');
  await call('markArchived', 'beta');
  for (const threadId of ['alpha', 'beta']) {
    await call('putGraphCheckpoint', { threadId, checkpointId: 'c1', type: 'bytes', checkpoint: new Uint8Array([0, 255, 7]), metadata: { source: 'loop', step: 1 } });
    await call('putGraphWrites', { threadId, checkpointId: 'c1', taskId: 'task' }, [{ idx: 0, channel: 'messages', type: 'json', value: new Uint8Array([1]) }]);
  }
  // A checkpoint whose channel values are stored by version (graph_channel_values, graph_checkpoint_versions).
  await call('putGraphCheckpoint', {
    threadId: 'alpha',
    checkpointId: 'c2',
    parentCheckpointId: 'c1',
    type: 'json',
    checkpoint: new Uint8Array([123, 125]),
    metadata: { source: 'loop', step: 2 },
    channelVersions: { messages: '"2"' },
    channelValues: [{ channel: 'messages', version: '"2"', type: 'json', value: new Uint8Array([91, 93]) }],
  });
  // LangGraph's long-term memory (graph_store_items).
  await call('graphStoreBatch', [{ op: 'put', namespace: ['user-1', 'memories'], key: 'diet', value: { text: 'vegetarian' } }]);
}

/** Runs a query and returns its rows: a SqlDriver's `all`, or any engine's equivalent. */
export type Query = (sql: string) => Array<Record<string, unknown>> | Promise<Array<Record<string, unknown>>>;

const SHADOW = /_(data|idx|content|docsize|config)$/;

function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array) return `x'${[...value].map((b) => b.toString(16).padStart(2, '0')).join('')}'`;
  if (value instanceof ArrayBuffer) return canonical(new Uint8Array(value));
  if (typeof value === 'bigint') return `${value}n`;
  return value;
}

/**
 * Every row of every table (FTS shadow tables excluded: their layout depends on how the index was
 * built, not on what it holds; the request log excluded: an import never carries it; sqlite_sequence
 * included), each row as sorted-key JSON, rows sorted, plus
 * the schema objects' SQL. Two databases with the same records give the same dump.
 */
export async function canonicalDump(query: Query): Promise<Record<string, string[]>> {
  // The platform's own tables (a Durable Object's `_cf_…`, miniflare's `__miniflare_…`) are not the store's.
  const objects = (await query("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_miniflare\\_%' ESCAPE '\\' ORDER BY type, name")).map((r) => ({
    type: String(r['type']),
    name: String(r['name']),
    sql: r['sql'] === null ? null : String(r['sql']),
  }));
  const virtual = objects.filter((o) => o.type === 'table' && /CREATE VIRTUAL/i.test(o.sql ?? '')).map((o) => o.name);
  const isShadow = (name: string) => virtual.some((v) => name.startsWith(`${v}_`) && SHADOW.test(name));
  const out: Record<string, string[]> = { '(schema)': objects.filter((o) => !isShadow(o.name) && o.sql !== null).map((o) => `${o.type} ${o.name}: ${o.sql}`) };
  for (const o of objects) {
    if (o.type !== 'table' || isShadow(o.name) || virtual.includes(o.name)) continue;
    // The request log is the store's own record of its callers' writes, not data a copy carries.
    if (o.name === 'applied_requests') continue;
    const rows = await query(`SELECT * FROM "${o.name.replaceAll('"', '""')}"`);
    out[o.name] = rows
      .map((row) => JSON.stringify(Object.fromEntries(Object.keys(row).sort().map((k) => [k, canonical(row[k])]))))
      .sort();
  }
  return out;
}
