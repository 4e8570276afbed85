import type { CheckpointSaverTestInitializer } from '@langchain/langgraph-checkpoint-validation';
import { createMemoryStore, type MemoryStore } from '../../src/core.js';
import { StateStoreSaver } from '../../src/langgraph/index.js';

/**
 * LangGraph's checkpointer validation suite (@langchain/langgraph-checkpoint-validation) over
 * StateStoreSaver: each checkpointer gets a fresh in-memory store of its own, so nothing one writes
 * is seen by another, and is closed afterwards.
 */
const initializer: CheckpointSaverTestInitializer<StateStoreSaver> = {
  checkpointerName: 'agent-state-store',
  async createCheckpointer() {
    return new StateStoreSaver(await createMemoryStore());
  },
  destroyCheckpointer(saver) {
    (saver.store as MemoryStore).close();
  },
};

export default initializer;
