import type { Page } from '@playwright/test';
import { fromBase64, invariantProblems, rows, withImage } from '../fuzz/invariants.js';
import type { RawDb } from '../fixtures/build-fixtures.js';
import { expect, openApp, test } from './fixtures.js';
import { mulberry32 } from '../support/random.js';

/**
 * "Lose nothing, ever": a write burst is killed at a random moment, by terminating the store's worker
 * or by closing the page, and the store is reopened. Every write whose promise had resolved must be
 * there, nothing may be half-applied, and the file must be whole. The kill moments, window sizes and
 * the burst's mix come from a seeded PRNG; replay with CRASH_SEED=<seed>.
 */

const BASE_SEED = process.env['CRASH_SEED'] === undefined ? (Math.random() * 2 ** 32) >>> 0 : Number(process.env['CRASH_SEED']) >>> 0;
const ITERATIONS = 13; // per test; two tests per kind of kill
const OPS_PER_BURST = 4000; // more than any burst gets through before its kill
const THREADS_PER_ITERATION = 3;


type Kind = 'append' | 'fork' | 'checkpoint' | 'job' | 'tools' | 'name';
/** One planned write; every value it writes is derived from `seq`, so any row found names its write. */
interface Op {
  seq: number;
  kind: Kind;
  thread: string;
  /** fork: where in the list of messages resolved so far the parent is picked. */
  pick: number;
  key: string;
  count: number;
  pad: number;
  status: 'queued' | 'running' | 'completed';
}
/** A write the page saw resolve. */
interface Resolved {
  seq: number;
  kind: Kind;
  thread: string;
  result: unknown;
  parent: number | null;
}
interface Burst {
  threads: string[];
  ops: Op[];
  window: number;
  killAfterMs: number;
}

function makeBurst(random: () => number, iteration: number, seqBase: number): Burst {
  const threads = Array.from({ length: THREADS_PER_ITERATION }, (_, t) => `i${iteration}-t${t}`);
  const kinds: Kind[] = ['append', 'append', 'append', 'fork', 'fork', 'checkpoint', 'job', 'tools', 'name'];
  const ops = Array.from({ length: OPS_PER_BURST }, (_, k): Op => {
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    const thread = threads[Math.floor(random() * threads.length)]!;
    const n = Math.floor(random() * 3);
    const key = kind === 'checkpoint' ? `cp-${n}` : kind === 'job' ? `i${iteration}-job-${n}` : thread;
    return { seq: seqBase + k, kind, thread, pick: random(), key, count: 1 + Math.floor(random() * 4), pad: Math.floor(random() * 3000), status: (['queued', 'running', 'completed'] as const)[n]! };
  });
  return { threads, ops, window: 1 + Math.floor(random() * 16), killAfterMs: 5 + Math.floor(random() * 600) };
}

// The values each kind of write carries; the page builds the same ones from the same op.
const thread = (id: string, seq: number) => ({ id, preview: 'crash', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: seq, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, name: `name-${seq}` });
const checkpointState = (op: Op) => ({ seq: op.seq, pad: 'p'.repeat(op.pad), list: [op.seq, op.key, null] });
const toolsOf = (op: Op) => Array.from({ length: op.count }, (_, i) => ({ position: i, name: `tool-${op.seq}-${i}`, description: null, inputSchema: { seq: op.seq, i } }));

/** What the reopened store must hold: the newest resolved write of every key, and every resolved message. */
class Expected {
  readonly ops = new Map<number, Op>();
  readonly messages = new Map<number, Resolved>();
  readonly latest = new Map<string, number>();
  readonly threads: string[] = [];

  plan(burst: Burst): void {
    for (const op of burst.ops) this.ops.set(op.seq, op);
    this.threads.push(...burst.threads);
  }

  resolved(r: Resolved): void {
    if (r.kind === 'append' || r.kind === 'fork') this.messages.set(r.result as number, r);
    else {
      const key = `${r.kind}|${r.kind === 'checkpoint' ? `${r.thread}|${this.ops.get(r.seq)!.key}` : this.ops.get(r.seq)!.key}`;
      this.latest.set(key, Math.max(this.latest.get(key) ?? -1, r.seq));
    }
  }

