/**
 * Read cases: listMessages and getBranch on branches of growing depth (against Dexie too),
 * listLeafMessages on a bushy tree,
 * listThreads over growing thread counts, and the session-index lookups against the seed's re-read.
 */
import type { StateStoreClient } from 'agent-state-store';
import { closeRaw, openOurs, openRaw, pingWorker, rawWorker, RUN, seedStore, writeOpfsFile } from './contenders.js';
import { bushyParents, indexLine } from './data.js';
import { DexieContender } from './dexie.js';
import { IdbContender } from './idb.js';
import { interleave, sequential } from './measure.js';
import type { BenchConfig, CaseRun, PhaseMode, PhaseOutput } from './types.js';

/** Fewer operations per batch for bigger answers (one per round from about 800 rows up), so every case takes a similar time. */
function opsFor(cfg: BenchConfig, size: number): number {
  return Math.max(1, Math.min(cfg.batch, Math.ceil((cfg.batch * 20) / size)));
}

/**
 * listMessages and getBranch on chains 10 … 10,000 deep, and listLeafMessages on a bushy tree. With
 * `mode.contention`: only the store and Dexie, only `cfg.contentionDepths`, ids prefixed
 * `contention-`, with the busy process on while measuring.
 */
export async function readsPhase(cfg: BenchConfig, mode: PhaseMode = {}): Promise<PhaseOutput> {
  const full = !mode.contention;
  const depths = full ? cfg.depths : cfg.contentionDepths;
  const name = `r${full ? '' : 'x'}-${RUN}`;
  const seed = async (call: (op: string, ...args: unknown[]) => Promise<unknown>) => {
    for (const [k, d] of depths.entries()) await call('seedChain', `chain-${d}`, d, k + 1);
    if (full) await call('seedBushy', 'bushy', cfg.bushy, 99);
  };
  await seedStore(name, (s) => seed((op, ...a) => s.call(op, ...a)));
  const ours = await openOurs(name, 'strict');
  const raw = full ? (await openRaw(name, 'strict')).rpc : undefined;
  if (raw) await seed((op, ...a) => raw.call(op, ...a));
  const idb = full ? await IdbContender.open(name) : undefined;
  const dexie = await DexieContender.open(name, 'default');
  for (const [k, d] of depths.entries()) {
    await idb?.seedTree(`chain-${d}`, d, k + 1, false);
    await dexie.seedTree(`chain-${d}`, d, k + 1, false);
  }
  await idb?.seedTree('bushy', cfg.bushy, 99, true);
  const ping = full ? pingWorker() : undefined;
  const prefix = full ? '' : 'contention-';
  const group = (g: string) => (full ? g : 'contention');
  const suffix = full ? '' : ', one core busy';

  const cases: CaseRun[] = [];
  await mode.busy?.(true);
  try {
    for (const d of depths) {
      const n = opsFor(cfg, d);
      const thread = `chain-${d}`;
      cases.push({
        id: `${prefix}list-messages-${d}`,
        group: group('listMessages'),
        title: `listMessages on a branch ${d.toLocaleString('en')} deep${suffix}`,
        params: { depth: d },
        contenders: await interleave(
          [
            { name: 'ours', batch: sequential(n, () => ours.listMessages(thread, d)) },
            { name: 'dexie', batch: sequential(n, () => dexie.listMessages(thread, d)) },
            ...(full
              ? [
                  { name: 'raw', batch: sequential(n, () => raw!.call('listMessages', thread, d)) },
                  { name: 'idb', batch: sequential(n, () => idb!.listMessages(thread, d)) },
                  { name: 'postMessage', batch: sequential(n, () => ping!.call('echo', [thread, d], { kind: 'messages', n: d })) },
                ]
              : []),
          ],
          cfg.rounds,
        ),
      });
      cases.push({
        id: `${prefix}get-branch-${d}`,
        group: group('getBranch'),
        title: `getBranch (with siblings) on a branch ${d.toLocaleString('en')} deep${suffix}`,
        params: { depth: d },
        contenders: await interleave(
          [
            { name: 'ours', batch: sequential(n, () => ours.getBranch(thread, { limit: d })) },
            { name: 'dexie', batch: sequential(n, () => dexie.getBranch(thread, d)) },
          ],
          cfg.rounds,
        ),
      });
    }
    if (full) {
      // Which natural Dexie walk is fastest (the cases above use 'index query + walk in JS').
      const d = Math.min(1000, Math.max(...depths));
      const thread = `chain-${d}`;
      const n = opsFor(cfg, d);
      cases.push({
        id: `dexie-branch-forms-${d}`,
        group: 'experiments',
        title: `Dexie: the current branch ${d.toLocaleString('en')} deep, by the natural forms of the walk`,
        params: { depth: d },
        contenders: await interleave(
          [
            { name: 'index query + walk in JS', batch: sequential(n, () => dexie.listMessages(thread, d)) },
            { name: 'compound range + walk in JS', batch: sequential(n, () => dexie.listMessagesBy('compound-range', thread, d)) },
            { name: 'get per step', batch: sequential(n, () => dexie.listMessagesBy('get-per-step', thread, d)) },
          ],
          cfg.rounds,
        ),
      });
    }
  } finally {
    await mode.busy?.(false);
  }
  dexie.close();
  if (!full) {
    await ours.close();
    return { cases, memory: [], notes: [] };
  }
  const parents = new Set(bushyParents(cfg.bushy));
  const leaves = cfg.bushy - parents.size + (parents.has(-1) ? 1 : 0);
  const n = opsFor(cfg, cfg.bushy / 4);
  cases.push({
    id: 'list-leaves',
    group: 'listLeafMessages',
    title: `listLeafMessages on a bushy tree of ${cfg.bushy.toLocaleString('en')} messages (${leaves} leaves)`,
    params: { messages: cfg.bushy, leaves },
    contenders: await interleave(
      [
        { name: 'ours', batch: sequential(n, () => ours.listLeafMessages('bushy')) },
        { name: 'raw', batch: sequential(n, () => raw!.call('listLeaves', 'bushy')) },
        { name: 'idb', batch: sequential(n, () => idb!.listLeaves('bushy')) },
        { name: 'postMessage', batch: sequential(n, () => ping!.call('echo', ['bushy'], { kind: 'messages', n: leaves })) },
      ],
      cfg.rounds,
    ),
  });
  await Promise.all([ours.close(), closeRaw(raw!)]);
  idb!.close();
  ping!.terminate();
  return { cases, memory: [], notes: [] };
}

