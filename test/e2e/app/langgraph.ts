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

/** Bytes cross page.evaluate as `{ $bytes: base64 }`, both ways (as the edge router carries them). */
function decodeBytes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeBytes);
  if (typeof value !== 'object' || value === null) return value;
  if (typeof (value as { $bytes?: unknown }).$bytes === 'string') return Uint8Array.from(atob((value as { $bytes: string }).$bytes), (c) => c.charCodeAt(0));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeBytes(v)]));
}

function encodeBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: btoa(Array.from(value, (b) => String.fromCharCode(b)).join('')) };
  if (Array.isArray(value)) return value.map(encodeBytes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeBytes(v)]));
}

const clients = new Map<string, Promise<StateStoreClient>>();

/**
 * One call of the store's graph methods through the client (the page → the worker → OPFS), for
 * LangGraph's validation suite, which runs in the Playwright process (langgraph-validation.spec.ts).
 */
async function graphCall(storeName: string, method: string, args: unknown[]): Promise<unknown> {
  if (!clients.has(storeName)) clients.set(storeName, openStateStore({ name: storeName }));
  const store = (await clients.get(storeName)!) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  return encodeBytes(await store[method]!(...(decodeBytes(args) as unknown[])));
}

declare global {
  interface Window {
    langgraph: {
      startTrip: typeof startTrip; resumeTrip: typeof resumeTrip; tripHistory: typeof tripHistory; replayFrom: typeof replayFrom; graphCall: typeof graphCall;
    };
  }
}

window.langgraph = { startTrip, resumeTrip, tripHistory, replayFrom, graphCall };
document.getElementById('status')!.textContent = 'ready';
