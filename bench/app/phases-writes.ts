/**
 * Write cases: appendMessage and addMessage one at a time, appendMessage 64 in flight, job progress
 * updates and goal usage, for every contender; then the pragma experiments on the raw engine. Under
 * contention (bench/harness/run.ts keeps a core busy) only the cases the ratios need run,
 * for the store and Dexie.
 */
import type { StateStoreClient } from 'agent-state-store';
import * as Comlink from 'comlink';
import type { ComlinkEchoApi } from './comlink-worker.js';
import { closeRaw, openOurs, openRaw, pingWorker, RUN } from './contenders.js';
import { goalFor, jobUpdate, messageContent, messageItem, threadInput } from './data.js';
import { DexieContender, type DexieDurability } from './dexie.js';
import { IdbContender } from './idb.js';
import { inFlight, interleave, sequential, type Contender } from './measure.js';
import type { WorkerRpc } from './rpc.js';
import type { BenchConfig, CaseRun, PhaseOutput, PhaseMode } from './types.js';

/** What each contender does for one write operation. */
interface Writer {
  name: string;
  append(threadId: string, i: number): Promise<unknown>;
  /** addMessage (the app API) where the contender has it. */
  add?(threadId: string, i: number): Promise<unknown>;
  job(i: number): Promise<unknown>;
  goal(i: number): Promise<unknown>;
  /** The cheapest call there is: one row by primary key. */
  read(): Promise<unknown>;
}

const THREADS = ['seq', 'goal', ...Array.from({ length: 8 }, (_, k) => `fly${k}`)];

function ourWriter(name: string, store: StateStoreClient): Writer {
  return {
    name,
    append: (t, i) => store.appendMessage(t, i % 2 ? 'assistant' : 'user', messageContent(i), messageItem(i)),
    add: (t, i) => store.addMessage(t, { role: i % 2 ? 'assistant' : 'user', content: messageContent(i), item: messageItem(i) }),
    job: (i) => store.upsertJob(jobUpdate('job-1', i)),
    goal: (i) => store.recordThreadGoalUsage('goal', 10, 1, 1_700_000_000 + i),
    read: () => store.getThread('seq'),
  };
}

function rawWriter(name: string, rpc: WorkerRpc): Writer {
  return {
    name,
    append: (t, i) => rpc.call('appendMessage', t, i % 2 ? 'assistant' : 'user', messageContent(i), messageItem(i)),
    job: (i) => rpc.call('upsertJob', jobUpdate('job-1', i)),
    goal: (i) => rpc.call('recordGoalUsage', 'goal', 10, 1, 1_700_000_000 + i),
    read: () => rpc.call('getThread', 'seq'),
  };
}

function idbWriter(name: string, idb: IdbContender, durability: 'strict' | 'relaxed'): Writer {
  return {
    name,
    append: (t, i) => idb.appendMessage(t, i % 2 ? 'assistant' : 'user', messageContent(i), messageItem(i), durability),
    job: (i) => idb.upsertJob(jobUpdate('job-1', i), durability),
    goal: (i) => idb.recordGoalUsage('goal', 10, 1, 1_700_000_000 + i, durability),
    read: () => idb.getThread('seq'),
  };
}

function dexieWriter(name: string, dexie: DexieContender): Writer {
  const none = () => Promise.reject(new Error('not measured for Dexie'));
  return {
    name,
    append: (t, i) => dexie.appendMessage(t, i % 2 ? 'assistant' : 'user', messageContent(i), messageItem(i)),
    add: (t, i) => dexie.addMessage(t, { role: i % 2 ? 'assistant' : 'user', content: messageContent(i), item: messageItem(i) }),
    job: none,
    goal: none,
    read: none,
  };
}

function pingWriter(rpc: WorkerRpc): Writer {
  return {
    name: 'postMessage',
    append: (t, i) => rpc.call('echo', [t, i % 2 ? 'assistant' : 'user', messageContent(i), messageItem(i)], { kind: 'id' }),
    job: (i) => rpc.call('echo', [jobUpdate('job-1', i)], { kind: 'null' }),
    goal: (i) => rpc.call('echo', ['goal', 10, 1, 1_700_000_000 + i], { kind: 'goal' }),
    read: () => rpc.call('echo', ['seq'], { kind: 'threads', n: 1 }),
  };
}

/**
 * appendMessage and addMessage (sequential), appendMessage 64 in flight, upsertJob and
 * recordThreadGoalUsage. With `mode.contention` only the store and Dexie, only the ratio cases, ids
 * prefixed `contention-`, and `mode.busy` is on while they are measured (not while they are set up).
 */
