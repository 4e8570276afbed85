import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { StateStoreClient } from '../../src/client/open.js';
import type { StateStore } from '../../src/core/store.js';
import type { BranchMessage } from '../../src/core/types.js';
import { createMemoryStore, type MemoryStore } from '../../src/core.js';
import { useBranch, useThreads, type LiveStore } from '../../src/react/index.js';
import { liveSource, type LiveSource } from '../../src/react/source.js';

// Both stores fit the hooks' parameter; this file would not typecheck otherwise.
const fitsCore = (store: StateStore): LiveStore => store;
const fitsClient = (store: StateStoreClient): LiveStore => store;
void fitsCore;
void fitsClient;

// The hooks are useSyncExternalStore over a LiveSource. Node has no DOM to render into, so these
// tests drive a source the way React does (subscribe, getSnapshot after each notification, and
// StrictMode's subscribe, unsubscribe, subscribe); the Chromium spec renders the hooks for real.

/** A store that counts its live queries still running. */
function counted(store: MemoryStore): { store: LiveStore; active: () => number } {
  let active = 0;
  const track = (stop: () => void) => {
    active++;
    let stopped = false;
    return () => {
      if (!stopped) active--;
      stopped = true;
      stop();
    };
  };
  return {
    store: {
      watchBranch: (threadId, listener, options) => track(store.watchBranch(threadId, listener, options)),
      watchThreads: (options, listener) => track(store.watchThreads(options, listener)),
      switchBranch: (threadId, messageId, options) => store.switchBranch(threadId, messageId, options),
    },
    active: () => active,
  };
}

function branchSource(store: LiveStore, threadId: string): LiveSource<BranchMessage[]> {
  return liveSource((listener) => store.watchBranch(threadId, listener));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function chat(): Promise<{ store: MemoryStore; threadId: string }> {
  const store = await createMemoryStore();
  const { id } = store.createThread({ title: 'Lisbon' });
  store.addMessage(id, { role: 'user', content: 'Three days in Lisbon?' });
  return { store, threadId: id };
}

describe('react: the live source under the hooks', () => {
  it('has no value before it is subscribed, and the branch at once when subscribed to the core', async () => {
    const { store, threadId } = await chat();
    const source = branchSource(store, threadId);
    expect(source.getSnapshot()).toBeUndefined();
    let notified = 0;
    source.subscribe(() => notified++);
    expect(notified).toBe(1);
    expect(source.getSnapshot()?.map((m) => m.content)).toEqual(['Three days in Lisbon?']);
  });

  it('returns the same array from every getSnapshot until the result changes', async () => {
    const { store, threadId } = await chat();
    const source = branchSource(store, threadId);
    source.subscribe(() => {});
    const first = source.getSnapshot();
    expect(source.getSnapshot()).toBe(first);
    store.saveCheckpoint(threadId, 'c1', { step: 1 }); // touches the thread, not its branch
    await settle();
    expect(source.getSnapshot()).toBe(first);
    store.addMessage(threadId, { role: 'assistant', content: 'Day 1: Alfama' });
    await settle();
    expect(source.getSnapshot()).not.toBe(first);
    expect(source.getSnapshot()?.map((m) => m.content)).toEqual(['Three days in Lisbon?', 'Day 1: Alfama']);
  });

  it('notifies once for a burst of changes, and not for a change to another thread', async () => {
    const { store, threadId } = await chat();
    const other = store.createThread().id;
    const source = branchSource(store, threadId);
    let notified = 0;
    source.subscribe(() => notified++);
    store.addMessage(other, { role: 'user', content: 'elsewhere' });
    await settle();
    expect(notified).toBe(1);
    const id = store.beginMessage(threadId, 'assistant');
    for (let i = 0; i < 100; i++) store.appendMessageDelta(id, `${i} `);
    await settle();
    expect(notified).toBe(2);
  });

  it("survives StrictMode's subscribe, unsubscribe, subscribe: one query left running, the same array, no extra notification", async () => {
    const { store: memory, threadId } = await chat();
    const { store, active } = counted(memory);
    const source = branchSource(store, threadId);
    let notified = 0;
    source.subscribe(() => notified++)();
    const before = source.getSnapshot();
    const stop = source.subscribe(() => notified++);
    expect(active()).toBe(1);
    expect(notified).toBe(1);
    expect(source.getSnapshot()).toBe(before);
    stop();
    expect(active()).toBe(0);
  });

  it('stops notifying once unsubscribed and keeps its last value', async () => {
    const { store, threadId } = await chat();
    const source = branchSource(store, threadId);
    let notified = 0;
    const stop = source.subscribe(() => notified++);
    const last = source.getSnapshot();
    stop();
    store.addMessage(threadId, { role: 'assistant', content: 'after' });
    await settle();
    expect(notified).toBe(1);
    expect(source.getSnapshot()).toBe(last);
  });
});

describe('react: the hooks on the server', () => {
  it('render "not loaded" (undefined) and subscribe to nothing', async () => {
    const { store: memory, threadId } = await chat();
    const { store, active } = counted(memory);
    function View() {
      const threads = useThreads(store);
      const { branch } = useBranch(store, threadId);
      const { branch: none } = useBranch(store, null);
      return createElement('p', null, `${threads === undefined}/${branch === undefined}/${none === undefined}`);
    }
    expect(renderToString(createElement(View))).toBe('<p>true/true/true</p>');
    expect(active()).toBe(0);
  });
});

describe('react: useBranch switchBranch', () => {
  /** useBranch's result, from one server render (hooks run, effects do not). */
  function renderedBranch(store: LiveStore, threadId: string | null): ReturnType<typeof useBranch> {
    let result: ReturnType<typeof useBranch> | undefined;
    function View() {
      result = useBranch(store, threadId);
      return null;
    }
    renderToString(createElement(View));
    return result!;
  }

  it('switches the thread the hook shows, and resolves to the new branch', async () => {
    const { store, threadId } = await chat();
    const [question] = store.getBranch(threadId);
    const first = store.addMessage(threadId, { role: 'assistant', content: 'Alfama' });
    store.addMessage(threadId, { role: 'user', content: 'and the evening?' });
    store.addMessage(threadId, { role: 'assistant', content: 'Belém', parentId: question!.id });
    const { switchBranch } = renderedBranch(counted(store).store, threadId);
    const branch = await switchBranch(first.id);
    expect(branch.map((m) => m.content)).toEqual(['Three days in Lisbon?', 'Alfama', 'and the evening?']);
    expect(store.getBranch(threadId)).toEqual(branch);
  });

  it('rejects with INVALID_ARGUMENT when the hook has no thread', async () => {
    const { store } = await chat();
    const { switchBranch } = renderedBranch(counted(store).store, null);
    await expect(switchBranch(1)).rejects.toMatchObject({ name: 'StoreError', code: 'INVALID_ARGUMENT', details: { field: 'threadId' } });
  });

  it("passes on switchBranch's own errors: NOT_FOUND for a message of another thread", async () => {
    const { store, threadId } = await chat();
    const other = store.createThread({});
    const elsewhere = store.addMessage(other.id, { role: 'user', content: 'elsewhere' });
    const { switchBranch } = renderedBranch(counted(store).store, threadId);
    await expect(switchBranch(elsewhere.id)).rejects.toMatchObject({ name: 'StoreError', code: 'NOT_FOUND' });
  });
});
