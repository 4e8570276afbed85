import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/memory-store.js';

// switchBranch's choice of leaf where the contract suite cannot reach: messages whose ids and
// createdAt disagree (another device's, pulled by sync, whose ids come from another site; here a
// clock set back), and rows another program wrote with a loop in them.

/** A store whose clock reads `clock.now` (Unix seconds). */
async function storeAt(clock: { now: number }) {
  return createMemoryStore({ now: () => clock.now });
}

describe('switchBranch', () => {
  it('lands on the leaf with the newest createdAt, even when an older leaf has the larger id', async () => {
    const clock = { now: 1_000 };
    const store = await storeAt(clock);
    const t = store.createThread({ id: 't' });
    const q = store.addMessage(t.id, { role: 'user', content: 'Q' });
    const a = store.addMessage(t.id, { role: 'assistant', content: 'A' });
    clock.now = 2_000;
    const newer = store.addMessage(t.id, { role: 'user', content: 'written at 2000', parentId: a.id });
    clock.now = 1_500;
    const larger = store.addMessage(t.id, { role: 'user', content: 'written at 1500', parentId: a.id });
    expect(larger.id).toBeGreaterThan(newer.id);
    store.addMessage(t.id, { role: 'assistant', content: 'other answer', parentId: q.id });
    expect(store.switchBranch(t.id, a.id).map((m) => m.content)).toEqual(['Q', 'A', 'written at 2000']);
    store.close();
  });

  it('breaks a createdAt tie by the larger id', async () => {
    const store = await storeAt({ now: 1_000 });
    const t = store.createThread({ id: 't' });
    const q = store.addMessage(t.id, { role: 'user', content: 'Q' });
    store.addMessage(t.id, { role: 'assistant', content: 'first' });
    store.addMessage(t.id, { role: 'assistant', content: 'second', parentId: q.id });
    const third = store.addMessage(t.id, { role: 'assistant', content: 'third', parentId: q.id });
    store.setCurrentLeafId(t.id, q.id);
    expect(store.switchBranch(t.id, q.id).at(-1)?.id).toBe(third.id);
    store.close();
  });

  it('ends on a loop in rows another program wrote: with no leaf below, the message itself is the leaf', async () => {
    const store = await storeAt({ now: 1_000 });
    const t = store.createThread({ id: 't' });
    const a = store.addMessage(t.id, { role: 'user', content: 'a' });
    const b = store.addMessage(t.id, { role: 'assistant', content: 'b' });
    // a ← b ← a: each is the other's parent, so nothing below a has no child.
    store.layer().db.run('UPDATE messages SET parent_entry_id = ?1 WHERE id = ?2', [b.id, a.id]);
    const branch = store.switchBranch(t.id, a.id, { limit: 4 });
    expect(store.getThread(t.id)?.currentLeafId).toBe(a.id);
    // The seed's walk up from a loop stops at the limit.
    expect(branch).toHaveLength(4);
    store.close();
  });

  it('ignores a message of another thread that names this thread\'s message as its parent', async () => {
    const store = await storeAt({ now: 1_000 });
    const t = store.createThread({ id: 't' });
    store.createThread({ id: 'u' });
    const q = store.addMessage(t.id, { role: 'user', content: 'Q' });
    const stray = store.addMessage('u', { role: 'user', content: 'in u' });
    store.layer().db.run('UPDATE messages SET parent_entry_id = ?1 WHERE id = ?2', [q.id, stray.id]);
    expect(store.switchBranch(t.id, q.id).map((m) => m.content)).toEqual(['Q']);
    store.close();
  });
});
