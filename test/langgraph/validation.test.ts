import { deltaChannelHistoryTests, validate } from '@langchain/langgraph-checkpoint-validation';
import initializer from './initializer.js';

/**
 * The official suite, called programmatically (the 1.1.1 CLI refuses every initializer), with no
 * test skipped: channel values are stored once per version, so "should only store channel_values
 * that have changed (based on newVersions)", which MemorySaver and SqliteSaver are exempt from,
 * runs and passes. Its specs use Vitest's globals, hence `globals: true` in this project of vitest.config.ts.
 */
validate(initializer);
// Opt-in in the suite (the method is Beta, and the base class implements it): run them too.
deltaChannelHistoryTests(initializer);
