import { describe, expect, it } from 'vitest';
import type { StateStoreClient } from '../../src/index.js';
import { createMemoryStore, OPERATIONS, StateStore } from '../../src/core.js';
import { describeChange } from '../../src/core/changes.js';
import { carriesRequestId, isServed, SERVED_METHODS } from '../../src/core/operations.js';
import { thread } from '../contract/cases/fixtures.js';

// SeedStore's protected helpers, which the typecheck hides from callers but JavaScript does not.
const PROTECTED = new Set(['constructor', 'op', 'write', 'now']);

/** Every public method on StateStore's prototype chain (SeedStore's included). */
function publicMethods(): string[] {
  const names = new Set<string>();
  for (let proto = StateStore.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (!PROTECTED.has(name) && typeof (proto as unknown as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names].sort();
}

// Type-level guards: these lines fail `npm run typecheck` if an internal method reaches the page.
type ClientHas<K extends string> = K extends keyof StateStoreClient ? true : false;
const internalHidden: ClientHas<'recoverInterruptedMessages'> = false;
const writeServed: ClientHas<'appendMessage'> = true;
// An export goes straight into a Blob (TS2322 on Uint8Array<ArrayBufferLike> if the type regresses).
export async function exportAsBlob(client: StateStoreClient, store: StateStore): Promise<Blob[]> {
  return [new Blob([await client.exportDatabase()]), new Blob([store.exportDatabase()])];
}

describe('the operation table', () => {
  it('classifies exactly the public methods of StateStore', () => {
    // The typecheck already refuses a missing entry; this also catches a method added in plain JS.
    expect(Object.keys(OPERATIONS).sort()).toEqual(publicMethods());
    expect([internalHidden, writeServed]).toEqual([false, true]);
  });

  it('serves no internal method to a page', () => {
    for (const name of ['recoverInterruptedMessages', 'close', 'info']) {
      expect(isServed(name)).toBe(false);
      expect(SERVED_METHODS).not.toContain(name);
    }
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 42, null]) expect(isServed(name)).toBe(false);
    expect(isServed('appendMessage')).toBe(true);
  });

  it('gives request ids to writes and to an import, never to reads or exports', () => {
    const withIds = SERVED_METHODS.filter(carriesRequestId);
    expect(withIds).toContain('appendMessage');
    expect(withIds).toContain('importDatabase');
    expect(withIds).toContain('pruneThreads');
    for (const read of ['getThread', 'listMessages', 'searchMessages', 'exportDatabase', 'exportSessionIndex', 'integrityCheck', 'dbPath'] as const) {
      expect(carriesRequestId(read)).toBe(false);
    }
    // Deltas are coalesced by the host, not logged one row per token.
    expect(carriesRequestId('appendMessageDelta')).toBe(false);
  });

  it('describes each change from the arguments, the result, and lookups inside the transaction', async () => {
    const store = await createMemoryStore();
    const db = (store as unknown as { db: Parameters<typeof describeChange>[0] }).db;
    store.upsertThread(thread('t1'));
    const root = store.appendMessage('t1', 'user', 'hi');
    const fork = store.forkAtMessage(root, 'user', 'hello');
    expect(describeChange(db, 'forkAtMessage', [root, 'user', 'hello'], fork)).toEqual({ kind: 'message', method: 'forkAtMessage', threadId: 't1', id: fork });
    expect(describeChange(db, 'upsertThread', [thread('t1')], undefined)).toEqual({ kind: 'thread', method: 'upsertThread', threadId: 't1', id: 't1' });
    // Usage on a thread without a goal changed nothing, so nothing is announced.
    expect(describeChange(db, 'recordThreadGoalUsage', ['t1', 1, 1, 1], null)).toBeNull();
    expect(describeChange(db, 'getThread', ['t1'], null)).toBeNull();
    store.close();
  });
});

describe('recoverInterruptedMessages (internal: the worker runs it at open)', () => {
  it('marks what is still streaming as interrupted and keeps its text', async () => {
    const store = await createMemoryStore();
    store.upsertThread(thread('t1'));
    store.upsertThread(thread('t2'));
    const a = store.beginMessage('t1', 'assistant');
    store.appendMessageDelta(a, 'half an ans');
    const b = store.beginMessage('t2', 'assistant');
    const done = store.beginMessage('t2', 'assistant');
    store.finishMessage(done);
    expect(store.recoverInterruptedMessages()).toEqual([a, b]);
    expect([store.getMessageStatus(a), store.getMessageStatus(b), store.getMessageStatus(done)]).toEqual(['interrupted', 'interrupted', 'complete']);
    expect(store.listMessages('t1')[0]?.content).toBe('half an ans');
    expect(() => store.appendMessageDelta(a, 'more')).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(store.recoverInterruptedMessages()).toEqual([]);
    store.close();
  });

  it('leaves no orphan status rows behind a deleted thread', async () => {
    const store = await createMemoryStore();
    store.upsertThread(thread('t1'));
    store.beginMessage('t1', 'assistant');
    store.deleteThread('t1');
    expect(store.recoverInterruptedMessages()).toEqual([]);
    store.close();
  });
});
