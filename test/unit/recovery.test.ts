import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { failInterruptedJobs, hasInterruptedWork } from '../../src/core/recovery.js';
import { StateStore } from '../../src/core/store.js';
import { loadEngine } from '../../src/driver/engine.js';
import { memoryTextFile } from '../../src/driver/memory-file.js';
import { oo1Driver, type Oo1Database, type Oo1Engine } from '../../src/driver/oo1.js';
import type { SqlDriver } from '../../src/driver/port.js';
import { job } from '../contract/cases/fixtures.js';

/**
 * The start-up sweep's check: the browser worker skips the sweep's writes when this says there is
 * nothing to recover, so it must see every job and stream the sweep would change.
 */

let driver: SqlDriver;
let store: StateStore;

beforeEach(async () => {
  const sqlite3 = await loadEngine();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  driver = oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database);
  store = StateStore.open({ db: driver, sessionIndex: memoryTextFile('') });
});

afterEach(() => store.close());

describe('hasInterruptedWork', () => {
  it('is false on an empty store and with only finished jobs and messages', () => {
    expect(hasInterruptedWork(driver)).toBe(false);
    store.upsertJob(job('done', { status: 'completed' }));
    store.upsertJob(job('failed', { status: 'failed' }));
    const thread = store.createThread();
    store.addMessage(thread.id, { role: 'user', content: 'hi' });
    const streamed = store.beginMessage(thread.id, 'assistant');
    store.finishMessage(streamed);
    expect(hasInterruptedWork(driver)).toBe(false);
  });

  it.each(['queued', 'running'] as const)('is true with a %s job, and false once the sweep has failed it', (status) => {
    store.upsertJob(job('j', { status }));
    expect(hasInterruptedWork(driver)).toBe(true);
    expect(failInterruptedJobs(driver, 100)).toBe(1);
    expect(hasInterruptedWork(driver)).toBe(false);
  });

  it('is true with a message still streaming, and false once it is marked interrupted', () => {
    const thread = store.createThread();
    store.beginMessage(thread.id, 'assistant');
    expect(hasInterruptedWork(driver)).toBe(true);
    expect(store.recoverInterruptedMessages()).toHaveLength(1);
    expect(hasInterruptedWork(driver)).toBe(false);
  });
});