/** listThreads(limit 50) as the thread count grows; the store is closed while its database is seeded further. */
export async function threadsPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const name = `t-${RUN}`;
  const raw = (await openRaw(name, 'strict')).rpc;
  const idb = await IdbContender.open(name);
  const ping = pingWorker();
  const cases: CaseRun[] = [];
  let have = 0;
  for (const size of cfg.threadCounts) {
    await seedStore(name, (s) => s.call('seedThreads', 'thread-', have, size));
    await raw.call('seedThreads', 'thread-', have, size);
    await idb.seedThreads('thread-', have, size);
    have = size;
    const ours = await openOurs(name, 'strict');
    cases.push({
      id: `list-threads-${size}`,
      group: 'listThreads',
      title: `listThreads(limit 50) over ${size.toLocaleString('en')} threads`,
      params: { threads: size, limit: 50 },
      contenders: await interleave(
        [
          { name: 'ours', batch: sequential(cfg.batch, () => ours.listThreads({ limit: 50 })) },
          { name: 'raw', batch: sequential(cfg.batch, () => raw.call('listThreads', 50)) },
          { name: 'idb', batch: sequential(cfg.batch, () => idb.listThreads(50)) },
          { name: 'postMessage', batch: sequential(cfg.batch, () => ping.call('echo', [{ limit: 50 }], { kind: 'threads', n: 50 })) },
        ],
        cfg.rounds,
      ),
    });
    await ours.close();
  }
  await closeRaw(raw);
  idb.close();
  ping.terminate();
  return { cases, memory: [], notes: [] };
}

