/**
 * The React page the hook tests drive: useThreads as a list and useBranch as a chat with the
 * ‹ index+1/count › switcher (its ‹ and › buttons call useBranch's switchBranch), in StrictMode, on
 * the store named by `?store=`. Written with createElement so the test app needs no JSX setup. The test changes the props through
 * `window.reactPage` and reads what was rendered, how often, and how many live queries run.
 */
import { createElement as h, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { openStateStore, type StateStoreClient } from 'agent-state-store';
import { useBranch, useThreads, type LiveStore } from 'agent-state-store/react';
import type { BranchMessage } from 'agent-state-store';

/** What the page shows; the test sets it. */
export interface PageProps {
  selected: string | null;
  list: boolean;
  chat: boolean;
}

/** The store as the hooks see it, counting the live queries they start and those still running. */
function countingStore(store: LiveStore) {
  const counts = { started: 0, active: 0 };
  const track = (stop: () => void) => {
    counts.started++;
    counts.active++;
    let stopped = false;
    return () => {
      if (!stopped) counts.active--;
      stopped = true;
      stop();
    };
  };
  const counted: LiveStore = {
    watchBranch: (threadId, listener, options) => track(store.watchBranch(threadId, listener, options)),
    watchThreads: (options, listener) => track(store.watchThreads(options, listener)),
    switchBranch: (threadId, messageId, options) => store.switchBranch(threadId, messageId, options),
  };
  return { counted, counts };
}

const store: StateStoreClient = await openStateStore({ name: new URLSearchParams(location.search).get('store') ?? 'react' });
const { counted, counts } = countingStore(store);
/** Renders per component (StrictMode renders twice in development; the tests compare orders of magnitude). */
const renders = { list: 0, chat: 0 };
/** Every chat render: the selected thread and the threads of the messages it showed. */
const chatLog: { selected: string | null; shown: string[] }[] = [];
const errors: string[] = [];

function ThreadList() {
  renders.list++;
  const threads = useThreads(counted);
  if (!threads) return h('p', { id: 'threads-loading' }, 'loading threads');
  return h('ul', { id: 'threads' }, threads.map((t) => h('li', { key: t.id, 'data-id': t.id }, t.name ?? t.preview)));
}

function Chat({ threadId }: { threadId: string | null }) {
  renders.chat++;
  const { branch, switchBranch } = useBranch(counted, threadId, { onError: (e) => errors.push((e as Error & { code?: string }).code ?? e.message) });
  const to = (m: BranchMessage, step: number) => () => {
    const target = m.siblings.ids[m.siblings.index + step];
    if (target !== undefined) void switchBranch(target).catch((e: Error & { code?: string }) => errors.push(e.code ?? e.message));
  };
  chatLog.push({ selected: threadId, shown: [...new Set(branch?.map((m) => m.threadId) ?? [])] });
  if (!branch) return h('p', { id: 'branch-loading' }, 'loading messages');
  return h(
    'ol',
    { id: 'branch', 'data-thread': threadId },
    branch.map((m) =>
      h('li', { key: m.id, 'data-thread': m.threadId, 'data-status': m.status }, h('span', { className: 'content' }, m.content), ' ',
        h('span', { className: 'siblings' }, `‹ ${m.siblings.index + 1}/${m.siblings.count} ›`),
        h('button', { className: 'previous', onClick: to(m, -1) }, '‹'), h('button', { className: 'next', onClick: to(m, 1) }, '›')),
    ),
  );
}

function Page({ selected, list, chat }: PageProps) {
  return h('main', null, list ? h(ThreadList) : null, chat ? h(Chat, { threadId: selected }) : null);
}

const root = createRoot(document.getElementById('root')!);
let props: PageProps = { selected: null, list: true, chat: true };
const render = (change: Partial<PageProps>) => {
  props = { ...props, ...change };
  root.render(h(StrictMode, null, h(Page, props)));
};
render({});

const reactPage = { store, counts, renders, chatLog, errors, render };
Object.assign(window, { reactPage });
declare global {
  interface Window {
    reactPage: typeof reactPage;
  }
}
document.getElementById('status')!.textContent = 'ready';
