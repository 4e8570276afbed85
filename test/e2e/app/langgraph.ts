/**
 * A page of its own (so that the main test app does not bundle LangGraph): a real StateGraph whose
 * checkpointer is StateStoreSaver on a store opened through the worker, on OPFS. The Playwright
 * test (langgraph.spec.ts) runs it, reloads the page, resumes and travels back in time.
 */
import { Annotation, END, START, StateGraph } from '@langchain/langgraph/web';
import { openStateStore, type StateStoreClient } from 'agent-state-store';
import { StateStoreSaver } from 'agent-state-store/langgraph';

const TripState = Annotation.Root({
  city: Annotation<string>,
  log: Annotation<string[]>({ reducer: (log, more) => log.concat(more), default: () => [] }),
});

/** plan → book → report, pausing before report (a human would approve the booking there). */
function tripGraph(store: StateStoreClient) {
  return new StateGraph(TripState)
    .addNode('plan', (s) => ({ log: [`plan ${s.city}`] }))
    .addNode('book', (s) => ({ log: [`book ${s.city}`] }))
    .addNode('report', (s) => ({ log: [`report after ${s.log.length} steps`] }))
    .addEdge(START, 'plan')
    .addEdge('plan', 'book')
    .addEdge('book', 'report')
    .addEdge('report', END)
    .compile({ checkpointer: new StateStoreSaver(store), interruptBefore: ['report'] });
}

const configOf = (threadId: string, checkpointId?: string) => ({ configurable: { thread_id: threadId, ...(checkpointId ? { checkpoint_id: checkpointId } : {}) } });

/** Runs the graph on a new thread until it pauses before report. The store stays open, as a user's tab leaves it. */
async function startTrip(storeName: string, threadId: string, city: string) {
  const store = await openStateStore({ name: storeName });
  const graph = tripGraph(store);
  await graph.invoke({ city }, configOf(threadId));
  const state = await graph.getState(configOf(threadId));
  return { values: state.values, next: state.next, vfs: (await store.info()).vfs };
}

/** After a reload: reads where the thread paused, from its checkpoint, and resumes it to the end. */
async function resumeTrip(storeName: string, threadId: string) {
  const store = await openStateStore({ name: storeName });
  const graph = tripGraph(store);
  const paused = await graph.getState(configOf(threadId));
  const values = await graph.invoke(null, configOf(threadId));
  return { paused: { values: paused.values, next: paused.next }, values };
}

/** The thread's history, newest first, as a time-travel UI lists it. */
async function tripHistory(storeName: string, threadId: string) {
  const store = await openStateStore({ name: storeName });
  const graph = tripGraph(store);
  const history = [];
  for await (const state of graph.getStateHistory(configOf(threadId))) {
    history.push({
      checkpointId: state.config.configurable?.['checkpoint_id'] as string,
      parentId: (state.parentConfig?.configurable?.['checkpoint_id'] as string | undefined) ?? null,
      step: state.metadata?.step,
      next: state.next,
      log: state.values['log'],
    });
  }
  await store.close();
  return history;
}

/** Time travel: runs the thread again from an earlier checkpoint, which forks a new branch. */
async function replayFrom(storeName: string, threadId: string, checkpointId: string) {
  const store = await openStateStore({ name: storeName });
  const graph = tripGraph(store);
  await graph.invoke(null, configOf(threadId, checkpointId));
  const state = await graph.getState(configOf(threadId));
  await store.close();
  return { values: state.values, next: state.next, parentId: (state.parentConfig?.configurable?.['checkpoint_id'] as string | undefined) ?? null };
}

declare global {
  interface Window {
    langgraph: { startTrip: typeof startTrip; resumeTrip: typeof resumeTrip; tripHistory: typeof tripHistory; replayFrom: typeof replayFrom };
  }
}

window.langgraph = { startTrip, resumeTrip, tripHistory, replayFrom };
document.getElementById('status')!.textContent = 'ready';
