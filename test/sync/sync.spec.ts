import { resolve } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { recordSyncTiming } from '../../bench/harness/sync-timing.js';
import {
  BOB_TOKEN, Device, SyncServer, deviceDump, expectNoDuplicateMessages, messagesWith, openSynced, recordTiming, rowsOf, syncState,
  tokenFor, waitConverged, waitSyncState, waitSynced,
} from './harness.js';

/**
 * The seven scenarios of issue 15, against one local workerd sync server (restarted on its own
 * persistence directory in scenario 3) and Chromium devices with profiles of their own. Every scenario
 * uses a store of its own on the server (token `tok-<store>`), so they do not see each other's rows.
 */

const server = new SyncServer();
const devices: Device[] = [];

test.beforeAll(async () => {
  test.setTimeout(180_000);
  await server.start();
});

test.afterAll(async () => {
  await server.dispose();
});

test.afterEach(async () => {
  const errors = devices.flatMap((d) => d.errors);
  await Promise.all(devices.splice(0).map((d) => d.close()));
  // The server may have been left stopped by a failed scenario 3.
  await server.start();
  expect(errors, 'uncaught errors in the devices\' pages').toEqual([]);
});

async function device(label: string): Promise<Device> {
  const d = await Device.launch(label);
  devices.push(d);
  return d;
}

/** A device with one tab of the test app, its store `store` opened with sync. */
async function syncedPage(label: string, store: string, baseURL: string | undefined, token = tokenFor(store), durability: 'strict' | 'relaxed' = 'strict'): Promise<{ device: Device; page: Page }> {
  const d = await device(label);
  const page = await d.newPage(baseURL ?? '/');
  await openSynced(page, store, server.storeUrl(store), token, durability);
  return { device: d, page };
}

/** Creates a thread with `count` messages `<prefix>-<i>` in the page's store; returns its id and the message ids. */
async function threadWith(page: Page, title: string, prefix: string, count: number): Promise<{ threadId: string; ids: number[] }> {
  return page.evaluate(
    async ({ title, prefix, count }) => {
      const store = window.syncStore!;
      const thread = await store.createThread({ title });
      const ids: number[] = [];
      for (let i = 0; i < count; i++) ids.push(await store.appendMessage(thread.id, i % 2 ? 'assistant' : 'user', `${prefix}-${i}`));
      return { threadId: thread.id, ids };
    },
    { title, prefix, count },
  );
}

/**
 * Appends `count` messages `<prefix>-<i>` to a thread, `inFlight` at a time (the worker group-commits them).
 * With `usage`, each batch also records 1 token and 1 second of goal usage on the thread (it needs a goal):
 * usage is a delta, so a push applied twice would show in the sum, where a row applied twice would not.
 */
async function appendMany(page: Page, threadId: string, prefix: string, count: number, inFlight = 50, usage = false): Promise<number> {
  return page.evaluate(
    async ({ threadId, prefix, count, inFlight, usage }) => {
      const store = window.syncStore!;
      let recorded = 0;
      for (let i = 0; i < count; i += inFlight) {
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(count, i + inFlight); j++) batch.push(store.appendMessage(threadId, 'user', `${prefix}-${j}`));
        if (usage) batch.push(store.recordThreadGoalUsage(threadId, 1, 1, 1000 + i).then(() => recorded++));
        await Promise.all(batch);
      }
      return recorded;
    },
    { threadId, prefix, count, inFlight, usage },
  );
}

/** Gives the thread a goal with no usage yet, for appendMany's usage records. */
const addGoal = (page: Page, threadId: string) =>
  page.evaluate(
    (threadId) => window.syncStore!.upsertThreadGoal({ threadId, goalId: 'g', objective: 'count', status: 'active', tokenBudget: null, tokensUsed: 0, timeUsedSeconds: 0, continuationCount: 0, createdAt: 1, updatedAt: 1 }),
    threadId,
  );

/** The goal usage of a thread in a dump. */
const usageOf = (dump: Record<string, string[]>, threadId: string) => rowsOf(dump, 'thread_goals').find((g) => g['thread_id'] === threadId)?.['tokens_used'];

const currentLeaf = (page: Page, threadId: string) => page.evaluate(async (id) => (await window.syncStore!.getThread(id))?.currentLeafId ?? null, threadId);

