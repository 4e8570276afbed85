/**
 * The hostile-input fuzzer shared by test/unit/fuzz.test.ts (Node) and test/e2e/fuzz.spec.ts
 * (through the worker). `createFuzzer` is deliberately ONE self-contained function, with no imports
 * and no closure over this module: the browser test ships it to the page as source text
 * (`createFuzzer.toString()`), so the same generators run on both sides of the worker.
 */

/** One generated call. `valid` marks the ~30% built from well-formed arguments only. */
export interface FuzzCall {
  method: string;
  args: unknown[];
  valid: boolean;
}

/** How a call ended: its value, or the StoreError code it failed with. */
export type FuzzOutcome = { ok: true; value: unknown } | { ok: false; code: string };

/** What createFuzzer returns. */
export interface Fuzzer {
  /** The next call to make. */
  next(): FuzzCall;
  /** Feeds a call's outcome back, so later valid calls use ids that exist (and hostile ones ids that do not). */
  observe(call: FuzzCall, outcome: FuzzOutcome): void;
  /** Methods of the store that the fuzzer has no valid-argument generator for. */
  unknownMethods: string[];
  /** Message id → content of every appendMessage/forkAtMessage/addMessage that succeeded (content under 64 KiB). */
  written: Map<number, string>;
  /** The unicode edge cases the generators draw from, well-formed ones included, for round-trip checks. */
  edgeStrings: readonly string[];
}

/**
 * A seeded generator of store calls: every method in `methods`, ~30% with valid arguments (so that
 * threads, messages, checkpoints, jobs and tools accumulate) and the rest with hostile ones: wrong
 * types, huge strings, special numbers, unknown enum strings, ids from other threads or deleted,
 * 200-level JSON, unicode edge cases, exotic objects. `side` says whether calls cross postMessage.
 */
