import type { ThreadGoalRecord } from 'agent-state-store';
import { nowSeconds, type App } from './app.js';
import { countTokens, planReply, tokenize, type ToolCall } from './agent.js';
import { startReply, type ReplyWriter } from './reply-writer.js';
import { updateThread } from './threads.js';

/**
 * One simulated agent turn: the thread goes "running", a tool call is shown, the answer streams out
 * token by token (20–40 ms apart) while the reply writer persists it in coalesced batches and the
 * goal is charged for the tokens, then the thread goes back to "idle".
 */
export class AgentRun {
  text = '';
  toolCalls: ToolCall[] = [];
  stopped = false;
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
  stop(): void {
    this.stopped = true;
  }

  /** Tells the view something was streamed. */
  notify(): void {
    for (const listener of this.#listeners) listener();
  }
}

const runs = new Map<string, AgentRun>();

/** The run streaming in a thread right now, if any. */
export function activeRun(threadId: string): AgentRun | undefined {
  return runs.get(threadId);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Options of replyTo. */
export interface ReplyRequest {
  /** The message the reply answers; the reply becomes its child. */
  parentId: number;
  /** What the user said (or the instruction, for a continuation). */
  prompt: string;
}

// Charges the goal for what was streamed; a goal that runs over budget is marked budget_limited once.
async function chargeGoal(app: App, threadId: string, tokens: number, seconds: number): Promise<void> {
  const goal: ThreadGoalRecord | null = await app.store.recordThreadGoalUsage(threadId, tokens, seconds, nowSeconds());
  if (goal && goal.status === 'active' && goal.tokenBudget !== null && goal.tokensUsed >= goal.tokenBudget) {
    await app.store.upsertThreadGoal({ ...goal, status: 'budget_limited' });
  }
  if (goal) await app.changed('goal');
}

/** Streams and stores the agent's reply to `request.parentId`; resolves when it is written. */
export async function replyTo(app: App, threadId: string, request: ReplyRequest): Promise<void> {
  if (runs.has(threadId)) return;
  const run = new AgentRun(threadId);
  runs.set(threadId, run);
  let writer: ReplyWriter | undefined;
  try {
    const thread = await app.store.getThread(threadId);
    if (thread && !thread.archived) await updateThread(app.store, threadId, { status: 'running' });

    const [tools, goal, context] = await Promise.all([
      app.store.getDynamicTools(threadId),
      app.store.getThreadGoal(threadId),
      app.store.listMessages(threadId),
    ]);
    const plan = planReply(request.prompt, tools, context.length, goal?.objective);
    let elapsedMs = 0;
    let chargedSeconds = 0;
    // A real model is charged for reading the whole context every turn, not only for what it writes.
    const promptTokens = countTokens(context.map((m) => m.content).join('\n'));
    let promptCharged = false;
    writer = await startReply(app.store, threadId, {
      parentId: request.parentId,
      onError: (error) => app.report(error),
      onFlush: async (delta) => {
        if (!goal) return;
        const seconds = Math.floor(elapsedMs / 1000) - chargedSeconds;
        chargedSeconds += seconds;
        const tokens = countTokens(delta) + (promptCharged ? 0 : promptTokens);
        promptCharged = true;
        await chargeGoal(app, threadId, tokens, seconds);
      },
    });
    run.messageId = writer.messageId;
    await app.changed('messages', 'threads');

    for (const call of plan.toolCalls) {
      await sleep(120);
      run.toolCalls.push(call);
      run.notify();
    }
    for (const token of tokenize(plan.text)) {
      if (run.stopped) break;
      const delay = 20 + Math.random() * 20;
      await sleep(delay);
      elapsedMs += delay;
      run.text += token;
      writer.push(token);
      run.notify();
    }
    await writer.finish({ type: 'assistant_turn', toolCalls: run.toolCalls, stopped: run.stopped, model: 'simulated' }, run.stopped ? 'cancelled' : 'complete');
    if (thread && !thread.archived) await updateThread(app.store, threadId, { status: 'idle' });
  } catch (error) {
    app.report(error);
    await writer?.fail();
    await app.run(async () => {
      const thread = await app.store.getThread(threadId);
      if (thread && !thread.archived) await updateThread(app.store, threadId, { status: 'failed' });
    });
  } finally {
    runs.delete(threadId);
    await app.changed('messages', 'threads', 'goal', 'storage');
  }
}
