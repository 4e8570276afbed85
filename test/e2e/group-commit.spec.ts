import { expect, test } from './fixtures.js';

test('200 concurrent appends on 10 threads all land with intact chains, share commits, and one invalid call rejects alone', async ({ app }) => {
  const result = await app.evaluate(async () => {
    const store = await window.openStateStore({ name: `group-${crypto.randomUUID()}` });
    const threads = Array.from({ length: 10 }, (_, i) => `t${i}`);
    for (const id of threads) {
      await store.upsertThread({ id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
    }
    const commitsBefore = (await store.info()).commits ?? 0;
    const calls: Promise<number>[] = [];
    for (let i = 0; i < 200; i++) calls.push(store.appendMessage(threads[i % 10]!, 'user', `m${i}`));
    // One bad call in the middle of the burst.
    calls.splice(100, 0, store.appendMessage('t0', '', 'empty role is invalid'));
    const settled = await Promise.allSettled(calls);
    const commitsAfter = (await store.info()).commits ?? 0;
    const chains: Record<string, { contents: string[]; linked: boolean; leafIsLast: boolean }> = {};
    for (const id of threads) {
      const messages = await store.listMessages(id, 1000);
      const thread = await store.getThread(id);
      chains[id] = {
        contents: messages.map((m) => m.content),
        linked: messages.every((m, i) => (i === 0 ? m.parentEntryId === null : m.parentEntryId === messages[i - 1]!.id)),
        leafIsLast: thread?.currentLeafId === messages[messages.length - 1]?.id,
      };
    }
    await store.close();
    return {
      fulfilled: settled.filter((s) => s.status === 'fulfilled').length,
      rejected: settled.flatMap((s, i) => (s.status === 'rejected' ? [{ i, code: (s.reason as { code: string }).code }] : [])),
      commits: commitsAfter - commitsBefore,
      chains,
    };
  });
  expect(result.fulfilled).toBe(200);
  expect(result.rejected).toEqual([{ i: 100, code: 'INVALID_ARGUMENT' }]);
  for (let t = 0; t < 10; t++) {
    const chain = result.chains[`t${t}`]!;
    expect(chain.contents).toEqual(Array.from({ length: 20 }, (_, k) => `m${t + 10 * k}`));
    expect(chain.linked).toBe(true);
    expect(chain.leafIsLast).toBe(true);
  }
  // Group commit: far fewer transactions than calls (the info() calls add one commit each).
  expect(result.commits).toBeLessThan(50);
});
