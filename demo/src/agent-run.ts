import { StoreError, type ThreadGoalRecord } from 'agent-state-store';
import { hasCode, nowSeconds, type App } from './app.js';
import { countTokens, planReply, tokenize, type ToolCall } from './agent.js';
import { startReply, type ReplyWriter } from './reply-writer.js';

/**
 * One simulated agent turn: the agent checks its goal (a goal that is budget_limited stops it before
 * it starts), the thread goes "running", the reply is begun with its tool calls, the answer streams
 * out token by token (20–40 ms apart) while the reply writer persists it in coalesced batches and the
 * goal is charged for the tokens (running over the budget marks the goal budget_limited and stops
 * the reply there), then the thread goes back to "idle".
 */

/** Why a run ended before its text did. */
export type StopReason = 'user' | 'budget_limited';

export class AgentRun {
  text = '';
  toolCalls: ToolCall[] = [];
  stopReason: StopReason | null = null;
  /** The stored streaming message this run fills, once beginMessage has answered. */
  messageId: number | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(readonly threadId: string) {}

  /** Calls `listener` on every streamed token; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops streaming; what was streamed so far is kept as the reply. */
  stop(reason: StopReason = 'user'): void {
    this.stopReason ??= reason;
  }

  /** Tells the view something was streamed. */
  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

const runs = new Map<string, AgentRun>();
const runListeners = new Set<(threadId: string) => void>();

/** The run streaming in a thread right now, if any. */
export function activeRun(threadId: string): AgentRun | undefined {
  return runs.get(threadId);
}

/** Calls `listener` with the thread's id whenever a run starts or ends. */
export function onRunsChanged(listener: (threadId: string) => void): () => void {
  runListeners.add(listener);
  return () => runListeners.delete(listener);
}

function setRun(threadId: string, run: AgentRun | null): void {
  if (run) runs.set(threadId, run);
  else runs.delete(threadId);
  for (const listener of runListeners) listener(threadId);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the goal lets the agent spend more tokens. */
export function budgetExhausted(goal: ThreadGoalRecord | null): boolean {
  return goal?.status === 'budget_limited';
}

/** Options of replyTo. */
export interface ReplyRequest {
  /** The message the reply answers; the reply becomes its child. */
  parentId: number;
  /** What the user said (or the instruction, for a continuation). */
  prompt: string;
}

// Charges the goal for what was streamed. A goal that runs over its budget is marked budget_limited
// once; either way, a goal that is budget_limited now (here or by another tab) stops the run.
async function chargeGoal(app: App, run: AgentRun, tokens: number, seconds: number): Promise<void> {
  const goal = await app.store.recordThreadGoalUsage(run.threadId, tokens, seconds, nowSeconds());
  if (!goal) return;
  let status = goal.status;
  if (status === 'active' && goal.tokenBudget !== null && goal.tokensUsed >= goal.tokenBudget) {
    status = 'budget_limited';
    await app.store.upsertThreadGoal({ ...goal, status });
  }
  if (status === 'budget_limited') run.stop('budget_limited');
}

async function setStatus(app: App, threadId: string, status: 'running' | 'idle' | 'failed'): Promise<void> {
  const thread = await app.store.getThread(threadId);
  // An archived thread keeps "archived" as its status.
  if (thread && !thread.archived) await app.store.updateThread(threadId, { status });
}

/** Streams and stores the agent's reply to `request.parentId`; resolves when it is written. */
export async function replyTo(app: App, threadId: string, request: ReplyRequest): Promise<void> {
  if (runs.has(threadId)) return;
  const run = new AgentRun(threadId);
  setRun(threadId, run);
  let writer: ReplyWriter | undefined;
  try {
    const [tools, goal, context] = await Promise.all([
      app.store.getDynamicTools(threadId),
      app.store.getThreadGoal(threadId),
      app.store.getBranch(threadId),
    ]);
    if (budgetExhausted(goal)) {
      app.notice('The agent did not answer: the goal has used its token budget (budget limited).');
      return;
    }
    await setStatus(app, threadId, 'running');
    const plan = planReply(request.prompt, tools, context.length, goal?.objective);
    let elapsedMs = 0;
    let chargedSeconds = 0;
    // A real model is charged for reading the whole context every turn, not only for what it writes.
    const promptTokens = countTokens(context.map((m) => m.content).join('\n'));
    let promptCharged = false;
    writer = await startReply(app.store, threadId, {
      parentId: request.parentId,
      item: { type: 'assistant_turn', model: 'simulated', toolCalls: plan.toolCalls },
      onFlush: async (delta) => {
        if (!goal) return;
        const seconds = Math.floor(elapsedMs / 1000) - chargedSeconds;
        chargedSeconds += seconds;
        const tokens = countTokens(delta) + (promptCharged ? 0 : promptTokens);
        promptCharged = true;
        await chargeGoal(app, run, tokens, seconds);
      },
    });
    run.messageId = writer.messageId;
    run.toolCalls = plan.toolCalls;
    run.notify();

    await sleep(plan.toolCalls.length > 0 ? 300 : 120);
    for (const token of tokenize(plan.text)) {
      if (run.stopReason || writer.error !== undefined) break;
      const delay = 20 + Math.random() * 20;
      await sleep(delay);
      elapsedMs += delay;
      run.text += token;
      writer.push(token);
      run.notify();
    }
    const stopped = run.stopReason !== null;
    await writer.finish(
      { type: 'assistant_turn', model: 'simulated', toolCalls: run.toolCalls, stopped, ...(run.stopReason ? { stopReason: run.stopReason } : {}) },
      stopped ? 'cancelled' : 'complete',
    );
    await setStatus(app, threadId, 'idle');
  } catch (error) {
    // One failure, one message: the writer stopped at its first error and nothing after it is tried.
    app.report(
      hasCode(error, 'REPLACED')
        ? new StoreError('REPLACED', 'The reply stopped: a database was imported (in this tab or another) while it streamed, so the message it was writing is gone.', { cause: error })
        : error,
    );
    await writer?.fail();
    // The thread is gone, or it is another database's now: nothing of this run is left to mark.
    if (!hasCode(error, 'NOT_FOUND', 'REPLACED')) await setStatus(app, threadId, 'failed').catch(() => {});
  } finally {
    setRun(threadId, null);
  }
}
