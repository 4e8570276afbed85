import { expect, it } from 'vitest';
import { OPERATIONS, StoreError, createMemoryStore } from '../../src/core.js';
import { SyncDevice } from '../../src/sync/device.js';
import type { Ack, SyncLimits } from '../../src/sync/protocol.js';
import { SyncServer } from '../../src/sync/server.js';
import { STORE_ERROR_CODES, createFuzzer, describeCall, type FuzzOutcome } from '../fuzz/hostile.js';
import { invariantProblems, rows, storedContent, withImage } from '../fuzz/invariants.js';

/**
 * 10,000 random calls with hostile arguments against the in-memory store: each must succeed or throw
 * a StoreError with one of its codes, and afterwards the file must be whole and the message trees
 * sound. The seed is printed; replay a run with FUZZ_SEED=<seed> npx vitest run test/unit/fuzz.test.ts
 */

const SEED = process.env['FUZZ_SEED'] === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(process.env['FUZZ_SEED']) >>> 0;
const CALLS = 10_000;

it('10,000 hostile calls each succeed or throw a StoreError with a known code, and leave a sound database', async () => {
  console.log(`fuzz (node) seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
  const memory = await createMemoryStore();
  // Sync's two ends on the same store, under the names the fuzzer's generators use.
  const device = SyncDevice.attach(memory);
  const server = SyncServer.attach(memory);
  const sync = {
    enableSync: () => device.enable(),
    syncWelcome: (w: never) => device.welcome(w),
    nextPush: (l: SyncLimits) => device.nextPush(l),
    acknowledgePush: (ack: Ack) => device.acknowledge(ack),
    refusePush: (push: number, error: never) => device.refusePush(push, error),
    nextPull: (limit?: number) => device.nextPull(limit),
    applyPulled: (changes: never, cursor: number, more: boolean) => device.applyPulled(changes, cursor, more),
    syncStatus: () => device.status(),
    serveHello: (hello: unknown) => server.hello(hello),
    servePush: (id: string, frame: unknown) => server.push(id, frame),
    servePull: (id: string, frame: unknown) => server.pull(id, frame),
    syncCursor: () => server.cursor(),
    logOwnWrites: () => server.logOwnWrites(),
  };
  const store = Object.assign(memory, sync);
  const methods = [
    ...Object.keys(OPERATIONS).filter((m) => m !== 'close'),
    ...Object.keys(sync),
    'exportBytes',
    'sessionIndexText',
  ];
  const fuzzer = createFuzzer(SEED, methods, 'node');
  expect(fuzzer.unknownMethods, 'store methods the fuzzer has no generator for').toEqual([]);

  const histogram: Record<string, number> = {};
  const perMethod = new Map<string, number>();
  const raw: string[] = [];
  const storage: string[] = [];
  const started = Date.now();
  for (let i = 0; i < CALLS; i++) {
    const call = fuzzer.next();
    perMethod.set(call.method, (perMethod.get(call.method) ?? 0) + 1);
    let outcome: FuzzOutcome;
    try {
      const fn = (store as unknown as Record<string, (...args: unknown[]) => unknown>)[call.method]!;
      outcome = { ok: true, value: fn.apply(store, call.args) };
    } catch (error) {
      if (!(error instanceof StoreError) || !STORE_ERROR_CODES.includes(error.code)) {
        raw.push(`#${i} ${describeCall(call)} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
        outcome = { ok: false, code: 'RAW' };
      } else {
        outcome = { ok: false, code: error.code };
        // A JavaScript TypeError behind a STORAGE code is a raw error in disguise: the input reached code that never checked it.
        if (error.cause instanceof TypeError || error.cause instanceof RangeError) raw.push(`#${i} ${describeCall(call)} failed inside the store: ${error.message}`);
        else if (error.code === 'STORAGE' && storage.length < 10) storage.push(`#${i} ${describeCall(call)}: ${error.message}`);
      }
    }
    const key = outcome.ok ? 'ok' : outcome.code;
    histogram[key] = (histogram[key] ?? 0) + 1;
    fuzzer.observe(call, outcome);
  }
  console.log(`fuzz (node) seed ${SEED}: ${CALLS} calls in ${Date.now() - started} ms; outcomes ${JSON.stringify(histogram)}`);
  if (storage.length > 0) console.log(`STORAGE samples:\n  ${storage.join('\n  ')}`);

  expect(raw, `seed ${SEED}: calls that threw something other than a StoreError with a known code`).toEqual([]);
  // The run must have built state and hit the validators, or it proved nothing.
  expect(histogram['ok'] ?? 0, `seed ${SEED}: successful calls`).toBeGreaterThan(CALLS / 10);
  expect(histogram['INVALID_ARGUMENT'] ?? 0, `seed ${SEED}: INVALID_ARGUMENT`).toBeGreaterThan(CALLS / 4);
  expect(methods.filter((m) => !perMethod.has(m)), `seed ${SEED}: methods never called`).toEqual([]);

  expect(store.integrityCheck(), `seed ${SEED}`).toEqual({ ok: true, problems: [] });
  await withImage(store.exportBytes(), (db) => {
    expect(invariantProblems(db), `seed ${SEED}`).toEqual([]);
    const counts = rows(db, 'SELECT (SELECT count(*) FROM threads) AS threads, (SELECT count(*) FROM messages) AS messages');
    console.log(`fuzz (node) seed ${SEED}: the store ends with ${JSON.stringify(counts[0])}`);
    // Every message a call wrote that is still there reads back exactly as it was written.
    const changed = [...fuzzer.written].filter(([id, content]) => {
      const found = storedContent(db, id);
      return found !== undefined && found !== content;
    });
    expect(changed.map(([id]) => id), `seed ${SEED}: messages whose content changed`).toEqual([]);
  });
  store.close();
});

