/**
 * Cold start (create the worker → first query answered) on an empty and on a full database, and
 * the scaling curve: appendMessage and listMessages cost, and the worker's wasm heap, as the
 * database grows.
 */
import { closeRaw, hostedHeap, openOurs, openRaw, RUN, seedStore } from './contenders.js';
import { messageContent, messageItem } from './data.js';
import { DexieContender } from './dexie.js';
import { IdbContender } from './idb.js';
import { interleave, sequential, type Contender } from './measure.js';
import type { WorkerRpc } from './rpc.js';
import type { BenchConfig, CaseRun, MemoryPoint, PhaseOutput } from './types.js';

/**
 * Chromium keeps an origin's IndexedDB backing store open for 2 s after its last connection closes
 * (kBackingStoreGracePeriod); waiting longer than that before a Dexie start makes it open the
 * database from disk, as an app's first open does, rather than reuse the backend the last round left.
 */
const IDB_BACKEND_IDLE_MS = 2500;

/** One timed cold start per call: an untimed idle wait if asked, `start` until its first answer, then an untimed `stop`. */
function coldStarts(start: () => Promise<() => Promise<void>>, idleMs = 0): Contender['batch'] {
  return async () => {
    if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
    const t = performance.now();
    const stop = await start();
    const ms = performance.now() - t;
    await stop();
    return { samples: [ms], elapsedMs: ms };
  };
}

/**
 * Cold start of each contender (Dexie included) on an empty database and on one with `coldMessages`
 * messages; the store alone at `coldMessagesLarge` (seeding the others that large would dominate the
 * run, and that target is absolute). Caveat: Dexie and IndexedDB reopen a database this page closed
 * moments before, and Chromium keeps an origin's IndexedDB backing store open for a couple of seconds
 * after its last connection closes, so theirs is a warm-backend figure, lower than a first open after a
 * browser start.
 */
export async function coldstartPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const cases: CaseRun[] = [];
  const notes: string[] = [];
  for (const messages of [...new Set([0, cfg.coldMessages, cfg.coldMessagesLarge])]) {
    const threads = Math.max(10, Math.round(messages / 1000));
    const everyone = messages <= cfg.coldMessages;
    const name = `c${messages}-${RUN}`;
    const parts: Record<string, unknown>[] = [];
    await seedStore(name, async (s) => {
      await s.call('seedThreads', 'thread-', 0, threads);
      if (messages > 0) await s.call('seedGrowth', 'grow-', threads, messages);
    });
    if (everyone) {
      const raw = (await openRaw(name, 'strict')).rpc;
      await raw.call('seedThreads', 'thread-', 0, threads);
      if (messages > 0) await raw.call('seedGrowth', 'grow-', threads, messages);
      await closeRaw(raw);
    }
    if (everyone) {
      const idb = await IdbContender.open(name);
      await idb.seedThreads('thread-', 0, threads);
      for (let t = 0; messages > 0 && t < threads; t++) await idb.seedTree(`grow-${t}`, Math.floor(messages / threads), threads + t, false);
      idb.close();
      const dexie = await DexieContender.open(name, 'default');
      await dexie.seedThreads('thread-', 0, threads);
      for (let t = 0; messages > 0 && t < threads; t++) await dexie.seedTree(`grow-${t}`, Math.floor(messages / threads), threads + t, false);
      dexie.close();
    }
    cases.push({
      id: `cold-start-${messages}`,
      group: 'cold start',
      title: `cold start → first listThreads answered, ${messages === 0 ? 'empty database' : `${messages.toLocaleString('en')} messages`}`,
      params: { messages, threads },
      contenders: await interleave(
        [
          {
            name: 'ours',
            batch: coldStarts(async () => {
              const store = await openOurs(name, 'strict');
              await store.listThreads({ limit: 50 });
              return () => store.close();
            }),
          },
          ...(everyone
            ? [
                {
                  name: 'raw',
                  batch: coldStarts(async () => {
                    const { rpc, opened } = await openRaw(name, 'strict');
                    await rpc.call('listThreads', 50);
                    parts.push(opened);
                    return () => closeRaw(rpc);
                  }),
                },
                {
                  name: 'idb',
                  batch: coldStarts(async () => {
                    const db = await IdbContender.open(name);
                    await db.listThreads(50);
                    return async () => db.close();
                  }),
                },
                {
                  name: 'dexie',
                  batch: coldStarts(async () => {
                    const db = await DexieContender.open(name, 'default');
                    await db.listThreads(50);
                    return async () => db.close();
                  }, IDB_BACKEND_IDLE_MS),
                },
              ]
            : []),
        ],
        cfg.coldRounds,
      ),
    });
    if (parts.length === 0) continue;
    const median = (key: string) => parts.map((p) => Number(p[key])).sort((a, b) => a - b)[Math.floor(parts.length / 2)] ?? NaN;
    notes.push(
      `raw worker cold start with ${messages} messages, median inside the worker: engine boot ${median('engineMs').toFixed(0)} ms, ` +
        `opfs-sahpool install ${median('poolMs').toFixed(0)} ms, database open + schema check ${median('openMs').toFixed(0)} ms (the rest is worker creation and module load).`,
    );
  }
  return { cases, memory: [], notes };
}

