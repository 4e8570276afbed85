/**
 * The fallback storage bench (`npm run bench:fallback`): where OPFS is missing, what does a strict
 * write cost at 1k, 10k and 100k messages? The store as shipped (memory, each commit's changed pages
 * written to IndexedDB) against the whole-database snapshot per commit (snapshot-worker.ts).
 */
import * as Comlink from 'comlink';
import { openStateStore } from 'agent-state-store';
import type { SnapshotWorker } from './snapshot-worker.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function fallbackBench({ messages, writes }: { messages: number; writes: number }) {
  const name = `fallback-bench-${messages}-${crypto.randomUUID()}`;
  const thread = { id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, name: 'bench' };
  // Seeding, relaxed and 256 in flight (group commit), untimed.
  const seeding = performance.now();
  const seeder = await openStateStore({ name, vfs: 'memory', durability: 'relaxed' });
  await seeder.upsertThread(thread);
  for (let i = 0; i < messages; i += 256) {
    const calls: Promise<number>[] = [];
    for (let k = i; k < Math.min(messages, i + 256); k++) calls.push(seeder.appendMessage('t', 'user', `seed ${k} ${'y'.repeat(160)}`));
    await Promise.all(calls);
  }
  await seeder.close();
  const seededMs = performance.now() - seeding;

  const store = await openStateStore({ name, vfs: 'memory', durability: 'strict' });
  const pages: number[] = [];
  for (let i = 0; i < writes; i++) {
    const started = performance.now();
    await store.appendMessage('t', 'user', `page-level write ${i} ${'x'.repeat(160)}`);
    pages.push(performance.now() - started);
  }
  const info = await store.info();
  const bytes = await store.exportDatabase();
  await store.close();

  const worker = new Worker(new URL('./snapshot-worker.ts', import.meta.url), { type: 'module' });
  const whole = await Comlink.wrap<SnapshotWorker>(worker).run(Comlink.transfer(bytes, [bytes.buffer]), writes);
  worker.terminate();
  return {
    messages,
    writes,
    databaseBytes: info.databaseSizeBytes,
    persistence: info.persistence,
    seededMs: Math.round(seededMs),
    pageLevel: { medianMs: median(pages), meanMs: mean(pages) },
    wholeSnapshot: { medianMs: median(whole.perWriteMs), meanMs: mean(whole.perWriteMs), snapshotBytes: whole.snapshotBytes },
  };
}

Object.assign(window, { fallbackBench });
document.getElementById('status')!.textContent = 'ready';
