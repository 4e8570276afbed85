import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import type { TestAPI } from 'vitest';
import initializer from './initializer.js';

/**
 * The official suite, called programmatically (the 1.1.1 CLI refuses every initializer). Its specs
 * use Vitest's globals, hence `globals: true` in this project of vitest.config.ts.
 *
 * One test is skipped, the one LangGraph's own MemorySaver and SqliteSaver are exempt from: like
 * them, the saver stores each checkpoint whole, not only the channels that changed. It is skipped
 * the way the suite skips it for them (it.skip, the reason in the name), by wrapping the global `it`
 * that the suite's specs call.
 */
const EXEMPT = 'should only store channel_values that have changed (based on newVersions)';
const REASON = 'StateStoreSaver stores whole checkpoints, as MemorySaver and SqliteSaver do';

// Vitest installs its globals on globalThis (this project has `globals: true`).
const globals = globalThis as unknown as { it: TestAPI };
const original = globals.it;
globals.it = new Proxy(original, {
  apply(target, thisArg, args: Parameters<typeof original>) {
    const [name, ...rest] = args;
    if (name === EXEMPT) return target.skip(`[because ${REASON}] ${name}`, ...(rest as [never]));
    return Reflect.apply(target, thisArg, args);
  },
});

validate(initializer);
// Opt-in in the suite (the method is Beta, and the base class implements it): run them too.
deltaChannelHistoryTests(initializer);