export function createFuzzer(seed: number, methods: readonly string[], side: 'node' | 'browser'): Fuzzer {
  let state = seed >>> 0;
  // mulberry32: small, fast, and a run replays exactly from its seed.
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(random() * n);
  const chance = (p: number): boolean => random() < p;
  const pick = <T,>(items: readonly T[]): T => items[int(items.length)]!;

  // --- what exists, so that valid calls hit real records and hostile ones the wrong records ---------
  const threads: string[] = [];
  const deletedThreads: string[] = [];
  const messages = new Map<number, string>();
  const deletedMessages: number[] = [];
  const streaming: number[] = [];
  const checkpoints: string[] = ['cp-0'];
  const jobs: string[] = [];
  const deletedJobs: string[] = [];
  const written = new Map<number, string>();
  let cursor: string | null = null;
  let exported: Uint8Array | null = null;
  let hugeLeft = 12; // each huge string is 1–5 MB; a dozen is enough, more only bloats the file
  let serial = 0;

  // --- hostile values -------------------------------------------------------------------------------
  const UNICODE = [
    '\uD800', '\uDFFF', 'a\uD83D', '\uDE00b', '\u0000', 'nul\u0000inside', '\u200F\u202Eltr', '\u202Dx\u202C',
    '\u{1F469}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}', '\u{1F3F3}\uFE0F\u200D\u{1F308}', '\uFFFF', '\uFFFE', '\uFEFF',
    'e\u0301\u0302\u0303\u0304\u0305', 'Z\u0334\u0321\u0322\u0353', '\u2028\u2029', '\uFDFA', '\u{10FFFF}', ' ', '',
    "'; DROP TABLE threads; --", '"quoted"', '%s%n', '\\', 'NEAR(a b)', '*', 'a OR b', '\r\n',
  ];
  const ENUMS = ['RUNNING', 'done', 'Idle', ' idle', 'idle\u0000', 'archived ', 'complete\u200D', 'unknownish', 'usage-limited', 'streaming', 'interrupted'];
  const NUMBERS = [NaN, Infinity, -Infinity, -0, 2 ** 53 + 1, -(2 ** 53 + 1), 2 ** 53, 1e308, Number.MIN_VALUE, 0.5, -1, 0, 2 ** 31, -(2 ** 31) - 1, 101, -101];

  function unicodeString(): string {
    let s = '';
    for (let i = 1 + int(4); i > 0; i--) s += pick(UNICODE);
    return s;
  }
  function hugeString(): string {
    hugeLeft--;
    const size = (1 + int(5)) * 1024 * 1024;
    const unit = pick(['x', 'ab ', '\u{1F600}', 'e\u0301', 'word\u200D']);
    return unit.repeat(Math.ceil(size / unit.length)).slice(0, size - 1) + pick(['.', '\uD800', '\u0000']);
  }
  function deepJson(levels: number): unknown {
    let value: unknown = 'bottom';
    for (let i = 0; i < levels; i++) value = chance(0.5) ? [value] : { k: value };
    return value;
  }
  function exotic(): unknown {
    switch (int(13)) {
      case 0: return new Date(int(2e12));
      case 1: return new Map([['a', 1]]);
      case 2: return new Set([1, 2]);
      case 3: return /re(g)ex/gi;
      case 4: return new Uint8Array([1, 2, 3]);
      case 5: return new ArrayBuffer(8);
      case 6: return BigInt(2) ** BigInt(70);
      case 7: { const o: Record<string, unknown> = { a: 1 }; o['self'] = o; return o; }
      case 8: { const a: unknown[] = []; a[5] = 'sparse'; return a; }
      case 9: return { toJSON: () => 'sneaky' };
      case 10: return side === 'node' ? () => 1 : { ['@@agent-state-store/uncloneable']: 'a function' };
      case 11: return side === 'node' ? Symbol('s') : new Error('an error object');
      default: return JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": 1}}');
    }
  }
  function otherId(): unknown {
    const pool: unknown[] = [...deletedThreads.slice(-5), ...deletedMessages.slice(-5), ...deletedJobs.slice(-3), ...[...messages.keys()].slice(-5), ...threads.slice(-3)];
    return pool.length > 0 ? pick(pool) : 'never-existed';
  }
  /** Any value of a kind the argument probably does not take. */
  function hostile(): unknown {
    const roll = int(100);
    if (roll < 12) return pick([null, undefined, true, false]);
    if (roll < 24) return pick(NUMBERS);
    if (roll < 32) return chance(0.5) ? int(1000) - 500 : random() * 1e6;
    if (roll < 46) return unicodeString();
    if (roll < 53) return pick(ENUMS);
    if (roll < 63) return otherId();
    if (roll < 71) return pick([{}, [], [1, 'x', null], { a: { b: [] } }, { id: 1, name: {} }, [[[]]]]);
    if (roll < 78) return exotic();
    if (roll < 84) return deepJson(chance(0.7) ? 200 : 120);
    if (roll < 86 && hugeLeft > 0) return hugeString();
    if (roll < 88) return Array.from({ length: 2000 + int(20000) }, (_, i) => (chance(0.5) ? `id-${i}` : i));
    return String(int(100));
  }

  // --- valid values ---------------------------------------------------------------------------------
  const now = (): number => 1_700_000_000 + serial;
  // Valid text: plain, or the unicode edge cases made well-formed (lone surrogates become U+FFFD).
  const text = (): string => (chance(0.25) ? unicodeString().toWellFormed() : `text ${serial} ${int(1e6)}`);
  const wellFormed = text;
  const json = (): unknown => pick<unknown>([{ step: serial, parts: ['a', 1, null, true] }, [1, 2, 3], 'plain', 42, null, { nested: deepJson(5) }, {}]);
  const threadId = (): string => (threads.length > 0 && chance(0.9) ? pick(threads) : `t-${serial}-${int(1000)}`);
  const messageId = (): number => (messages.size > 0 ? pick([...messages.keys()].slice(-200)) : 1 + int(50));
  const streamingId = (): number => (streaming.length > 0 ? pick(streaming) : messageId());
  const jobId = (): string => (jobs.length > 0 && chance(0.7) ? pick(jobs) : `job-${int(30)}`);
  const checkpointId = (): string => (chance(0.8) ? pick(checkpoints) : `cp-${int(8)}`);
  const limit = (): number | undefined => (chance(0.3) ? undefined : 1 + int(200));
  const thread = (): Record<string, unknown> => ({
    id: chance(0.3) && threads.length > 0 ? pick(threads) : `t-${serial}-${int(1000)}`,
    preview: wellFormed(), ephemeral: chance(0.2), modelProvider: 'fuzz', createdAt: now(), updatedAt: now(),
    status: pick(['running', 'idle', 'completed', 'failed', 'paused', 'archived']), cwd: '/', cliVersion: '1.0',
    source: pick(['interactive', 'resume', 'fork', 'api', 'unknown']), name: chance(0.6) ? `name ${wellFormed()}` : null,
    rolloutPath: chance(0.5) ? `/r/${serial}` : null, memoryMode: chance(0.3) ? 'on' : null, archived: chance(0.1),
  });
  const job = (): Record<string, unknown> => ({
    id: jobId(), name: wellFormed(), status: pick(['queued', 'running', 'completed', 'failed', 'cancelled']),
    progress: chance(0.8) ? int(101) : null, detail: chance(0.5) ? wellFormed() : null, createdAt: now(), updatedAt: now(),
  });
  const goal = (): Record<string, unknown> => ({
    threadId: threadId(), goalId: `g-${int(5)}`, objective: wellFormed(), status: pick(['active', 'paused', 'blocked', 'usage_limited', 'budget_limited', 'complete']),
    tokenBudget: chance(0.5) ? int(1e6) : null, tokensUsed: int(1000), timeUsedSeconds: int(1000), continuationCount: int(10), createdAt: now(), updatedAt: now(),
  });
  const graphBytes = (): Uint8Array => new Uint8Array(Array.from({ length: int(64) }, () => int(256)));
  const graphCheckpoint = (): Record<string, unknown> => ({
    threadId: threadId(), namespace: chance(0.7) ? '' : 'sub', checkpointId: checkpointId(), parentCheckpointId: chance(0.5) ? checkpointId() : null,
    type: pick(['json', 'bytes']), checkpoint: graphBytes(), metadata: { source: pick(['input', 'loop', 'update']), step: int(10) - 1, parents: {} },
  });
  const graphWrites = (): Record<string, unknown>[] =>
    Array.from({ length: int(4) }, (_, i) => ({ idx: chance(0.1) ? -1 : i, channel: pick(['messages', 'log', '__error__']), type: 'json', value: graphBytes() }));
  const tools = (): Record<string, unknown>[] =>
    Array.from({ length: int(5) }, (_, i) => ({ position: i, name: `tool-${i}-${int(9)}`, description: chance(0.5) ? wellFormed() : null, inputSchema: json() }));

  /** A message of the store and its thread, or a made-up pair. */
  const messageInThread = (): [string, number] => {
    const id = messageId();
    return [messages.get(id) ?? threadId(), id];
  };

  /** Valid arguments per method: the table every store method must be in. */
  const VALID: Record<string, { weight: number; args: () => unknown[] }> = {
    dbPath: { weight: 1, args: () => [] },
    // the app layer
    createThread: {
      weight: 4,
      args: () =>
        chance(0.2)
          ? []
          : [{ ...(chance(0.5) ? { id: `t-${serial}-${int(1000)}` } : {}), ...(chance(0.5) ? { title: wellFormed() } : {}), ...(chance(0.3) ? { status: 'running' } : {}) }],
    },
    updateThread: {
      weight: 3,
      args: () => [threadId(), pick<Record<string, unknown>>([{ preview: wellFormed() }, { title: wellFormed() }, { status: 'completed', gitBranch: 'main' }, { archived: chance(0.5) }, {}])],
    },
    addMessage: {
      weight: 8,
      args: () => {
        const [tid, parent] = messageInThread();
        const parentId = chance(0.7) ? {} : { parentId: chance(0.2) ? null : parent };
        return [tid, { role: pick(['user', 'assistant', 'tool', 'system']), content: text(), ...(chance(0.3) ? { item: json() } : {}), ...parentId }];
      },
    },
    updateMessage: {
      weight: 3,
      args: () => [messageId(), pick<Record<string, unknown>>([{ content: text() }, { item: json() }, { content: text(), item: json() }, { item: null }, {}, { role: 'user' }])],
    },
    getBranch: { weight: 2, args: () => [threadId(), ...(chance(0.5) ? [{ limit: limit() }] : [])] },
    watchBranch: { weight: 0.5, args: () => [threadId(), () => {}, ...(chance(0.5) ? [{ limit: limit(), onError: () => {} }] : [])] },
    watchThreads: { weight: 0.5, args: () => [chance(0.5) ? undefined : { limit: limit(), includeArchived: chance(0.5) }, () => {}] },
    upsertThread: { weight: 8, args: () => [thread()] },
    getThread: { weight: 3, args: () => [threadId()] },
    listThreads: { weight: 2, args: () => (chance(0.3) ? [] : [{ includeArchived: chance(0.5), limit: limit() }]) },
    listThreadsPage: { weight: 2, args: () => [{ limit: limit(), includeArchived: chance(0.5), cursor: chance(0.5) ? cursor : null, ...(chance(0.3) ? { search: wellFormed() } : {}) }] },
    markArchived: { weight: 2, args: () => [threadId()] },
    markUnarchived: { weight: 2, args: () => [threadId()] },
    deleteThread: { weight: 1, args: () => [threadId()] },
    setThreadMemoryMode: { weight: 2, args: () => [threadId(), chance(0.7) ? wellFormed() : null] },
    getThreadMemoryMode: { weight: 1, args: () => [threadId()] },
    upsertThreadGoal: { weight: 3, args: () => [goal()] },
    recordThreadGoalUsage: { weight: 2, args: () => [threadId(), int(500), int(60), now()] },
    recordThreadGoalContinuation: { weight: 2, args: () => [threadId(), now()] },
    getThreadGoal: { weight: 1, args: () => [threadId()] },
    deleteThreadGoal: { weight: 1, args: () => [threadId()] },
    listLeafMessages: { weight: 2, args: () => [threadId()] },
    listThreadMessages: { weight: 2, args: () => [threadId(), limit()] },
    setCurrentLeafId: { weight: 3, args: () => { const id = messageId(); return [messages.get(id) ?? threadId(), id]; } },
    switchBranch: { weight: 3, args: () => { const id = messageId(); return [messages.get(id) ?? threadId(), id, ...(chance(0.3) ? [{ limit: limit() }] : [])]; } },
    persistDynamicTools: { weight: 3, args: () => [threadId(), tools()] },
    getDynamicTools: { weight: 1, args: () => [threadId()] },
    appendMessage: { weight: 12, args: () => [threadId(), pick(['user', 'assistant', 'tool', 'system']), text(), ...(chance(0.4) ? [json()] : [])] },
    listMessages: { weight: 2, args: () => [threadId(), limit()] },
    forkAtMessage: { weight: 6, args: () => [messageId(), pick(['user', 'assistant']), text(), ...(chance(0.3) ? [json()] : [])] },
    clearMessages: { weight: 1, args: () => [threadId()] },
    listMessagesPage: { weight: 2, args: () => [threadId(), { limit: limit(), before: chance(0.5) ? messageId() : null }] },
    beginMessage: { weight: 3, args: () => [threadId(), 'assistant', ...(chance(0.3) ? [json()] : [])] },
    appendMessageDelta: { weight: 4, args: () => [streamingId(), text()] },
    finishMessage: { weight: 3, args: () => [streamingId(), chance(0.5) ? { status: pick(['complete', 'failed', 'cancelled']), item: json() } : undefined] },
    getMessageStatus: { weight: 1, args: () => [messageId()] },
    recoverInterruptedMessages: { weight: 0.5, args: () => [] },
    searchMessages: { weight: 2, args: () => [pick(['text', 'fuzz', wellFormed(), 'ab', '"a" OR b']), { limit: limit(), includeArchived: chance(0.5), advanced: chance(0.2), ...(chance(0.3) ? { threadId: threadId() } : {}) }] },
    saveCheckpoint: { weight: 5, args: () => [threadId(), checkpointId(), json()] },
    loadCheckpoint: { weight: 2, args: () => [threadId(), ...(chance(0.5) ? [checkpointId()] : [])] },
    listCheckpoints: { weight: 1, args: () => [threadId(), limit()] },
    deleteCheckpoint: { weight: 1, args: () => [threadId(), checkpointId()] },
    putGraphCheckpoint: { weight: 3, args: () => [graphCheckpoint()] },
    getGraphCheckpoint: { weight: 1, args: () => [{ threadId: threadId(), ...(chance(0.5) ? { checkpointId: checkpointId() } : {}) }] },
    listGraphCheckpoints: { weight: 1, args: () => (chance(0.2) ? [] : [{ threadId: threadId(), limit: limit(), ...(chance(0.5) ? { filter: { source: pick(['input', 'loop']) } } : {}) }]) },
    putGraphWrites: { weight: 2, args: () => [{ threadId: threadId(), checkpointId: checkpointId(), taskId: `task-${int(5)}` }, graphWrites()] },
    deleteGraphThread: { weight: 0.5, args: () => [threadId()] },
    pruneGraphCheckpoints: { weight: 0.5, args: () => [{ threadId: threadId(), keepLatest: limit(), ...(chance(0.3) ? { namespace: pick(['', 'sub']) } : {}) }] },
    graphStoreBatch: {
      weight: 2,
      args: () => {
        const namespace = () => pick<unknown>([['users', 'u1'], ['users', 'u2', 'prefs'], ['memories'], [], ['a.b'], [wellFormed()]]);
        return [
          Array.from({ length: 1 + int(4) }, () =>
            pick<unknown>([
              { op: 'put', namespace: namespace(), key: pick(['k1', 'k2', wellFormed()]), value: chance(0.2) ? null : json() },
              { op: 'get', namespace: namespace(), key: pick(['k1', 'k2']) },
              { op: 'search', prefix: namespace() },
              { op: 'namespaces' },
              { op: 'drop' },
            ]),
          ),
        ];
      },
    },
    upsertJob: { weight: 5, args: () => [job()] },
    getJob: { weight: 1, args: () => [jobId()] },
    listJobs: { weight: 1, args: () => [limit()] },
    deleteJob: { weight: 1, args: () => [jobId()] },
    findRolloutPathById: { weight: 1, args: () => [threadId()] },
    appendThreadName: { weight: 2, args: () => [threadId(), chance(0.8) ? wellFormed() : null, now(), chance(0.5) ? `/r/${serial}` : null] },
    findThreadNameById: { weight: 1, args: () => [threadId()] },
    findThreadNamesByIds: { weight: 1, args: () => [Array.from({ length: int(6) }, threadId)] },
    findThreadPathByName: { weight: 1, args: () => [chance(0.5) ? `name ${wellFormed()}` : wellFormed()] },
    compactSessionIndex: { weight: 0.3, args: () => [] },
    exportDatabase: { weight: 0.1, args: () => [] },
    exportSessionIndex: { weight: 0.3, args: () => [] },
    importDatabase: { weight: 0.3, args: () => [exported ?? new Uint8Array(0)] },
    integrityCheck: { weight: 0.2, args: () => [] },
    pruneThreads: { weight: 0.3, args: () => [{ keepLatest: 20 + int(20), archivedOnly: chance(0.5) }] },
    vacuum: { weight: 0.1, args: () => [{ availableBytes: chance(0.5) ? 1e12 : 10 }] },
    // Sync (node only: the fuzz test maps these onto the store's SyncDevice and SyncServer). Both ends
    // on one store, with half-valid frames: the point is that nothing but a StoreError comes out and
    // the data stays sound.
    enableSync: { weight: 0.2, args: () => [] },
    syncWelcome: { weight: 0.3, args: () => [chance(0.5) ? { type: 'welcome', site: 1 + int(5), lastPush: int(5), cursor: int(50), limits: { maxChanges: 10, maxChangeBytes: 1e5, maxFrameBytes: 1e6 }, epoch: chance(0.8) ? 'epoch-1' : hostile(), resync: pick([null, 'epoch', 'floor', 'rollback', 'nope']), ...(chance(0.3) ? { nextId: int(1e6) } : {}) } : hostile()] },
    nextPush: { weight: 0.5, args: () => [chance(0.8) ? { maxChanges: 1 + int(20), maxChangeBytes: 1e5, maxFrameBytes: 1e6 } : hostile()] },
    acknowledgePush: { weight: 0.5, args: () => [chance(0.8) ? { type: 'ack', push: int(10), applied: 0, skipped: 0, rejected: chance(0.7) ? [] : [{ table: pick(['threads', 'messages', 'nope']), key: [threadId()], code: 'CONFLICT', message: 'x' }], cursor: int(50) } : hostile()] },
    refusePush: { weight: 0.2, args: () => [int(10), chance(0.8) ? { code: 'INVALID_ARGUMENT', message: 'too big' } : hostile()] },
    nextPull: { weight: 0.2, args: () => [chance(0.8) ? 1 + int(50) : hostile()] },
    applyPulled: { weight: 0.5, args: () => [chance(0.7) ? [{ seq: int(100), table: pick(['threads', 'messages', 'jobs', 'session_index', 'nope']), key: [chance(0.5) ? threadId() : messageId()], row: chance(0.3) ? null : hostile(), ...(chance(0.2) ? { gone: true } : {}), ...(chance(0.2) ? { lost: true } : {}) }] : hostile(), chance(0.8) ? int(100) : hostile(), chance(0.8) ? chance(0.5) : hostile()] },
    syncStatus: { weight: 0.3, args: () => [] },
    serveHello: { weight: 0.3, args: () => [chance(0.6) ? { type: 'hello', protocol: 2, schema: chance(0.8) ? 11 : int(20), device: `device-${int(4)}-fuzz`, secret: chance(0.5) ? 'a-secret-of-sixteen-characters' : wellFormed(), site: chance(0.5) ? 1 + int(3) : 2 ** 20 + int(100), siteUsed: chance(0.5), preSync: chance(0.3), push: int(10), epoch: chance(0.5) ? null : wellFormed(), cursor: int(50) } : hostile()] },
    servePush: { weight: 0.5, args: () => [`device-${int(4)}-fuzz`, chance(0.8) ? { push: chance(0.8) ? 1 + int(20) : hostile(), seen: chance(0.8) ? int(50) : hostile(), changes: chance(0.7) ? [{ table: pick(['threads', 'messages', 'jobs', 'thread_goals', 'session_index', 'nope']), key: [chance(0.5) ? threadId() : messageId()], row: chance(0.3) ? null : hostile(), ...(chance(0.4) ? { cols: chance(0.5) ? ['title'] : hostile() } : {}) }] : hostile() } : hostile()] },
    servePull: { weight: 0.3, args: () => [`device-${int(4)}-fuzz`, chance(0.8) ? { cursor: chance(0.8) ? int(100) : hostile(), limit: chance(0.8) ? 1 + int(50) : hostile(), ...(chance(0.2) ? { resync: chance(0.7) ? { since: int(50), rollbackFrom: int(5) } : hostile() } : {}) } : hostile()] },
    syncCursor: { weight: 0.2, args: () => [] },
    logOwnWrites: { weight: 0.2, args: () => [] },
    // The port the layers above the core use: handing it out changes nothing.
    layer: { weight: 0.1, args: () => [] },
    // Node's MemoryStore extras and the browser client's own methods.
    exportBytes: { weight: 0.1, args: () => [] },
    sessionIndexText: { weight: 0.3, args: () => [] },
    info: { weight: 1, args: () => [] },
    requestPersistence: { weight: 0.3, args: () => [] },
    subscribe: { weight: 0.5, args: () => [() => {}] },
  };

  const known = methods.filter((m) => VALID[m]);
  const totalWeight = known.reduce((sum, m) => sum + VALID[m]!.weight, 0);
  function chooseMethod(): string {
    // One call in ten picks uniformly, so that a method of low weight is still hit often.
    if (chance(0.1)) return pick(methods);
    let at = random() * totalWeight;
    for (const m of known) {
      at -= VALID[m]!.weight;
      if (at <= 0) return m;
    }
    return known[known.length - 1] ?? pick(methods);
  }

  /** Spoils a valid argument list: one argument, one field of an object argument, the arity, or all of it. */
  function spoil(args: unknown[]): unknown[] {
    const out = [...args];
    const how = int(10);
    if (how < 4 || out.length === 0) {
      if (out.length === 0 || chance(0.2)) out.push(hostile());
      else out[int(out.length)] = hostile();
    } else if (how < 7) {
      const objectAt = out.findIndex((a) => typeof a === 'object' && a !== null);
      const target = objectAt >= 0 ? out[objectAt] : null;
      if (Array.isArray(target) && target.length > 0 && typeof target[0] === 'object') {
        const copy = target.map((t) => ({ ...(t as object) })) as Record<string, unknown>[];
        const victim = pick(copy);
        const keys = Object.keys(victim);
        victim[keys.length > 0 && chance(0.85) ? pick(keys) : 'extra'] = hostile();
        out[objectAt] = copy;
      } else if (target && !Array.isArray(target) && !(target instanceof Uint8Array)) {
        const copy = { ...(target as Record<string, unknown>) };
        const keys = Object.keys(copy);
        if (keys.length > 0 && chance(0.15)) delete copy[pick(keys)];
        else copy[keys.length > 0 && chance(0.85) ? pick(keys) : pick(['extra', '__proto__', ''])] = hostile();
        out[objectAt] = copy;
      } else {
        out[int(out.length)] = hostile();
      }
    } else if (how < 8) {
      out.length = int(out.length);
    } else if (how < 9) {
      for (let i = 1 + int(3); i > 0; i--) out.push(hostile());
    } else {
      return Array.from({ length: int(5) }, hostile);
    }
    return out;
  }

  function forgetThread(id: string): void {
    const at = threads.indexOf(id);
    if (at >= 0) threads.splice(at, 1);
    deletedThreads.push(id);
    for (const [mid, tid] of [...messages]) {
      if (tid !== id) continue;
      messages.delete(mid);
      deletedMessages.push(mid);
    }
  }

  return {
    unknownMethods: methods.filter((m) => !VALID[m]),
    written,
    edgeStrings: UNICODE,
    next(): FuzzCall {
      serial++;
      const method = chooseMethod();
      const args = VALID[method]?.args() ?? [];
      const valid = VALID[method] !== undefined && chance(0.3);
      return { method, args: valid ? args : spoil(args), valid };
    },
    observe(call: FuzzCall, outcome: FuzzOutcome): void {
      if (!outcome.ok) return;
      const [a0, a1, a2] = call.args;
      const value = outcome.value;
      switch (call.method) {
        case 'upsertThread': {
          const id = (a0 as { id?: unknown }).id;
          if (typeof id === 'string' && !threads.includes(id)) threads.push(id);
          break;
        }
        case 'createThread': {
          const id = (value as { id?: unknown }).id;
          if (typeof id === 'string' && !threads.includes(id)) threads.push(id);
          break;
        }
        case 'addMessage': {
          const m = value as { id?: unknown; threadId?: unknown; content?: unknown };
          if (typeof m.id === 'number' && typeof m.threadId === 'string') messages.set(m.id, m.threadId);
          if (typeof m.id === 'number' && typeof m.content === 'string' && m.content.length < 65536) written.set(m.id, m.content);
          break;
        }
        case 'updateMessage': {
          const m = value as { id?: unknown; content?: unknown };
          if (typeof m.id === 'number') {
            if (typeof m.content === 'string' && m.content.length < 65536) written.set(m.id, m.content);
            else written.delete(m.id);
          }
          break;
        }
        case 'deleteThread':
          if (typeof a0 === 'string') forgetThread(a0);
          break;
        case 'appendMessage':
        case 'forkAtMessage':
        case 'beginMessage':
          if (typeof value === 'number') {
            const tid = call.method === 'forkAtMessage' ? messages.get(a0 as number) : (a0 as string);
            if (tid !== undefined) messages.set(value, tid);
            if (call.method === 'beginMessage') streaming.push(value);
            else if (typeof a2 === 'string' && a2.length < 65536) written.set(value, a2);
          }
          break;
        case 'finishMessage': {
          const at = streaming.indexOf(a0 as number);
          if (at >= 0) streaming.splice(at, 1);
          break;
        }
        case 'clearMessages':
          for (const [mid, tid] of [...messages]) if (tid === a0) { messages.delete(mid); deletedMessages.push(mid); }
          break;
        case 'pruneThreads':
          for (const id of (value as { deletedThreadIds?: string[] }).deletedThreadIds ?? []) forgetThread(id);
          break;
        case 'saveCheckpoint':
          if (typeof a1 === 'string' && !checkpoints.includes(a1) && checkpoints.length < 20) checkpoints.push(a1);
          break;
        case 'upsertJob': {
          const id = (a0 as { id?: unknown }).id;
          if (typeof id === 'string' && !jobs.includes(id)) jobs.push(id);
          break;
        }
        case 'deleteJob':
          if (typeof a0 === 'string' && jobs.includes(a0)) { jobs.splice(jobs.indexOf(a0), 1); deletedJobs.push(a0); }
          break;
        case 'listThreadsPage':
          cursor = (value as { nextCursor?: string | null }).nextCursor ?? cursor;
          break;
        case 'exportDatabase':
        case 'exportBytes':
          if (value instanceof Uint8Array && value.byteLength < 8 * 1024 * 1024) exported = value;
          break;
        case 'importDatabase':
          // Everything is replaced: the pools no longer describe the store.
          threads.length = 0;
          messages.clear();
          streaming.length = 0;
          written.clear();
          break;
        case 'subscribe':
        case 'watchBranch':
        case 'watchThreads':
          // Live queries left running would re-query on every later write.
          if (typeof value === 'function') (value as () => void)();
          break;
      }
      void a1;
    },
  };
}

/** Every StoreError code; anything else is a bug. */
export { STORE_ERROR_CODES } from '../../src/core/errors.js';

/** A short printable description of a call, for failure messages (huge strings and deep values cut). */
export function describeCall(call: FuzzCall): string {
  const seen = new WeakSet<object>();
  const text = JSON.stringify(call.args, (_key, value: unknown) => {
    if (typeof value === 'string') return value.length > 60 ? `${value.slice(0, 40)}…(${value.length} chars)` : value;
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    if (typeof value === 'bigint') return `${value}n`;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `${value.constructor.name}(${value.byteLength})`;
    if (typeof value === 'function' || typeof value === 'symbol' || value === undefined) return String(value);
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[cycle]';
      seen.add(value);
    }
    return value;
  });
  return `${call.method}(${(text ?? '').slice(1, -1).slice(0, 300)})`;
}
