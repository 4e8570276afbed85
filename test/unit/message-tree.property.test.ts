import { describe, expect, it } from 'vitest';
import { StoreError, createMemoryStore } from '../../src/core.js';
import type { JsonValue, MemoryStore, MessageRecord } from '../../src/core.js';
import { mulberry32 } from '../support/random.js';

/**
 * A randomized walk over the message tree: appends, forks, leaf moves, clears and thread deletions on
 * several threads, checked after every step against a plain reference model. The PRNG is seeded, so
 * a failure replays exactly: TREE_SEED=<seed> npx vitest run test/unit/message-tree.property.test.ts
 */

const DEFAULT_SEED = 0x7ee5eed;
const SEED = process.env['TREE_SEED'] === undefined ? DEFAULT_SEED : Number(process.env['TREE_SEED']) >>> 0;
const STEPS = 3_000;
const DEFAULT_LIST_LIMIT = 500;
// Once per run, 300 steps before the end (which bounds its cost), one thread grows a branch longer than listMessages' default limit.
const LONG_BRANCH = DEFAULT_LIST_LIMIT + 20;


class Random {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
}

/** The reference model: messages by id, and each live thread's current leaf. */
class Model {
  readonly messages = new Map<number, MessageRecord>();
  /** Live threads and their current leaf; a deleted thread is absent. */
  readonly leaf = new Map<string, number | null>();
  /** Ids that existed once and were deleted (cleared or cascaded). */
  readonly gone: number[] = [];
  maxId = 0;
  // Indexes kept only so that checking every thread after every step stays fast.
  private readonly byThread = new Map<string, MessageRecord[]>();
  private readonly childCount = new Map<number, number>();

  messagesOf(threadId: string): readonly MessageRecord[] {
    return this.byThread.get(threadId) ?? [];
  }

  add(m: MessageRecord): void {
    this.messages.set(m.id, m);
    const mine = this.byThread.get(m.threadId);
    if (mine) mine.push(m);
    else this.byThread.set(m.threadId, [m]);
    if (m.parentEntryId !== null) this.childCount.set(m.parentEntryId, (this.childCount.get(m.parentEntryId) ?? 0) + 1);
    this.leaf.set(m.threadId, m.id);
    this.maxId = Math.max(this.maxId, m.id);
  }

  removeMessagesOf(threadId: string): number {
    const mine = this.messagesOf(threadId);
    for (const m of mine) {
      this.messages.delete(m.id);
      this.childCount.delete(m.id);
      this.gone.push(m.id);
    }
    // Parents are always in the same thread, so no other thread's child counts change.
    this.byThread.delete(threadId);
    return mine.length;
  }

  /** The current branch, oldest first, cut to the `limit` messages nearest the leaf. */
  branch(threadId: string, limit = DEFAULT_LIST_LIMIT): MessageRecord[] {
    const path: MessageRecord[] = [];
    for (let id = this.leaf.get(threadId) ?? null; id !== null && path.length < limit; ) {
      const m = this.messages.get(id)!;
      path.push(m);
      id = m.parentEntryId;
    }
    return path.reverse();
  }

  /** Messages of the thread that are nobody's parent, by id. */
  leaves(threadId: string): number[] {
    return this.messagesOf(threadId)
      .filter((m) => !this.childCount.has(m.id))
      .map((m) => m.id)
      .sort((a, b) => a - b);
  }
}

function threadInput(id: string, at: number) {
  return { id, preview: `preview ${id}`, ephemeral: false, modelProvider: 'test', createdAt: at, updatedAt: at, status: 'idle' as const, cwd: '/', cliVersion: '1.0', source: 'api' as const };
}

/** Fails unless `fn` throws StoreError NOT_FOUND. */
function expectNotFound(fn: () => unknown, where: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `${where}: expected StoreError NOT_FOUND, nothing was thrown`).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code, `${where}: ${(caught as Error).message}`).toBe('NOT_FOUND');
}

// JSON comparison first, so that the common case stays cheap; toEqual only to show a diff.
function expectSame<T>(actual: T, expected: T, where: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) expect(actual, where).toEqual(expected);
}