it('every well-formed unicode edge case the fuzzer uses reads back unchanged as a thread id, a name and message content', async () => {
  const store = await createMemoryStore();
  const edges = createFuzzer(1, [], 'node').edgeStrings.filter((s) => s.length > 0 && s.isWellFormed());
  const changed: string[] = [];
  const show = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  for (const [i, edge] of edges.entries()) {
    const id = `${edge}${i}`;
    store.upsertThread({ id, preview: edge, ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: edge });
    const messageId = store.appendMessage(id, 'user', edge, { edge });
    const thread = store.getThread(id);
    const message = store.listMessages(id).find((m) => m.id === messageId);
    if (thread?.id !== id) changed.push(`thread id ${show(id)} read back as ${show(thread?.id ?? '(none)')}`);
    if (thread?.preview !== edge) changed.push(`preview ${show(edge)} read back as ${show(thread?.preview ?? '(none)')}`);
    if (store.findThreadNameById(id) !== edge) changed.push(`session-index name ${show(edge)} read back as ${show(store.findThreadNameById(id) ?? '(none)')}`);
    if (message?.content !== edge) changed.push(`content ${show(edge)} read back as ${show(message?.content ?? '(none)')}`);
    if ((message?.item as { edge?: string } | null)?.edge !== edge) changed.push(`item ${show(edge)} read back changed`);
  }
  expect(changed).toEqual([]);
  store.close();
});

// Found by the fuzzer; kept as fixed cases so that they fail on every run until fixed, not only on the seeds that hit them.
it('importDatabase with null options is refused as INVALID_ARGUMENT, not a TypeError reported as STORAGE', async () => {
  const store = await createMemoryStore();
  let caught: unknown;
  try {
    store.importDatabase(store.exportBytes(), null as never);
  } catch (error) {
    caught = error;
  }
  // Either outcome is fine (null may mean "no options"); a JavaScript TypeError from inside the store is not.
  if (caught !== undefined) {
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).cause, (caught as Error).message).not.toBeInstanceOf(TypeError);
    expect((caught as StoreError).code).toBe('INVALID_ARGUMENT');
  }
  store.close();
});

it('a NUL character in a search query is not an engine failure (STORAGE)', async () => {
  const store = await createMemoryStore();
  store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'm', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
  store.appendMessage('t', 'user', 'quoted text');
  const codes = ['quo\u0000ted', 'text\u0000', '"quoted"\u0000'].map((query) => {
    try {
      store.searchMessages(query);
      return 'ok';
    } catch (error) {
      return error instanceof StoreError ? error.code : 'RAW';
    }
  });
  expect(codes.filter((c) => c !== 'ok' && c !== 'INVALID_ARGUMENT')).toEqual([]);
  store.close();
});
