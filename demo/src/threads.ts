import type { DynamicToolRecord, StateStoreClient, ThreadMetadata } from 'agent-state-store';

/** The rollout path a demo thread gets, so the session index can find it by name. */
export function rolloutPathOf(threadId: string): string {
  return `/rollouts/${threadId}.jsonl`;
}

/** The thread id inside a rollout path written by rolloutPathOf, or null for any other path. */
export function threadIdOfRolloutPath(path: string): string | null {
  const match = /^\/rollouts\/(.+)\.jsonl$/.exec(path);
  return match?.[1] ?? null;
}

/** What a thread is called in the UI: its name (given, or its first message's), else its preview. */
export function displayName(thread: Pick<ThreadMetadata, 'name' | 'preview'>): string {
  return thread.name || thread.preview || 'New chat';
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

/**
 * "New chat": a thread described the way an agent CLI describes an interactive session (createThread
 * fills in the rest), with the starter tools. It has no messages; its first user message names it.
 */
export async function createChat(store: StateStoreClient): Promise<string> {
  const id = crypto.randomUUID();
  await store.createThread({
    id,
    rolloutPath: rolloutPathOf(id),
    modelProvider: 'simulated',
    cwd: '/workspace/agent-state-store',
    cliVersion: 'demo-0.2.0',
    source: 'interactive',
    sandboxPolicy: 'workspace-write',
    approvalMode: 'on-request',
    gitBranch: 'main',
  });
  await store.persistDynamicTools(id, STARTER_TOOLS);
  return id;
}
