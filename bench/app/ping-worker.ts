/**
 * Baseline 1: the postMessage floor. It answers each request with a reply of the same shape and size
 * as the store's answer to the same call, built once and cached, so the round trip costs only the
 * two structured clones and the hops between threads.
 */
import { serve } from './rpc.js';
import { messageContent } from './data.js';

/** The shape of the answer the ping worker sends back. */
export type ReplySpec = { kind: 'id' } | { kind: 'null' } | { kind: 'messages'; n: number } | { kind: 'threads'; n: number } | { kind: 'names'; n: number } | { kind: 'goal' } | { kind: 'path' };

const cache = new Map<string, unknown>();

function build(spec: ReplySpec): unknown {
  switch (spec.kind) {
    case 'id':
      return 123456;
    case 'null':
      return null;
    case 'path':
      return '/rollouts/12345.jsonl';
    case 'messages':
      return Array.from({ length: spec.n }, (_, i) => ({
        id: i + 1, threadId: 'thread-x', role: i % 2 ? 'assistant' : 'user', content: messageContent(i),
        item: { type: 'message', seq: i }, createdAt: 1_700_000_000 + i, parentEntryId: i === 0 ? null : i,
      }));
    case 'threads':
      return Array.from({ length: spec.n }, (_, i) => ({
        id: `thread-${i}`, rolloutPath: null, preview: `thread ${i}`, ephemeral: false, modelProvider: 'openai', createdAt: 1_700_000_000 + i,
        updatedAt: 1_700_000_000 + i, status: 'idle', path: null, cwd: '/work', cliVersion: '1.0.0', source: 'api', name: `Thread ${i}`,
        sandboxPolicy: null, approvalMode: null, archived: false, archivedAt: null, gitSha: null, gitBranch: null, gitOriginUrl: null,
        memoryMode: null, currentLeafId: null,
      }));
    case 'names':
      return Object.fromEntries(Array.from({ length: spec.n }, (_, i) => [`thread-${i}`, `Thread name ${i}`]));
    case 'goal':
      return { threadId: 'g', goalId: 'g1', objective: 'ship it', status: 'active', tokenBudget: 1e9, tokensUsed: 10, timeUsedSeconds: 1, continuationCount: 0, createdAt: 1, updatedAt: 2 };
  }
}

serve({
  echo(_payload: unknown, spec: ReplySpec) {
    const key = JSON.stringify(spec);
    if (!cache.has(key)) cache.set(key, build(spec));
    return cache.get(key);
  },
});
