import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { recordApplied } from '../../src/core/request-log.js';
import { StateStore } from '../../src/core/store.js';
import { atomically } from '../../src/core/transaction.js';
import type { ThreadInput } from '../../src/core/types.js';
import { loadEngine } from '../../src/driver/engine.js';
import { memoryTextFile } from '../../src/driver/memory-file.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import type { SqlDriver } from '../../src/driver/port.js';
import { GroupCommit } from '../../worker/group-commit.js';

/**
 * The worker's group commit on the real engine: one transaction per batch, one SAVEPOINT per call.
 * The browser suite only has a call that fails its argument checks, before any SQL. Here the failing
 * call has already written rows when SQLite refuses one of its statements: only those rows go, the
 * rest of the batch commits, and every promise settles as its own call went.
 */

function thread(id: string): ThreadInput {
  return { id, name: `thread ${id}`, preview: '', ephemeral: false, modelProvider: 'openai', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1.0', source: 'api' };
}

let driver: SqlDriver;
let store: StateStore;
let commits: GroupCommit;

beforeEach(async () => {
  // The same construction as createMemoryStore, keeping the driver.
  const sqlite3 = await loadEngine();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  driver = oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database);
  store = StateStore.open({ db: driver, sessionIndex: memoryTextFile(''), now: () => 1_700_000_000 });
  store.upsertThread(thread('t1'));
  store.upsertThread(thread('t2'));
  commits = new GroupCommit(driver, () => {});
});

afterEach(() => {
  commits.dispose();
  store.close();
});

const contents = (threadId: string) => store.listThreadMessages(threadId).map((m) => m.content);

describe('group commit', () => {
  it('rolls back only the rows of a call that fails inside SQL after writing, and commits the rest of its batch', async () => {
    // A failure injected inside SQL: appendMessage inserts the message (and its search row, by
    // trigger), then moves the thread's leaf; this trigger refuses that second statement for a
    // message reading "boom", so the call fails with its first rows already written.
    driver.exec(`CREATE TEMP TRIGGER refuse_boom BEFORE UPDATE OF current_leaf_id ON threads
      WHEN (SELECT content FROM messages WHERE id = NEW.current_leaf_id) = 'boom'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const committedBefore = commits.commits;
    let wroteBeforeFailing = -1;

    const calls = [
      commits.submit(() => store.appendMessage('t1', 'assistant', 'first')),
      commits.submit(() => store.appendMessage('t2', 'assistant', 'other thread')),
      commits.submit(() => {
        const before = Number(driver.all('SELECT total_changes() AS n')[0]!['n']);
        try {
          return store.appendMessage('t1', 'assistant', 'boom');
        } finally {
          wroteBeforeFailing = Number(driver.all('SELECT total_changes() AS n')[0]!['n']) - before;
        }
      }),
      commits.submit(() => store.appendMessage('t1', 'assistant', 'after')),
    ];
    const settled = await Promise.allSettled(calls);

    // All four ran in one transaction, which committed once.
    expect(commits.commits).toBe(committedBefore + 1);
    expect(driver.inTransaction()).toBe(false);

    const [first, other, boom, after] = settled;
    expect(first!.status).toBe('fulfilled');
    expect(other!.status).toBe('fulfilled');
    expect(after!.status).toBe('fulfilled');
    expect(boom!.status).toBe('rejected');
    const error = (boom as PromiseRejectedResult).reason;
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('CONFLICT');
    expect((error as StoreError).message).toMatch(/injected failure/);
    // The failing call had really written: the message row and its search row.
    expect(wroteBeforeFailing).toBeGreaterThanOrEqual(2);

    // Its rows are gone; everything else is committed, and the thread's leaf never pointed at it.
    const firstId = (first as PromiseFulfilledResult<number>).value;
    const afterId = (after as PromiseFulfilledResult<number>).value;
    expect(contents('t1')).toEqual(['first', 'after']);
    expect(contents('t2')).toEqual(['other thread']);
    expect(driver.all("SELECT count(*) AS n FROM messages WHERE content = 'boom'")[0]!['n']).toBe(0);
    expect(store.searchMessages('boom')).toEqual([]);
    expect(store.getThread('t1')!.currentLeafId).toBe(afterId);
    expect(store.listMessages('t1').map((m) => m.parentEntryId)).toEqual([null, firstId]);
  });

  it('rolls back a request-id write whose log insert fails, as the leader runs it, and keeps the batch', async () => {
    // The leader's path for another tab's write: the store call and its request-log row in one
    // savepoint. A log insert that SQLite refuses (the id is already recorded) undoes the write.
    driver.run("INSERT INTO applied_requests(request_id, method, result_json, applied_at) VALUES ('taken', 'appendMessage', '1', 1)");

    const calls = [
      commits.submit(() => store.appendMessage('t1', 'assistant', 'kept 1')),
      commits.submit(() =>
        atomically(driver, () => {
          const id = store.appendMessage('t2', 'assistant', 'lost');
          recordApplied(driver, 'taken', 'appendMessage', id, 2);
          return id;
        }),
      ),
      commits.submit(() =>
        atomically(driver, () => {
          const id = store.appendMessage('t2', 'assistant', 'kept 2');
          recordApplied(driver, 'fresh', 'appendMessage', id, 2);
          return id;
        }),
      ),
    ];
    const [kept1, lost, kept2] = await Promise.allSettled(calls);

    expect(driver.inTransaction()).toBe(false);
    expect(kept1!.status).toBe('fulfilled');
    expect(kept2!.status).toBe('fulfilled');
    expect(lost!.status).toBe('rejected');
    expect(contents('t1')).toEqual(['kept 1']);
    expect(contents('t2')).toEqual(['kept 2']);
    expect(driver.all('SELECT request_id FROM applied_requests ORDER BY request_id').map((r) => r['request_id'])).toEqual(['fresh', 'taken']);
    expect(store.getThread('t2')!.currentLeafId).toBe((kept2 as PromiseFulfilledResult<number>).value);
  });

  it('under relaxed durability, a batch with a durable call (a sync step) commits with synchronous = FULL, set before BEGIN; others stay OFF', async () => {
    const relaxed = new GroupCommit(driver, () => {}, 'relaxed');
    driver.exec('PRAGMA synchronous = OFF');
    const level = () => Number(driver.all('PRAGMA synchronous')[0]!['synchronous']);
    const plain = await relaxed.submit(() => (store.appendMessage('t1', 'user', 'plain'), level()));
    const durable = await relaxed.submitDurable(() => (store.appendMessage('t1', 'user', 'sync step'), level()));
    expect([plain, durable, level()]).toEqual([0, 2, 0]);
    expect(contents('t1')).toEqual(['plain', 'sync step']);
    relaxed.dispose();
  });
});