export async function writesPhase(cfg: BenchConfig, mode: PhaseMode = {}): Promise<PhaseOutput> {
  const full = !mode.contention;
  const tag = full ? '' : 'x';
  const oursStrict = await openOurs(`w${tag}-strict-${RUN}`, 'strict');
  const oursRelaxed = await openOurs(`w${tag}-relaxed-${RUN}`, 'relaxed');
  const rawStrict = full ? (await openRaw(`w-strict-${RUN}`, 'strict')).rpc : undefined;
  const rawRelaxed = full ? (await openRaw(`w-relaxed-${RUN}`, 'relaxed')).rpc : undefined;
  const idbStrict = full ? await IdbContender.open(`w-strict-${RUN}`) : undefined;
  const idbRelaxed = full ? await IdbContender.open(`w-relaxed-${RUN}`) : undefined;
  const dexies: [string, DexieContender][] = [];
  for (const d of ['strict', 'default'] as DexieDurability[]) dexies.push([`dexie-${d}`, await DexieContender.open(`w${tag}-${d}-${RUN}`, d)]);
  const ping = full ? pingWorker() : undefined;
  for (const [i, id] of THREADS.entries()) {
    for (const store of [oursStrict, oursRelaxed]) await store.upsertThread(threadInput(id, i + 1));
    for (const rpc of [rawStrict, rawRelaxed]) await rpc?.call('addThread', id, i + 1);
    for (const idb of [idbStrict, idbRelaxed]) await idb?.addThread(id, i + 1, id === 'goal');
    for (const [, dexie] of dexies) await dexie.addThread(id, i + 1);
  }
  for (const store of [oursStrict, oursRelaxed]) await store.upsertThreadGoal(goalFor('goal'));
  for (const rpc of [rawStrict, rawRelaxed]) await rpc?.call('addGoal', 'goal');

  const writers: Writer[] = [
    ourWriter('ours-strict', oursStrict), ourWriter('ours-relaxed', oursRelaxed),
    ...dexies.map(([name, dexie]) => dexieWriter(name, dexie)),
    ...(full
      ? [
          rawWriter('raw-strict', rawStrict!), rawWriter('raw-relaxed', rawRelaxed!),
          idbWriter('idb-strict', idbStrict!, 'strict'), idbWriter('idb-relaxed', idbRelaxed!, 'relaxed'),
          pingWriter(ping!),
        ]
      : []),
  ];
  const each = (make: (w: Writer) => Contender['batch'], only = (_: Writer) => true): Contender[] =>
    writers.filter(only).map((w) => ({ name: w.name, batch: make(w) }));
  const cases: CaseRun[] = [];
  const prefix = full ? '' : 'contention-';
  const add = async (id: string, title: string, params: CaseRun['params'], contenders: Contender[]) =>
    cases.push({ id: `${prefix}${id}`, group: full ? 'writes' : 'contention', title: full ? title : `${title}, one core busy`, params, contenders: await interleave(contenders, cfg.rounds) });
  const notDexie = (w: Writer) => !w.name.startsWith('dexie');

  await mode.busy?.(true);
  try {
    await add('append-sequential', 'appendMessage, one at a time (await each)', { batch: cfg.batch }, each((w) => sequential(cfg.batch, (i) => w.append('seq', i))));
    await add(
      'add-message-sequential',
      'addMessage (app API), one at a time (await each)',
      { batch: cfg.batch },
      each((w) => sequential(cfg.batch, (i) => w.add!('seq', i)), (w) => w.add !== undefined),
    );
    await add(
      'append-64-in-flight',
      'appendMessage, 64 in flight across 8 threads',
      { inFlight: 64, threads: 8, waves: cfg.waves },
      each((w) => inFlight(cfg.waves, 64, (i) => w.append(`fly${i % 8}`, i)), (w) => w.name !== 'postMessage'),
    );
    if (full) {
      await add('upsert-job', 'upsertJob progress update', { batch: cfg.batch }, each((w) => sequential(cfg.batch, (i) => w.job(i)), notDexie));
      await add(
        'get-thread',
        'getThread (one row by key): the per-call floor',
        { batch: cfg.batch },
        each((w) => sequential(cfg.batch, () => w.read()), (w) => notDexie(w) && !w.name.endsWith('-relaxed')),
      );
      await add('goal-usage', 'recordThreadGoalUsage', { batch: cfg.batch }, each((w) => sequential(cfg.batch, (i) => w.goal(i)), notDexie));
    }
  } finally {
    await mode.busy?.(false);
  }

  const commits = (await oursStrict.info()).commits;
  await Promise.all([oursStrict.close(), oursRelaxed.close(), ...[rawStrict, rawRelaxed].map((rpc) => (rpc ? closeRaw(rpc) : undefined))]);
  idbStrict?.close();
  idbRelaxed?.close();
  for (const [, dexie] of dexies) dexie.close();
  ping?.terminate();
  return { cases, memory: [], notes: full ? [`ours-strict committed ${commits} transactions for all its writes (group commit).`] : [] };
}