  /** Everything wrong with a reopened store's file and session index. */
  problems(db: RawDb, sessionIndex: string): string[] {
    const out = invariantProblems(db);
    const seqOf = (text: unknown, prefix: string): number => (typeof text === 'string' && text.startsWith(prefix) ? Number(text.slice(prefix.length)) : NaN);
    for (const [id, r] of this.messages) {
      const row = rows(db, 'SELECT thread_id, content, parent_entry_id FROM messages WHERE id = ?', [id])[0];
      if (!row) out.push(`resolved ${r.kind} #${r.seq} (message ${id}) is missing`);
      else if (row['content'] !== `c-${r.seq}` || row['thread_id'] !== r.thread || (r.kind === 'fork' && row['parent_entry_id'] !== r.parent)) {
        out.push(`message ${id} is ${JSON.stringify(row)}, written as ${JSON.stringify(r)}`);
      }
    }
    for (const t of this.threads) {
      // Only appends and forks move a leaf here, always to the newest message: a leaf behind it is a half-applied write.
      const [leaf] = rows(db, 'SELECT current_leaf_id AS leaf, (SELECT max(id) FROM messages WHERE thread_id = ?1) AS newest FROM threads WHERE id = ?1', [t]);
      if (leaf && leaf['leaf'] !== leaf['newest']) out.push(`thread ${t}: currentLeafId ${String(leaf['leaf'])} but its newest message is ${String(leaf['newest'])}`);
    }
    for (const row of rows(db, "SELECT id, content, thread_id FROM messages WHERE content LIKE 'c-%'")) {
      const op = this.ops.get(seqOf(row['content'], 'c-'));
      if (!op || (op.kind !== 'append' && op.kind !== 'fork')) out.push(`message ${String(row['id'])} holds ${String(row['content'])}, which no append or fork wrote`);
    }
    const twice = rows(db, 'SELECT content, count(*) AS n FROM messages GROUP BY content HAVING n > 1');
    if (twice.length > 0) out.push(`written more than once: ${JSON.stringify(twice.slice(0, 5))}`);

    const index = new Map<string, unknown>();
    for (const line of sessionIndex.split('\n')) {
      try {
        const e = JSON.parse(line) as { thread_id?: string; thread_name?: unknown };
        if (typeof e.thread_id === 'string') index.set(e.thread_id, e.thread_name);
      } catch {
        // A torn last line is allowed; the store skips it too.
      }
    }
    for (const [key, seq] of this.latest) {
      const [kind, a, b] = key.split('|') as [Kind, string, string | undefined];
      const stale = (found: number, what: string) => {
        const op = this.ops.get(found);
        if (!(found >= seq) || !op || op.kind !== kind) out.push(`${key}: resolved write #${seq}, found ${what}`);
        return op;
      };
      if (kind === 'checkpoint') {
        const row = rows(db, 'SELECT state_json FROM checkpoints WHERE thread_id = ? AND checkpoint_id = ?', [a, b!])[0];
        const state = row ? (JSON.parse(String(row['state_json'])) as { seq: number }) : null;
        const op = stale(state?.seq ?? NaN, row ? String(row['state_json']).slice(0, 80) : 'nothing');
        if (op && state && JSON.stringify(state) !== JSON.stringify(checkpointState(op))) out.push(`${key}: a torn state for #${state.seq}`);
      } else if (kind === 'job') {
        const row = rows(db, 'SELECT name, progress, updated_at, status, detail FROM jobs WHERE id = ?', [a])[0];
        const found = seqOf(row?.['name'], 'job-');
        const op = stale(found, JSON.stringify(row ?? null));
        const swept = row?.['status'] === 'failed' && String(row?.['detail']).startsWith('interrupted');
        // The start-up sweep marks a job left queued or running as failed, with a new detail and time.
        const whole = swept ? op?.status !== 'completed' : row?.['status'] === op?.status && row?.['detail'] === `d-${found}` && row?.['updated_at'] === found;
        if (op && row && (row['progress'] !== found % 101 || !whole)) {
          out.push(`${key}: a torn job row ${JSON.stringify(row)}`);
        }
      } else if (kind === 'tools') {
        const found = rows(db, 'SELECT position, name, input_schema FROM thread_dynamic_tools WHERE thread_id = ? ORDER BY position', [a]);
        const op = stale(seqOf(String(found[0]?.['name'] ?? '').replace(/-\d+$/, ''), 'tool-'), JSON.stringify(found.slice(0, 2)));
        const want = op ? toolsOf(op).map((t) => ({ position: t.position, name: t.name, input_schema: JSON.stringify(t.inputSchema) })) : [];
        if (op && JSON.stringify(found) !== JSON.stringify(want)) out.push(`${key}: the tool list is not one whole write: ${JSON.stringify(found)}`);
      } else {
        const row = rows(db, 'SELECT title, updated_at FROM threads WHERE id = ?', [a])[0];
        const found = seqOf(row?.['title'], 'name-');
        if (stale(found, JSON.stringify(row ?? null)) && row?.['updated_at'] !== found) out.push(`${key}: a torn thread row ${JSON.stringify(row)}`);
        const indexed = seqOf(index.get(a), 'name-');
        if (!(indexed >= seq)) out.push(`${key}: the session index names ${String(index.get(a))} after resolved write #${seq}`);
      }
    }
    return out;
  }
}