describe('the message tree under random operations', () => {
  it(`matches a reference model after every one of ${STEPS} steps (seed ${SEED})`, async () => {
    const rnd = new Random(SEED);
    let clock = 1_700_000_000;
    const store: MemoryStore = await createMemoryStore({ now: () => clock });
    const model = new Model();
    const threadIds = Array.from({ length: 3 + rnd.int(3) }, (_, i) => `thread-${i}`);
    const recent: string[] = [];
    const counts: Record<string, number> = {};
    let deepest = 0;

    for (const t of threadIds) {
      store.upsertThread(threadInput(t, clock));
      model.leaf.set(t, null);
    }

    const live = () => threadIds.filter((t) => model.leaf.has(t));
    const dead = () => threadIds.filter((t) => !model.leaf.has(t));
    const withMessages = () => live().filter((t) => model.messagesOf(t).length > 0);

    function newMessage(threadId: string, parent: number | null, step: number): Omit<MessageRecord, 'id'> {
      const role = rnd.pick(['user', 'assistant', 'tool']);
      const item: JsonValue | null = rnd.chance(0.3) ? { step, kind: role, parts: [step % 7, 'x'] } : null;
      return { threadId, role, content: `step ${step}`, item, createdAt: clock, parentEntryId: parent };
    }

    function checkAll(where: string): void {
      for (const t of threadIds) {
        const thread = store.getThread(t);
        if (!model.leaf.has(t)) {
          expect(thread, `${where}: deleted ${t} is still there`).toBeNull();
          expectSame(store.listMessages(t), [], `${where}: listMessages(${t}) of a deleted thread`);
          expectSame(store.listLeafMessages(t), [], `${where}: listLeafMessages(${t}) of a deleted thread`);
          continue;
        }
        expect(thread?.currentLeafId, `${where}: currentLeafId of ${t}`).toBe(model.leaf.get(t));
        const branch = store.listMessages(t);
        expectSame(branch, model.branch(t), `${where}: listMessages(${t})`);
        if (branch.length > 0) deepest = Math.max(deepest, model.branch(t, Infinity).length);
        expectSame(store.listLeafMessages(t).map((m) => m.id), model.leaves(t), `${where}: listLeafMessages(${t})`);
      }
    }

    checkAll(`seed ${SEED}, before any step`);

    for (let step = 0; step < STEPS; step++) {
      if (rnd.chance(0.5)) clock += 1;
      const roll = rnd.int(100);
      let op = '';
      const where = () => `seed ${SEED} (rerun with TREE_SEED=${SEED}), step ${step}: ${op}\n  recent: ${recent.slice(-8).join(' | ')}`;

      if (step === STEPS - 300) {
        const t = live()[0] ?? threadIds[0]!;
        op = `grow ${t} by ${LONG_BRANCH}`;
        if (!model.leaf.has(t)) {
          store.upsertThread(threadInput(t, clock));
          model.leaf.set(t, null);
        }
        for (let i = 0; i < LONG_BRANCH; i++) {
          const m = newMessage(t, model.leaf.get(t) ?? null, step);
          model.add({ id: store.appendMessage(t, m.role, m.content, m.item ?? undefined), ...m });
        }
      } else if (roll < 30) {
        const t = rnd.pick(live().length > 0 ? live() : threadIds);
        op = `appendMessage(${t})`;
        if (!model.leaf.has(t)) {
          expectNotFound(() => store.appendMessage(t, 'user', 'nowhere'), where());
        } else {
          const m = newMessage(t, model.leaf.get(t) ?? null, step);
          const id = store.appendMessage(t, m.role, m.content, m.item ?? undefined);
          op += ` → ${id}`;
          expect(id, `${where()}: ids are never reused nor skipped`).toBe(model.maxId + 1);
          model.add({ id, ...m });
        }
      } else if (roll < 50 && model.messages.size > 0) {
        const parent = rnd.pick([...model.messages.values()]);
        op = `forkAtMessage(${parent.id} in ${parent.threadId})`;
        const m = newMessage(parent.threadId, parent.id, step);
        const id = store.forkAtMessage(parent.id, m.role, m.content, m.item ?? undefined);
        op += ` → ${id}`;
        expect(id, `${where()}: ids are never reused nor skipped`).toBe(model.maxId + 1);
        model.add({ id, ...m });
      } else if (roll < 65 && withMessages().length > 0) {
        const t = rnd.pick(withMessages());
        const target = rnd.pick(model.messagesOf(t));
        op = `setCurrentLeafId(${t}, ${target.id})`;
        store.setCurrentLeafId(t, target.id);
        model.leaf.set(t, target.id);
      } else if (roll < 75) {
        const t = rnd.pick(live().length > 0 ? live() : threadIds);
        const limit = rnd.chance(0.2) ? undefined : 1 + rnd.int(model.branch(t, Infinity).length + 3);
        op = `listMessages(${t}, ${limit})`;
        expectSame(store.listMessages(t, limit), model.leaf.has(t) ? model.branch(t, limit) : [], where());
      } else if (roll < 76) {
        const t = rnd.pick(live().length > 0 ? live() : threadIds);
        op = `clearMessages(${t})`;
        if (!model.leaf.has(t)) {
          expectNotFound(() => store.clearMessages(t), where());
        } else {
          const n = store.clearMessages(t);
          op += ` → ${n}`;
          expect(n, where()).toBe(model.removeMessagesOf(t));
          model.leaf.set(t, null);
        }
      } else if (roll < 77) {
        const t = rnd.pick(threadIds);
        op = `deleteThread(${t})`;
        store.deleteThread(t);
        model.removeMessagesOf(t);
        model.leaf.delete(t);
      } else if (roll < 81 && dead().length > 0) {
        const t = rnd.pick(dead());
        op = `re-create ${t}`;
        store.upsertThread(threadInput(t, clock));
        model.leaf.set(t, null);
      } else if (roll < 84 && live().length > 0) {
        // Re-upserting a thread's metadata never moves its leaf.
        const t = rnd.pick(live());
        op = `upsertThread(${t}) again`;
        store.upsertThread({ ...threadInput(t, clock), preview: `touched at ${step}` });
      } else {
        // Invalid operations: each must throw NOT_FOUND and change nothing (checked below).
        const kind = rnd.int(4);
        const pairs = withMessages();
        if (kind === 0 && pairs.length >= 2) {
          const t = rnd.pick(pairs);
          const foreign = rnd.pick(model.messagesOf(rnd.pick(pairs.filter((x) => x !== t))));
          op = `setCurrentLeafId(${t}, ${foreign.id} of ${foreign.threadId}) [invalid]`;
          expectNotFound(() => store.setCurrentLeafId(t, foreign.id), where());
        } else if (kind === 1 && model.gone.length > 0) {
          const id = rnd.pick(model.gone);
          op = `forkAtMessage(${id}, deleted) [invalid]`;
          expectNotFound(() => store.forkAtMessage(id, 'user', 'into the void'), where());
        } else if (kind === 2 && live().length > 0) {
          const t = rnd.pick(live());
          const id = rnd.chance(0.5) && model.gone.length > 0 ? rnd.pick(model.gone) : model.maxId + 1 + rnd.int(1000);
          op = `setCurrentLeafId(${t}, ${id}, missing) [invalid]`;
          expectNotFound(() => store.setCurrentLeafId(t, id), where());
        } else if (dead().length > 0) {
          const t = rnd.pick(dead());
          const target = model.messages.size > 0 ? rnd.pick([...model.messages.values()]).id : 1;
          op = `setCurrentLeafId(${t}, ${target}) on a deleted thread [invalid]`;
          expectNotFound(() => store.setCurrentLeafId(t, target), where());
        } else {
          const id = model.maxId + 1 + rnd.int(1000);
          op = `forkAtMessage(${id}, never existed) [invalid]`;
          expectNotFound(() => store.forkAtMessage(id, 'user', 'into the void'), where());
        }
      }

      recent.push(op);
      const name = op.replace(/\(.*$/, '').replace(/ .*$/, '') + (op.includes('[invalid]') ? ' [invalid]' : '');
      counts[name] = (counts[name] ?? 0) + 1;
      checkAll(where());
    }

    // The walk must have exercised what it claims to; a change to the weights cannot silently drop an operation.
    for (const name of ['appendMessage', 'forkAtMessage', 'setCurrentLeafId', 'listMessages', 'clearMessages', 'deleteThread', 're-create', 'upsertThread']) {
      expect(counts[name] ?? 0, `seed ${SEED}: ${name} ran ${counts[name] ?? 0} times; counts ${JSON.stringify(counts)}`).toBeGreaterThan(10);
    }
    for (const name of ['setCurrentLeafId [invalid]', 'forkAtMessage [invalid]']) {
      expect(counts[name] ?? 0, `seed ${SEED}: ${name} ran ${counts[name] ?? 0} times; counts ${JSON.stringify(counts)}`).toBeGreaterThan(10);
    }
    // The branch grown near the end must have been listed, cut at the default limit.
    expect(deepest, `seed ${SEED}: the deepest branch listed`).toBeGreaterThan(DEFAULT_LIST_LIMIT);
    store.close();
  });
});