/** A raw-engine variant: pragmas, and which append statement set it uses. */
interface Variant {
  name: string;
  pre?: string[];
  post?: string[];
  durability: 'strict' | 'relaxed';
}

const VARIANTS: Variant[] = [
  { name: 'truncate+full (store today)', durability: 'strict' },
  { name: 'persist+full', durability: 'strict', post: ['PRAGMA journal_mode = PERSIST', 'PRAGMA synchronous = FULL'] },
  { name: 'truncate+full, exclusive lock', durability: 'strict', post: ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA journal_mode = TRUNCATE', 'PRAGMA synchronous = FULL'] },
  { name: 'wal+exclusive, sync full', durability: 'strict', post: ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = FULL'] },
  { name: 'wal+exclusive, sync normal', durability: 'strict', post: ['PRAGMA locking_mode = EXCLUSIVE', 'PRAGMA journal_mode = WAL', 'PRAGMA synchronous = NORMAL'] },
  { name: 'truncate+full, page 4 KiB', durability: 'strict', pre: ['PRAGMA page_size = 4096'] },
  { name: 'truncate+full, page 16 KiB, cache 16 MiB', durability: 'strict', pre: ['PRAGMA page_size = 16384'], post: ['PRAGMA journal_mode = TRUNCATE', 'PRAGMA synchronous = FULL', 'PRAGMA cache_size = -16384'] },
];

/** Pragma experiments on the raw engine: sequential appendMessage under each variant, interleaved. */
export async function experimentsPhase(cfg: BenchConfig): Promise<PhaseOutput> {
  const notes: string[] = [];
  const opened: { variant: Variant; rpc: WorkerRpc }[] = [];
  for (const [k, variant] of VARIANTS.entries()) {
    const { rpc, opened: facts } = await openRaw(`x${k}-${RUN}`, variant.durability, { ...(variant.pre ? { pre: variant.pre } : {}), ...(variant.post ? { post: variant.post } : {}) });
    await rpc.call('addThread', 'seq', 1);
    notes.push(`${variant.name}: journal_mode=${String(facts['journalMode'])}, page_size=${String(facts['pageSize'])}, synchronous=${String(facts['synchronous'])}`);
    opened.push({ variant, rpc });
  }
  const runs = await interleave(
    opened.map(({ variant, rpc }) => ({ name: variant.name, batch: sequential(cfg.batch, (i) => rpc.call('appendMessage', 'seq', 'user', messageContent(i), messageItem(i))) })),
    cfg.rounds,
  );
  for (const { rpc } of opened) await closeRaw(rpc);

  // Where the client's per-call overhead goes: the bare postMessage round trip, Comlink on top of it,
  // and Comlink plus the one macrotask hop the group commit waits before running a call.
  const ping = pingWorker();
  const worker = new Worker(new URL('./comlink-worker.ts', import.meta.url), { type: 'module', name: 'bench-comlink' });
  const echo = Comlink.wrap<ComlinkEchoApi>(worker);
  const args = ['seq', 'user', messageContent(1), messageItem(1)];
  const floor = await interleave(
    [
      { name: 'postMessage', batch: sequential(cfg.batch, () => ping.call('echo', args, { kind: 'id' })) },
      { name: 'comlink', batch: sequential(cfg.batch, () => echo.echo(args)) },
      { name: 'comlink + group-commit hop', batch: sequential(cfg.batch, () => echo.echoAfterHop(args)) },
    ],
    cfg.rounds,
  );
  ping.terminate();
  echo[Comlink.releaseProxy]();
  worker.terminate();
  return {
    cases: [
      { id: 'experiment-pragmas', group: 'experiments', title: 'raw engine, appendMessage one at a time, by journal/pragma variant', params: { batch: cfg.batch }, contenders: runs },
      { id: 'experiment-call-floor', group: 'experiments', title: 'call floor: postMessage, Comlink, Comlink + one macrotask hop (appendMessage payload, no store)', params: { batch: cfg.batch }, contenders: floor },
    ],
    memory: [],
    notes,
  };
}