/** Opens the store on the page (a fresh worker) and returns what the checks need; the store stays open as `__store`. */
async function reopen(page: Page, name: string, ownWorker: boolean) {
  return page.evaluate(
    async ({ name, ownWorker }) => {
      const w = window as unknown as Record<string, unknown>;
      const worker = ownWorker ? window.ownWorker() : undefined;
      const store = await window.openStateStore(worker ? { name, worker } : { name });
      Object.assign(w, { __store: store, __worker: worker });
      const integrity = await store.integrityCheck();
      const bytes = await store.exportDatabase();
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return { integrity, image: btoa(binary), sessionIndex: await store.exportSessionIndex(), skipped: (await store.info()).sessionIndexSkippedLines };
    },
    { name, ownWorker },
  );
}

/**
 * Runs the burst on `__store`: the threads first, then the ops with `window` in flight. With `terminate`
 * the page kills the worker after `killAfterMs` and returns what had resolved; otherwise every resolved
 * write is reported through `__resolved` as it happens, and Node closes the page.
 */
function runBurst(page: Page, burst: Burst, terminate: boolean, seqBase: number) {
  return page.evaluate(
    async ({ burst, terminate, seqBase }) => {
      const w = window as unknown as Record<string, any>;
      const store = w['__store'] as Awaited<ReturnType<typeof window.openStateStore>>;
      const report = (r: Resolved) => (terminate ? undefined : void w['__resolved'](r));
      const resolved: Resolved[] = [];
      const failures: string[] = [];
      const made: { id: number; thread: string }[] = [];
      for (const [i, t] of burst.threads.entries()) {
        await store.upsertThread({ id: t, preview: 'crash', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: seqBase - 10 + i, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: `name-${seqBase - 10 + i}` });
      }
      if (!terminate) void w['__started']();
      const write = (op: Op): [Promise<unknown>, string, number | null, Kind] => {
        switch (op.kind) {
          case 'fork': {
            const parent = made[Math.floor(op.pick * made.length)];
            if (parent) return [store.forkAtMessage(parent.id, 'assistant', `c-${op.seq}`), parent.thread, parent.id, 'fork'];
            return [store.appendMessage(op.thread, 'user', `c-${op.seq}`), op.thread, null, 'append'];
          }
          case 'append':
            return [store.appendMessage(op.thread, 'user', `c-${op.seq}`, { seq: op.seq }), op.thread, null, 'append'];
          case 'checkpoint':
            return [store.saveCheckpoint(op.thread, op.key, { seq: op.seq, pad: 'p'.repeat(op.pad), list: [op.seq, op.key, null] }), op.thread, null, op.kind];
          case 'job':
            return [store.upsertJob({ id: op.key, name: `job-${op.seq}`, status: op.status, progress: op.seq % 101, detail: `d-${op.seq}`, createdAt: 1, updatedAt: op.seq }), op.thread, null, op.kind];
          case 'tools': {
            const tools = Array.from({ length: op.count }, (_, i) => ({ position: i, name: `tool-${op.seq}-${i}`, description: null, inputSchema: { seq: op.seq, i } }));
            return [store.persistDynamicTools(op.thread, tools), op.thread, null, op.kind];
          }
          case 'name':
            return [store.upsertThread({ id: op.thread, preview: 'crash', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: op.seq, status: 'idle', cwd: '/', cliVersion: '1', source: 'api', name: `name-${op.seq}` }), op.thread, null, op.kind];
        }
      };
      let next = 0;
      let inFlight = 0;
      let killed = false;
      return new Promise<{ resolved: Resolved[]; failures: string[]; inFlightAtKill: number }>((finish) => {
        const launch = () => {
          while (!killed && inFlight < burst.window && next < burst.ops.length) {
            const op = burst.ops[next++]!;
            const [promise, thread, parent, kind] = write(op);
            inFlight++;
            promise.then(
              (result) => {
                inFlight--;
                const r = { seq: op.seq, kind, thread, result: result ?? null, parent };
                if (kind === 'append' || kind === 'fork') made.push({ id: result as number, thread });
                resolved.push(r);
                report(r);
                launch();
              },
              (error: Error) => {
                inFlight--;
                failures.push(`#${op.seq} ${op.kind}: ${error.message}`);
                launch();
              },
            );
          }
          if (next >= burst.ops.length && inFlight === 0) {
            if (!terminate) void w['__finished']();
            finish({ resolved, failures, inFlightAtKill: 0 });
          }
        };
        launch();
        if (terminate) {
          setTimeout(() => {
            killed = true;
            const snapshot = { resolved: [...resolved], failures: [...failures], inFlightAtKill: inFlight };
            (w['__worker'] as Worker).terminate();
            finish(snapshot);
          }, burst.killAfterMs);
        }
      });
    },
    { burst, terminate, seqBase },
  );
}