/** The scaling curve: the same probe thread appended to and read while the rest of the database grows. */
export async function scalingPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const name = `s-${RUN}`;
  const growThreads = cfg.quick ? 10 : 1000;
  const probeDepth = 100;
  const raw: WorkerRpc = (await openRaw(name, 'strict')).rpc;
  await raw.call('seedChain', 'probe', probeDepth, 0);
  await seedStore(name, (s) => s.call('seedChain', 'probe', probeDepth, 0));
  const cases: CaseRun[] = [];
  const memory: MemoryPoint[] = [];
  for (const size of cfg.scaling) {
    const grown = Math.max(0, size - probeDepth);
    await seedStore(name, (s) => s.call('seedGrowth', 'grow-', growThreads, grown));
    await raw.call('seedGrowth', 'grow-', growThreads, grown);
    const heapName = `heap-${size}-${RUN}`;
    const ours = await openOurs(name, 'strict', heapName);
    let counter = size;
    cases.push({
      id: `scaling-append-${size}`,
      group: 'scaling',
      title: `appendMessage (strict) with ${size.toLocaleString('en')} messages in the database`,
      params: { messages: size },
      contenders: await interleave(
        [
          { name: 'ours-strict', batch: sequential(cfg.batch, () => ours.appendMessage('probe', 'user', messageContent(counter), messageItem(counter++))) },
          { name: 'raw-strict', batch: sequential(cfg.batch, () => raw.call('appendMessage', 'probe', 'user', messageContent(counter), messageItem(counter++))) },
        ],
        cfg.rounds,
      ),
    });
    cases.push({
      id: `scaling-list-${size}`,
      group: 'scaling',
      title: `listMessages(probe, 100) with ${size.toLocaleString('en')} messages in the database`,
      params: { messages: size },
      contenders: await interleave(
        [
          { name: 'ours', batch: sequential(cfg.batch, () => ours.listMessages('probe', 100)) },
          { name: 'raw', batch: sequential(cfg.batch, () => raw.call('listMessages', 'probe', 100)) },
        ],
        cfg.rounds,
      ),
    });
    const rawHeap = await raw.call<{ heapBytes: number; sqliteBytes: number | null }>('heap');
    memory.push({ contender: 'ours', messages: size, heapBytes: await hostedHeap(heapName), sqliteBytes: null });
    memory.push({ contender: 'raw', messages: size, heapBytes: rawHeap.heapBytes, sqliteBytes: rawHeap.sqliteBytes });
    await ours.close();
  }
  await closeRaw(raw);
  return { cases, memory, notes: [] };
}
