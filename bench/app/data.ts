/**
 * The records every contender writes, generated the same way for all of them, so that payload sizes
 * (and therefore clone and I/O costs) are equal.
 */
import { mulberry32 } from '../../test/support/random.js';

/** A small deterministic PRNG, so the bushy tree has the same shape in every contender. */
export const prng = mulberry32;

/** A message body of about 200 characters, like a short chat turn. */
export function messageContent(i: number): string {
  const base = `Message ${i}: the agent considered the request, called a tool, and summarised what it found for the user. `;
  return (base + base).slice(0, 200);
}

/** The structured item stored beside a message. */
export function messageItem(i: number): { type: string; seq: number } {
  return { type: 'message', seq: i };
}

/** A thread as the store's upsertThread takes it; `i` orders it by update time, every 10th is archived. */
export function threadInput(id: string, i: number) {
  const archived = i % 10 === 0;
  return {
    id,
    preview: `thread ${i}`,
    ephemeral: false,
    modelProvider: 'openai',
    createdAt: 1_700_000_000 + i,
    updatedAt: 1_700_000_000 + i,
    status: archived ? ('archived' as const) : ('idle' as const),
    cwd: '/work',
    cliVersion: '1.0.0',
    source: 'api' as const,
    name: `Thread ${i}`,
    archived,
    archivedAt: archived ? 1_700_000_000 + i : null,
  };
}

/** A job progress update. */
export function jobUpdate(id: string, i: number) {
  return { id, name: 'index repository', status: 'running' as const, progress: i % 101, detail: `step ${i}`, createdAt: 1_700_000_000, updatedAt: 1_700_000_000 + i };
}

/** A goal for the usage case. */
export function goalFor(threadId: string) {
  return {
    threadId, goalId: 'g1', objective: 'ship it', status: 'active' as const, tokenBudget: 1_000_000_000,
    tokensUsed: 0, timeUsedSeconds: 0, continuationCount: 0, createdAt: 1_700_000_000, updatedAt: 1_700_000_000,
  };
}


/** Parent (as an index into the tree, or -1 for the root) of each node of a bushy tree of `count` nodes. */
export function bushyParents(count: number, seed = 7): number[] {
  const random = prng(seed);
  // Parents drawn from the most recent 16 nodes: many short side branches, like retried turns.
  return Array.from({ length: count }, (_, i) => (i === 0 ? -1 : Math.max(0, i - 1 - Math.floor(random() * 16))));
}

/** The session-index line for entry `i`, in the seed's byte format. */
export function indexLine(i: number): string {
  return JSON.stringify({ thread_id: `thread-${i}`, thread_name: `Thread name ${i}`, updated_at: 1_700_000_000 + i, rollout_path: `/rollouts/${i}.jsonl` }) + '\n';
}
