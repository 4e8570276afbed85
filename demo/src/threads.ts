import type { DynamicToolRecord, StateStoreClient, ThreadInput, ThreadMetadata } from 'agent-state-store';
import { nowSeconds } from './app.js';

/** The rollout path a demo thread gets, so the session index can find it by name. */
export function rolloutPathOf(threadId: string): string {
  return `/rollouts/${threadId}.jsonl`;
}

/** The thread id inside a rollout path written by rolloutPathOf, or null for any other path. */
export function threadIdOfRolloutPath(path: string): string | null {
  const match = /^\/rollouts\/(.+)\.jsonl$/.exec(path);
  return match?.[1] ?? null;
}

/** What a thread is called in the UI: its session-index name, else its preview. */
export function displayName(name: string | null | undefined, thread: Pick<ThreadMetadata, 'preview'>): string {
  return name || thread.preview || 'New conversation';
}

/** The tools a new thread starts with, so the agent has something to call. */
export const STARTER_TOOLS: DynamicToolRecord[] = [
  {
    position: 0,
    name: 'search_docs',
    description: 'Search the project documentation.',
    inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
  {
    position: 1,
    name: 'run_tests',
    description: 'Run the test suite and report failures.',
    inputSchema: { type: 'object', properties: { filter: { type: 'string' }, watch: { type: 'boolean' } } },
  },
];

export const SYSTEM_PROMPT = 'You are a helpful coding agent. Think briefly, call a tool when it helps, and answer concisely.';

/**
 * Creates a thread the way an agent CLI would describe an interactive session, with the root system
 * message every branch grows from (so that even the first user message can be edited and resent:
 * forking needs a parent message) and the starter tools.
 */
export async function createThread(store: StateStoreClient): Promise<string> {
  const id = crypto.randomUUID();
  const now = nowSeconds();
  const thread: ThreadInput = {
    id,
    rolloutPath: rolloutPathOf(id),
    preview: '',
    ephemeral: false,
    modelProvider: 'simulated',
    createdAt: now,
    updatedAt: now,
    status: 'idle',
    cwd: '/workspace/agent-state-store',
    cliVersion: 'demo-0.1.0',
    source: 'interactive',
    name: null,
    sandboxPolicy: 'workspace-write',
    approvalMode: 'on-request',
    gitBranch: 'main',
  };
  await store.upsertThread(thread);
  await store.appendMessage(id, 'system', SYSTEM_PROMPT);
  await store.persistDynamicTools(id, STARTER_TOOLS);
  return id;
}

/**
 * Changes some of a thread's metadata. upsertThread replaces every column, so the thread is read
 * fresh right before; a rename also reaches the session index through it.
 */
export async function updateThread(store: StateStoreClient, id: string, patch: Partial<ThreadInput>): Promise<void> {
  const thread = await store.getThread(id);
  if (!thread) return;
  const { currentLeafId: _leaf, ...rest } = thread;
  await store.upsertThread({ ...rest, ...patch, updatedAt: Math.max(nowSeconds(), thread.updatedAt) });
}