test('1. both online: a write on A reaches B through watchBranch within 1 s', async ({ baseURL }) => {
  const store = 's1';
  const { page: a } = await syncedPage('A', store, baseURL);
  // B runs with relaxed durability: sync's own steps then commit with synchronous = FULL set before BEGIN.
  const { page: b } = await syncedPage('B', store, baseURL, tokenFor(store), 'relaxed');
  const { threadId } = await threadWith(a, 'latency', 'start', 1);
  await waitConverged(server, store, [a, b]);

  // B watches the thread and notes (page clock: both pages read the same machine's clock) when each message first appears.
  await b.evaluate((threadId) => {
    const seen: Record<string, number> = {};
    (window as unknown as { seen: Record<string, number> }).seen = seen;
    void window.syncStore!.watchBranch(threadId, (branch) => {
      for (const m of branch) if (!(m.content in seen)) seen[m.content] = Date.now();
    });
  }, threadId);
  await expect.poll(() => b.evaluate(() => Object.keys((window as unknown as { seen: object }).seen).length)).toBe(1);

  const latencies: number[] = [];
  for (let round = 0; round < 5; round++) {
    const content = `ping-${round}`;
    const sentAt = await a.evaluate(async ({ threadId, content }) => {
      const at = Date.now();
      await window.syncStore!.appendMessage(threadId, 'user', content);
      return at;
    }, { threadId, content });
    const seenAt = await b.evaluate(async (content) => {
      const seen = (window as unknown as { seen: Record<string, number> }).seen;
      const until = Date.now() + 10_000;
      while (!(content in seen) && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      return seen[content] ?? null;
    }, content);
    expect(seenAt, `B never saw ${content}`).not.toBeNull();
    latencies.push(seenAt! - sentAt);
  }
  const timing = recordTiming('both-online-latency', { unit: 'ms', rounds: latencies, max: Math.max(...latencies) });
  console.log(`sync: A write → B watchBranch, ms per round: ${latencies.join(', ')} (${JSON.stringify(timing['loadAverage'])} load)`);
  // The behaviour bound: a write on A appears on B within one second.
  for (const ms of latencies) expect(ms).toBeLessThan(1000);
  // B's leaf followed A's messages, which continued it.
  expect(await currentLeaf(b, threadId)).toBe(await currentLeaf(a, threadId));
});

test('2. A offline makes 200 writes while B writes to the same thread: all converge, both branches kept, usage adds up, nothing doubled', async ({ baseURL }) => {
  test.setTimeout(300_000);
  const store = 's2';
  const { device: deviceA, page: a } = await syncedPage('A', store, baseURL);
  const { page: b } = await syncedPage('B', store, baseURL);
  const shared = await threadWith(a, 'shared', 'base', 5);
  await a.evaluate(async (threadId) => {
    const store = window.syncStore!;
    await store.upsertThreadGoal({ threadId, goalId: 'g-1', objective: 'converge', status: 'active', tokenBudget: null, tokensUsed: 100, timeUsedSeconds: 10, continuationCount: 1, createdAt: 100, updatedAt: 100 });
    await store.upsertJob({ id: 'job-A', name: 'index', status: 'running', progress: 0, detail: null, createdAt: 100, updatedAt: 100 });
  }, shared.threadId);
  await waitConverged(server, store, [a, b]);
  const baseLeaf = shared.ids[4]!;

  await deviceA.setOffline(true);
  // A's 200 writes: two new threads (2 + 60), 40 appends to the shared thread, a fork with 9 more (10),
  // 30 checkpoints, 30 job progress updates, 20 usage records and 8 continuations.
  const aWrites = await a.evaluate(async ({ threadId, forkFrom }) => {
    const store = window.syncStore!;
    let writes = 0;
    const w = async <T>(p: Promise<T>): Promise<T> => {
      const value = await p;
      writes++;
      return value;
    };
    for (let t = 0; t < 2; t++) {
      const thread = await w(store.createThread({ title: `A new ${t}` }));
      for (let i = 0; i < 30; i++) await w(store.appendMessage(thread.id, 'user', `A-new-${t}-${i}`));
    }
    for (let i = 0; i < 40; i++) await w(store.appendMessage(threadId, 'user', `A-off-T-${i}`));
    await w(store.forkAtMessage(forkFrom, 'user', 'A-fork-0'));
    for (let i = 1; i < 10; i++) await w(store.appendMessage(threadId, 'assistant', `A-fork-${i}`));
    for (let i = 0; i < 30; i++) await w(store.saveCheckpoint(threadId, `cp-${i}`, { step: i, by: 'A' }));
    for (let i = 1; i <= 30; i++) await w(store.upsertJob({ id: 'job-A', name: 'index', status: i === 30 ? 'completed' : 'running', progress: Math.min(100, i * 4), detail: `step ${i}`, createdAt: 100, updatedAt: 100 + i }));
    for (let i = 0; i < 20; i++) await w(store.recordThreadGoalUsage(threadId, 10, 2, 1000 + i));
    for (let i = 0; i < 8; i++) await w(store.recordThreadGoalContinuation(threadId, 1100 + i));
    return writes;
  }, { threadId: shared.threadId, forkFrom: shared.ids[2]! });
  expect(aWrites).toBe(200);

  // B, online meanwhile: 20 appends continuing the same leaf, 10 usage records, 3 continuations.
  await b.evaluate(async (threadId) => {
    const store = window.syncStore!;
    for (let i = 0; i < 20; i++) await store.appendMessage(threadId, 'assistant', `B-on-T-${i}`);
    for (let i = 0; i < 10; i++) await store.recordThreadGoalUsage(threadId, 7, 1, 2000 + i);
    for (let i = 0; i < 3; i++) await store.recordThreadGoalContinuation(threadId, 2100 + i);
  }, shared.threadId);
  await waitSynced(b);

  // A really was offline: none of its writes reached the server, and they wait in its outbox.
  const whileOffline = await server.dump(store);
  expect(messagesWith(whileOffline, 'A-')).toEqual([]);
  expect(messagesWith(whileOffline, 'B-on-T-')).toHaveLength(20);
  expect((await syncState(a)).pending).toBeGreaterThan(0);
  expect((await syncState(a)).state).not.toBe('synced');

  await deviceA.setOffline(false);
  const dump = await waitConverged(server, store, [a, b], 180_000);

  expectNoDuplicateMessages(dump);
  expect(messagesWith(dump, 'A-new-')).toHaveLength(60);
  expect(messagesWith(dump, 'A-off-T-')).toHaveLength(40);
  expect(messagesWith(dump, 'A-fork-')).toHaveLength(10);
  expect(messagesWith(dump, 'B-on-T-')).toHaveLength(20);
  expect(rowsOf(dump, 'threads')).toHaveLength(3);
  // Both branches kept: A's first offline message and B's first message are siblings under the last shared message.
  const [aFirst] = messagesWith(dump, 'A-off-T-0');
  const [bFirst] = messagesWith(dump, 'B-on-T-0');
  expect(aFirst!['parent_entry_id']).toBe(baseLeaf);
  expect(bFirst!['parent_entry_id']).toBe(baseLeaf);
  expect(messagesWith(dump, 'A-fork-0')[0]!['parent_entry_id']).toBe(shared.ids[2]);
  // Usage adds up: the base, A's deltas and B's deltas.
  const goal = rowsOf(dump, 'thread_goals').find((g) => g['thread_id'] === shared.threadId)!;
  expect(goal['tokens_used']).toBe(100 + 20 * 10 + 10 * 7);
  expect(goal['time_used_seconds']).toBe(10 + 20 * 2 + 10 * 1);
  expect(goal['continuation_count']).toBe(1 + 8 + 3);
  // The last writer's job and every checkpoint.
  const job = rowsOf(dump, 'jobs').find((j) => j['id'] === 'job-A')!;
  expect(job).toMatchObject({ status: 'completed', progress: 100, detail: 'step 30' });
  expect(rowsOf(dump, 'checkpoints').filter((c) => c['thread_id'] === shared.threadId)).toHaveLength(30);
  // Each device's leaf is its own: A's at the end of its fork, B's at the end of its branch.
  const aLeaf = messagesWith(dump, 'A-fork-9')[0]!['id'];
  const bLeaf = messagesWith(dump, 'B-on-T-19')[0]!['id'];
  expect(await currentLeaf(a, shared.threadId)).toBe(aLeaf);
  expect(await currentLeaf(b, shared.threadId)).toBe(bLeaf);
  // The session index's names (not a table: its entries sync as their own rows) agree too.
  const threadIds = rowsOf(dump, 'threads').map((t) => String(t['id']));
  const names = (p: Page) => p.evaluate((ids) => window.syncStore!.findThreadNamesByIds(ids), threadIds);
  expect(await names(b)).toEqual(await names(a));
  expect(Object.values(await names(b)).sort()).toEqual(['A new 0', 'A new 1', 'shared']);
});

test('3. the server killed mid-push and restarted on the same directory: convergence, every message exactly once', async ({ baseURL }) => {
  test.setTimeout(300_000);
  const store = 's3';
  const { page: a } = await syncedPage('A', store, baseURL);
  const { threadId } = await threadWith(a, 'killed', 'pre', 1);
  await waitSynced(a);

  // 3,000 appends (and a usage record per 250) run in the page in the background, 250 at a time so that they
  // commit faster than a push goes; the server is killed once 400 changes wait to be pushed.
  await addGoal(a, threadId);
  await waitSynced(a);
  const total = 3000;
  await a.evaluate(({ threadId, total }) => {
    const store = window.syncStore!;
    (window as unknown as { writing: Promise<void> }).writing = (async () => {
      for (let i = 0; i < total; i += 250) {
        const batch: Promise<unknown>[] = [];
        for (let j = i; j < Math.min(total, i + 250); j++) batch.push(store.appendMessage(threadId, 'user', `k-${j}`));
        batch.push(store.recordThreadGoalUsage(threadId, 1, 1, 1000 + i));
        await Promise.all(batch);
      }
    })();
  }, { threadId, total });
  const atKill = await waitSyncState(a, 's.pending >= 400', 60_000);
  await server.stop();
  // Local writes go on while the server is down.
  await a.evaluate(() => (window as unknown as { writing: Promise<void> }).writing);
  const down = await syncState(a);
  expect(down.pending).toBeGreaterThan(0);
  expect(down.state).not.toBe('synced');

  await server.start();
  const dump = await waitConverged(server, store, [a], 180_000);
  console.log(`sync: killed the server with ${atKill.pending} changes pending (state ${atKill.state}); after restart every row converged`);
  expectNoDuplicateMessages(dump);
  const contents = messagesWith(dump, 'k-').map((m) => String(m['content']));
  expect(contents).toHaveLength(total);
  expect(new Set(contents).size).toBe(total);
  // Every usage delta counted once: a push applied twice (a resend after the kill) would add its deltas again.
  expect(usageOf(dump, threadId)).toBe(total / 250);
});

test('4. A deletes a thread while B, offline, edits it: it stays deleted everywhere', async ({ baseURL }) => {
  const store = 's4';
  const { page: a } = await syncedPage('A', store, baseURL);
  const { device: deviceB, page: b } = await syncedPage('B', store, baseURL);
  const doomed = await threadWith(a, 'doomed', 'd', 3);
  await a.evaluate((id) => window.syncStore!.saveCheckpoint(id, 'cp', { keep: false }), doomed.threadId);
  await waitConverged(server, store, [a, b]);
  expect(await b.evaluate((id) => window.syncStore!.getThread(id), doomed.threadId)).not.toBeNull();

  await deviceB.setOffline(true);
  await b.evaluate(async (id) => {
    const store = window.syncStore!;
    await store.updateThread(id, { title: 'edited offline', status: 'running' });
    for (let i = 0; i < 5; i++) await store.appendMessage(id, 'user', `B-off-${i}`);
    await store.saveCheckpoint(id, 'cp-b', { by: 'B' });
  }, doomed.threadId);

  await a.evaluate(async (id) => {
    await window.syncStore!.deleteThread(id);
    const kept = await window.syncStore!.createThread({ title: 'kept' });
    await window.syncStore!.appendMessage(kept.id, 'user', 'still here');
  }, doomed.threadId);
  await waitSynced(a);
  expect(rowsOf(await server.dump(store), 'threads').map((t) => t['id'])).not.toContain(doomed.threadId);

  await deviceB.setOffline(false);
  const dump = await waitConverged(server, store, [a, b]);
  for (const d of [dump, await deviceDump(a), await deviceDump(b)]) {
    expect(rowsOf(d, 'threads').map((t) => t['title'])).toEqual(['kept']);
    expect(rowsOf(d, 'messages').filter((m) => m['thread_id'] === doomed.threadId)).toEqual([]);
    expect(rowsOf(d, 'checkpoints').filter((c) => c['thread_id'] === doomed.threadId)).toEqual([]);
  }
  expect(await b.evaluate((id) => window.syncStore!.getThread(id), doomed.threadId)).toBeNull();
  expect(messagesWith(dump, 'still here')).toHaveLength(1);
});

test('5. a new device C gets everything: its first full sync of 10,000 messages is timed', async ({ baseURL }) => {
  test.setTimeout(600_000);
  const store = 's5';
  const threads = 10;
  const perThread = 1000;
  const { page: a } = await syncedPage('A', store, baseURL);
  const ids = await a.evaluate(async (threads) => {
    const out: string[] = [];
    for (let t = 0; t < threads; t++) out.push((await window.syncStore!.createThread({ title: `bulk ${t}` })).id);
    return out;
  }, threads);
  for (const [t, id] of ids.entries()) await appendMany(a, id, `bulk-${t}`, perThread, 100);
  await waitSynced(a, 300_000);

  const deviceC = await device('C');
  const c = await deviceC.newPage(baseURL ?? '/');
  // From open to synced with nothing pending and every message present (counted in the page).
  const measured = await c.evaluate(
    async ({ name, url, token, expected }) => {
      window.syncToken = token;
      const started = performance.now();
      window.syncStore = await window.openStateStore({ name, sync: { url, getToken: async () => window.syncToken ?? '' } });
      const opened = performance.now() - started;
      let syncedAt: number | null = null;
      let count = -1;
      for (;;) {
        const sync = ((await window.syncStore.info()) as { sync?: { state: string; pending: number } }).sync;
        if (sync?.state === 'synced' && sync.pending === 0) {
          syncedAt ??= performance.now() - started;
          const list = await window.syncStore.listThreads({ limit: 100 });
          count = 0;
          for (const thread of list) count += (await window.syncStore.listThreadMessages(thread.id, 10_000)).length;
          if (count >= expected) return { opened, syncedAt, complete: performance.now() - started, count, last: sync };
        }
        if (performance.now() - started > 240_000) return { opened, syncedAt, complete: null, count, last: sync };
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    { name: store, url: server.storeUrl(store), token: tokenFor(store), expected: threads * perThread },
  );
  expect(measured.complete, `C never held all 10,000 messages: it held ${measured.count} at the last count, its sync state was ${JSON.stringify(measured.last)}`).not.toBeNull();
  const timing = recordTiming('new-device-full-sync-10k', {
    unit: 'ms', messages: threads * perThread, threads, openMs: Math.round(measured.opened), firstSyncedMs: Math.round(measured.syncedAt ?? -1), completeMs: Math.round(measured.complete!),
  });
  console.log(`sync: new device C, first full sync of ${threads * perThread} messages: ${Math.round(measured.complete!)} ms (open ${Math.round(measured.opened)} ms; load ${JSON.stringify(timing['loadAverage'])})`);
  // SYNC_BENCH_RECORD=1 puts the figure in the benchmark report (bench/results/sync.json, targets.md, report.html).
  if (process.env['SYNC_BENCH_RECORD'] === '1') {
    const load = timing['loadAverage'] as number[];
    recordSyncTiming(resolve('bench/results'), {
      id: 'new-device-full-sync-10k',
      description: `new device full sync, ${(threads * perThread).toLocaleString('en')} messages (${threads} threads), from openStateStore to synced with all present`,
      value: Math.round(measured.complete!),
      unit: 'ms',
      detail: `open ${Math.round(measured.opened)} ms, first "synced" at ${Math.round(measured.syncedAt ?? -1)} ms; load average (1/5/15 min) ${load.join(' / ')} on ${String(timing['nodeCpus'])} cores, beside the suite's own server and devices`,
      date: String(timing['date']),
      commit: (timing['commit'] as string | null) ?? null,
    });
  }

  const dump = await waitConverged(server, store, [a, c], 180_000);
  expect(rowsOf(dump, 'messages')).toHaveLength(threads * perThread);
  expectNoDuplicateMessages(dump);
});

test('6. a wrong token and another user\'s store are refused, nothing is written, and the store works locally', async ({ baseURL }) => {
  const store = 's6';
  const before = await server.dump(store);
  const { page: a } = await syncedPage('A', store, baseURL, 'not-a-token');
  const refused = await waitSyncState(a, "s.lastError && s.lastError.code === 'UNAUTHORIZED'");
  expect(refused.state).not.toBe('synced');
  const local = await a.evaluate(async () => {
    const store = window.syncStore!;
    const thread = await store.createThread({ title: 'local while refused' });
    await store.appendMessage(thread.id, 'user', 'written while refused');
    return { id: thread.id, branch: (await store.getBranch(thread.id)).map((m) => m.content) };
  });
  expect(local.branch).toEqual(['written while refused']);
  expect(await server.dump(store)).toEqual(before);

  // A good token from getToken: the store retries and syncs, and the error clears.
  await a.evaluate((token) => {
    window.syncToken = token;
  }, tokenFor(store));
  const synced = await waitSynced(a, 90_000);
  expect(synced.lastError).toBeNull();
  const after = await server.dump(store);
  expect(messagesWith(after, 'written while refused')).toHaveLength(1);

  // Bob's token on alice's store: FORBIDDEN, and neither side leaks into the other.
  const deviceB = await device('B');
  const b = await deviceB.newPage(baseURL ?? '/');
  await openSynced(b, 'bob-on-alice', server.storeUrl(store), BOB_TOKEN);
  const forbidden = await waitSyncState(b, "s.lastError && s.lastError.code === 'FORBIDDEN'");
  expect(forbidden.state).not.toBe('synced');
  await b.evaluate(async () => {
    const thread = await window.syncStore!.createThread({ title: 'bob writes' });
    await window.syncStore!.appendMessage(thread.id, 'user', 'bob was here');
  });
  // Give a retry time to happen, then check nothing of bob's reached alice's store and nothing of alice's reached bob.
  await b.waitForTimeout(3000);
  expect((await syncState(b)).lastError?.code).toBe('FORBIDDEN');
  expect(await server.dump(store)).toEqual(after);
  expect(rowsOf(await deviceDump(b), 'threads').map((t) => t['title'])).toEqual(['bob writes']);
});

test('7. two tabs on one device, the leader tab closed with writes not yet pushed: the other tab takes over and every row arrives once', async ({ baseURL }) => {
  test.setTimeout(300_000);
  const store = 's7';
  const deviceA = await device('A');
  const first = await deviceA.newPage(baseURL ?? '/');
  await openSynced(first, store, server.storeUrl(store), tokenFor(store));
  const second = await deviceA.newPage(baseURL ?? '/');
  await openSynced(second, store, server.storeUrl(store), tokenFor(store));
  const leaderOf = (p: Page) => p.evaluate(async () => (await window.syncStore!.info()).leader === true);
  const [firstLeads, secondLeads] = [await leaderOf(first), await leaderOf(second)];
  expect(firstLeads !== secondLeads, 'exactly one tab leads').toBe(true);
  const [leader, follower] = firstLeads ? [first, second] : [second, first];

  const { threadId } = await threadWith(leader, 'tabs', 'pre', 1);
  await addGoal(leader, threadId);
  await waitSynced(leader);
  // The server is stopped while the writes are made, so that the outbox surely holds them when the
  // leader tab goes (with the server up, a fast machine pushed everything first and the check raced).
  await server.stop();
  const total = 2000;
  const usage = await appendMany(leader, threadId, 'tab', total, 100, true);
  const atClose = await syncState(leader);
  expect(atClose.pending).toBeGreaterThanOrEqual(total);
  await leader.close();
  await server.start();

  await expect.poll(() => leaderOf(follower), { timeout: 30_000 }).toBe(true);
  const dump = await waitConverged(server, store, [follower], 180_000);
  console.log(`sync: closed the leader tab with ${atClose.pending} changes pending; the other tab finished`);
  expectNoDuplicateMessages(dump);
  const contents = messagesWith(dump, 'tab-').map((m) => String(m['content']));
  expect(contents).toHaveLength(total);
  expect(new Set(contents).size).toBe(total);
  // Each usage delta once: the new leader resends the batch the old one had in flight, and the server skips it if applied.
  expect(usageOf(dump, threadId)).toBe(usage);
});