/** Checks a reopened store against what had resolved; fails with the seed and the iteration. */
async function check(expected: Expected, opened: Awaited<ReturnType<typeof reopen>>, where: string): Promise<void> {
  expect(opened.integrity, where).toEqual({ ok: true, problems: [] });
  const problems = await withImage(fromBase64(opened.image), (db) => expected.problems(db, opened.sessionIndex));
  expect(problems, where).toEqual([]);
}

for (const [part, mode] of [[1, 'terminate'], [2, 'terminate'], [1, 'close'], [2, 'close']] as const) {
  const seed = (BASE_SEED + (mode === 'terminate' ? 0 : 2) + part - 1) >>> 0;
  const title =
    mode === 'terminate'
      ? `worker.terminate() at a random moment of a write burst loses no resolved write and half-applies nothing (${ITERATIONS} kills, part ${part})`
      : `closing the page at a random moment of a write burst loses no resolved write and half-applies nothing (${ITERATIONS} kills, part ${part})`;
  test(title, async ({ app, profile }) => {
    test.setTimeout(180_000);
    test.info().annotations.push({ type: 'seed', description: String(seed) });
    console.log(`crash (${mode}, part ${part}) seed ${seed} (replay with CRASH_SEED=${BASE_SEED})`);
    const random = mulberry32(seed);
    const name = `crash-${mode}-${part}-${seed}`;
    const expected = new Expected();
    let page = app;
    const stats: string[] = [];
    for (let iteration = 0; iteration < ITERATIONS; iteration++) {
      const where = `seed ${seed} (CRASH_SEED=${BASE_SEED}), ${mode} kill ${iteration}`;
      const seqBase = (iteration + 1) * 100_000;
      const burst = makeBurst(random, iteration, seqBase);
      expected.plan(burst);
      // The burst starts by naming its threads; those writes resolve before any kill can come.
      const named = burst.threads.map((t, i): Resolved => ({ seq: seqBase - 10 + i, kind: 'name', thread: t, result: null, parent: null }));
      for (const r of named) expected.ops.set(r.seq, { seq: r.seq, kind: 'name', thread: r.thread, pick: 0, key: r.thread, count: 0, pad: 0, status: 'queued' });

      if (mode === 'terminate') {
        await check(expected, await reopen(page, name, true), `${where}, before the burst`);
        const result = await runBurst(page, burst, true, seqBase);
        expect(result.failures, where).toEqual([]);
        expect(result.inFlightAtKill, `${where}: the kill came after the burst had ended`).toBeGreaterThan(0);
        [...named, ...result.resolved].forEach((r) => expected.resolved(r));
        stats.push(`${result.resolved.length}@${burst.killAfterMs}ms`);
      } else {
        page = await profile.context.newPage();
        const seen: Resolved[] = [];
        let started!: () => void;
        const begun = new Promise<void>((resolve) => (started = resolve));
        let finished = false;
        await page.exposeFunction('__resolved', (r: Resolved) => void seen.push(r));
        await page.exposeFunction('__started', () => started());
        await page.exposeFunction('__finished', () => void (finished = true));
        await openApp(page);
        await check(expected, await reopen(page, name, false), `${where}, before the burst`);
        const running = runBurst(page, burst, false, seqBase).catch(() => null);
        await begun;
        await new Promise((resolve) => setTimeout(resolve, burst.killAfterMs));
        const reported = seen.length;
        await page.close();
        await running;
        expect(finished, `${where}: the kill came after the burst had ended`).toBe(false);
        [...named, ...seen].forEach((r) => expected.resolved(r));
        stats.push(`${reported}@${burst.killAfterMs}ms`);
      }
    }
    if (mode === 'close') {
      page = await profile.context.newPage();
      await openApp(page);
    }
    await check(expected, await reopen(page, name, mode === 'terminate'), `seed ${seed}, after the last kill`);
    await page.evaluate(async () => (window as unknown as { __store: { close(): Promise<void> } }).__store.close());
    if (mode === 'close') await page.close();
    console.log(`crash (${mode}, part ${part}) seed ${seed}: resolved writes at each kill ${stats.join(' ')}; ${expected.messages.size} messages checked`);
  });
}
