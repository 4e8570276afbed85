import { execSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { expect, it } from 'vitest';
import { recordSyncTiming } from '../harness/sync-timing.js';
import { newDevice, newServer, settle, thread } from '../../test/support/sync-loop.js';

/**
 * What the sync server keeps, in rows of its log (bench/results/sync.json): two devices write 2,000
 * messages in 20 threads and rename each thread 10 times, then one deletes half the threads, while a
 * third device that synced once stays away. The log holds one entry per row (a rename replaces its
 * row's entry), and a deleted row leaves a tombstone, kept while a device that has not pulled past it
 * is within the retention window. Once the away device falls out of the window, the next hello
 * collects the tombstones: the log is back to the live rows (the away device will re-pull).
 */
const THREADS = 20;
const PER_THREAD = 100;
const RETENTION_SECONDS = 3600;

it('the sync log and its tombstones before and after collection', async () => {
  let now = 1_000_000;
  const server = await newServer({ retentionSeconds: RETENTION_SECONDS, collectEverySeconds: 0, now: () => now });
  const a = await newDevice();
  const b = await newDevice();
  const away = await newDevice();
  settle(server, away);
  for (let t = 0; t < THREADS; t++) {
    a.store.upsertThread(thread(`t${t}`));
    for (let m = 0; m < PER_THREAD; m++) a.store.appendMessage(`t${t}`, m % 2 ? 'assistant' : 'user', `message ${m} of thread ${t}`);
  }
  settle(server, a, b);
  for (let round = 0; round < 10; round++) for (let t = 0; t < THREADS; t++) b.store.updateThread(`t${t}`, { name: `name ${round}` });
  settle(server, a, b);
  const written = server.sync.sizes();
  for (let t = 0; t < THREADS / 2; t++) a.store.deleteThread(`t${t}`);
  settle(server, a, b);
  const deleted = server.sync.sizes();
  now += (RETENTION_SECONDS + 1) * 1000;
  settle(server, a, b);
  const collected = server.sync.sizes();
  expect(deleted.tombstones).toBeGreaterThan(0);
  expect(collected.tombstones).toBe(0);
  expect(collected.log).toBe(deleted.log - deleted.tombstones);

  const load = loadavg().map((x) => x.toFixed(2)).join(' / ');
  const commit = (() => {
    try {
      return execSync('git rev-parse --short HEAD').toString().trim();
    } catch {
      return null;
    }
  })();
  const date = new Date().toISOString();
  const workload = `${THREADS} threads of ${PER_THREAD} messages, each thread renamed 10 times, then ${THREADS / 2} threads deleted, a third device away (Node, sqlite-wasm in memory)`;
  recordSyncTiming('bench/results', {
    id: 'sync-log-after-deletes',
    description: `sync server log after the deletes: ${workload}`,
    value: deleted.log,
    unit: 'rows',
    detail: `${deleted.tombstones} of them tombstones; ${written.log} rows before the deletes (the renames replaced their rows' entries); load average ${load} on 2 cores`,
    date,
    commit,
  });
  recordSyncTiming('bench/results', {
    id: 'sync-log-after-collection',
    description: `sync server log once the device that stayed away fell out of the ${RETENTION_SECONDS} s retention window`,
    value: collected.log,
    unit: 'rows',
    detail: `${collected.tombstones} tombstones (${deleted.tombstones} collected); floor ${collected.floor}; load average ${load} on 2 cores`,
    date,
    commit,
  });
  console.log({ written, deleted, collected });
});
