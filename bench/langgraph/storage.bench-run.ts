import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { emptyCheckpoint, uuid6, type Checkpoint } from '@langchain/langgraph-checkpoint';
import { expect, it } from 'vitest';
import { createMemoryStore } from '../../src/core.js';
import { StateStoreSaver } from '../../src/langgraph/index.js';
import { runTurns, scriptedAgent } from '../../test/support/react-agent.js';

/**
 * LangGraph storage, measured (never asserted): the database after a 100-turn createReactAgent run
 * (checkpoints, bytes), and the time to the first item of `list()` over 10,000 checkpoints of one
 * thread. Writes bench/results/langgraph.json with the load average before and after.
 */
const TURNS = Number(process.env['BENCH_TURNS'] ?? 100);
const CHECKPOINTS = Number(process.env['BENCH_CHECKPOINTS'] ?? 10_000);
const results: Record<string, unknown> = { at: new Date().toISOString(), loadBefore: loadavg() };

function tableBytes(store: Awaited<ReturnType<typeof createMemoryStore>>): Record<string, number> {
  // dbstat is not in every build; sum the stored values instead.
  const sizes: Record<string, number> = {};
  for (const [table, expr] of [
    ['graph_checkpoints', 'length(checkpoint) + length(metadata)'],
    ['graph_checkpoint_writes', 'length(value)'],
    ...(hasTable(store, 'graph_channel_values') ? [['graph_channel_values', 'length(value)']] : []),
  ] as const) {
    sizes[table] = Number(store.layer().db.all(`SELECT coalesce(sum(${expr}), 0) AS n FROM ${table}`)[0]?.['n'] ?? 0);
  }
  return sizes;
}

function hasTable(store: Awaited<ReturnType<typeof createMemoryStore>>, name: string): boolean {
  return store.layer().db.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", [name]).length > 0;
}

it(`a ${TURNS}-turn createReactAgent run: checkpoints and bytes`, async () => {
  const store = await createMemoryStore();
  const agent = scriptedAgent(new StateStoreSaver(store));
  const started = performance.now();
  await runTurns(agent, 'agent-1', TURNS);
  const ms = performance.now() - started;
  const checkpoints = store.listGraphCheckpoints({ threadId: 'agent-1' }).length;
  const fileBytes = store.exportBytes().byteLength;
  results['reactAgent'] = { turns: TURNS, checkpoints, fileBytes, valueBytes: tableBytes(store), runMs: Math.round(ms) };
  expect(checkpoints).toBeGreaterThan(TURNS);
  store.close();
});

it(`the first item of list() over ${CHECKPOINTS} checkpoints of one thread`, async () => {
  const store = await createMemoryStore();
  const saver = new StateStoreSaver(store);
  let config = { configurable: { thread_id: 'long', checkpoint_ns: '' } } as { configurable: Record<string, string> };
  for (let i = 0; i < CHECKPOINTS; i++) {
    const checkpoint: Checkpoint = { ...emptyCheckpoint(), id: uuid6(i), channel_values: { step: i, note: 'x'.repeat(200) }, channel_versions: { step: i + 1, note: 1 } };
    config = (await saver.put(config, checkpoint, { source: 'loop', step: i, parents: {} }, i === 0 ? { step: 1, note: 1 } : { step: i + 1 })) as typeof config;
  }
  const history = { configurable: { thread_id: 'long' } };
  const firstItem: number[] = [];
  for (let round = 0; round < 5; round++) {
    const t0 = performance.now();
    for await (const tuple of saver.list(history)) {
      expect(tuple.checkpoint.channel_values['step']).toBe(CHECKPOINTS - 1);
      break;
    }
    firstItem.push(performance.now() - t0);
  }
  firstItem.sort((a, b) => a - b);
  const t1 = performance.now();
  let count = 0;
  for await (const _ of saver.list(history)) count++;
  results['listFirstItem'] = { checkpoints: CHECKPOINTS, firstItemMs: firstItem.map((x) => Math.round(x * 10) / 10), medianMs: Math.round(firstItem[2]! * 10) / 10, wholeListMs: Math.round(performance.now() - t1), listed: count };
  expect(count).toBe(CHECKPOINTS);
  store.close();
  results['loadAfter'] = loadavg();
  const out = process.env['BENCH_OUT'] ?? 'bench/results/langgraph.json';
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
});
