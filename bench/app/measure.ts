import type { Measured } from './types.js';

/** One contender of a case: a name and a batch of operations it runs per round. */
export interface Contender {
  name: string;
  batch(): Promise<{ samples: number[]; elapsedMs: number }>;
}

/** A batch of `n` operations, each awaited before the next; `op` gets a counter that never repeats. */
export function sequential(n: number, op: (i: number) => Promise<unknown>): () => Promise<{ samples: number[]; elapsedMs: number }> {
  let counter = 0;
  return async () => {
    const samples: number[] = [];
    const start = performance.now();
    for (let k = 0; k < n; k++) {
      const t = performance.now();
      await op(counter++);
      samples.push(performance.now() - t);
    }
    return { samples, elapsedMs: performance.now() - start };
  };
}

/** `waves` waves of `width` operations started together; a wave ends when all of them have settled. */
export function inFlight(waves: number, width: number, op: (i: number) => Promise<unknown>): () => Promise<{ samples: number[]; elapsedMs: number }> {
  let counter = 0;
  return async () => {
    const samples: number[] = [];
    const start = performance.now();
    for (let w = 0; w < waves; w++) {
      await Promise.all(
        Array.from({ length: width }, async () => {
          const t = performance.now();
          await op(counter++);
          samples.push(performance.now() - t);
        }),
      );
    }
    return { samples, elapsedMs: performance.now() - start };
  };
}

/**
 * Runs every contender's batch once to warm up (discarded), then `rounds` rounds in which each
 * contender runs one batch, the order rotating each round. Interleaving makes the contenders share
 * whatever else the machine is doing, so their ratios hold even when absolute numbers drift.
 */
export async function interleave(contenders: Contender[], rounds: number): Promise<Record<string, Measured>> {
  const out: Record<string, Measured> = {};
  for (const c of contenders) {
    await c.batch();
    out[c.name] = { samples: [], elapsedMs: 0, ops: 0 };
  }
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const c = contenders[(r + k) % contenders.length]!;
      const { samples, elapsedMs } = await c.batch();
      const m = out[c.name]!;
      m.samples.push(...samples);
      m.elapsedMs += elapsedMs;
      m.ops += samples.length;
    }
  }
  return out;
}