/** findThreadPathByName and findThreadNamesByIds: our in-memory index against re-reading the JSONL per lookup. */
export async function namesPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const cases: CaseRun[] = [];
  const ping = pingWorker();
  for (const size of cfg.indexSizes) {
    const name = `n${size}-${RUN}`;
    const lines = function* () {
      for (let i = 0; i < size; i++) yield indexLine(i);
    };
    await writeOpfsFile(['agent-state-store', name], 'session_index.jsonl', lines());
    await writeOpfsFile(['bench-index'], `${name}.jsonl`, lines());
    const ours: StateStoreClient = await openOurs(name, 'strict');
    const reread = rawWorker();
    await reread.call('openIndex', 'bench-index', `${name}.jsonl`);
    // A different entry each call, asked in other letter case: the seed matches names ignoring ASCII case.
    const wanted = (i: number) => `THREAD NAME ${(i * 7919) % size}`;
    const ids = (i: number) => Array.from({ length: 50 }, (_, k) => `thread-${(i * 50 + k * 977) % size}`);
    const slow = size >= 10_000 ? 2 : Math.max(2, Math.ceil(cfg.batch / 5));
    cases.push({
      id: `find-path-by-name-${size}`,
      group: 'session index',
      title: `findThreadPathByName over ${size.toLocaleString('en')} index entries`,
      params: { entries: size },
      contenders: await interleave(
        [
          { name: 'ours', batch: sequential(cfg.batch, (i) => ours.findThreadPathByName(wanted(i))) },
          { name: 'reread', batch: sequential(slow, (i) => reread.call('findByName', wanted(i))) },
          { name: 'postMessage', batch: sequential(cfg.batch, (i) => ping.call('echo', [wanted(i)], { kind: 'path' })) },
        ],
        cfg.rounds,
      ),
    });
    cases.push({
      id: `find-names-by-ids-${size}`,
      group: 'session index',
      title: `findThreadNamesByIds (50 ids) over ${size.toLocaleString('en')} index entries`,
      params: { entries: size, ids: 50 },
      contenders: await interleave(
        [
          { name: 'ours', batch: sequential(cfg.batch, (i) => ours.findThreadNamesByIds(ids(i))) },
          { name: 'reread', batch: sequential(slow, (i) => reread.call('findNamesByIds', ids(i))) },
          { name: 'postMessage', batch: sequential(cfg.batch, (i) => ping.call('echo', [ids(i)], { kind: 'names', n: 50 })) },
        ],
        cfg.rounds,
      ),
    });
    await ours.close();
    await closeRaw(reread);
  }
  ping.terminate();
  return { cases, memory: [], notes: [] };
}

/**
 * Full-text search over one large conversation: our FTS5 index through the API, the same FTS5 query
 * on the raw engine, and an IndexedDB app's scan of every message. The query is two words, one in
 * every message and one in about twenty, so ranking and snippets have real work.
 */
export async function searchPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const name = `s-${RUN}`;
  const size = cfg.searchMessages;
  await seedStore(name, (s) => s.call('seedChain', 'search', size, 1));
  const ours = await openOurs(name, 'strict');
  const raw = (await openRaw(name, 'strict')).rpc;
  await raw.call('seedChain', 'search', size, 1);
  const idb = await IdbContender.open(name);
  await idb.seedTree('search', size, 1, false);
  const ping = pingWorker();
  const query = 'Message 4242';
  const n = opsFor(cfg, 200);
  const cases: CaseRun[] = [
    {
      id: `search-${size}`,
      group: 'searchMessages',
      title: `searchMessages("${query}", limit 20) over ${size.toLocaleString('en')} messages`,
      params: { messages: size, limit: 20 },
      contenders: await interleave(
        [
          { name: 'ours', batch: sequential(n, () => ours.searchMessages(query, { limit: 20 })) },
          { name: 'raw', batch: sequential(n, () => raw.call('search', query, 20)) },
          { name: 'idb', batch: sequential(n, () => idb.searchScan(query, 20)) },
          { name: 'postMessage', batch: sequential(n, () => ping.call('echo', [query, { limit: 20 }], { kind: 'messages', n: 20 })) },
        ],
        cfg.rounds,
      ),
    },
  ];
  await Promise.all([ours.close(), closeRaw(raw)]);
  idb.close();
  ping.terminate();
  return { cases, memory: [], notes: [] };
}
