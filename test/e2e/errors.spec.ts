import { expect, test } from './fixtures.js';

test('NOT_FOUND, INVALID_ARGUMENT and CLOSED reach the page as StoreError instances with code and details', async ({ app }) => {
  const seen = await app.evaluate(async () => {
    const store = await window.openStateStore({ name: `errors-${crypto.randomUUID()}` });
    const capture = async (fn: () => Promise<unknown>) => {
      try {
        await fn();
        return null;
      } catch (e) {
        const err = e as InstanceType<typeof window.StoreError>;
        return { isStoreError: e instanceof window.StoreError, isError: e instanceof Error, name: err.name, code: err.code, details: err.details ?? null, message: err.message };
      }
    };
    const notFound = await capture(() => store.appendMessage('missing-thread', 'user', 'hi'));
    const invalid = await capture(() => store.upsertJob({ id: 'j', name: 'n', status: 'queued', progress: 101, detail: null, createdAt: 1, updatedAt: 1 }));
    const uncloneable = await capture(() => store.saveCheckpoint('t', 'c', { fn: () => 1 } as never));
    await store.close();
    const closed = await capture(() => store.listThreads());
    return { notFound, invalid, uncloneable, closed };
  });
  expect(seen.notFound).toMatchObject({ isStoreError: true, isError: true, name: 'StoreError', code: 'NOT_FOUND', details: { threadId: 'missing-thread' } });
  expect(seen.invalid).toMatchObject({ isStoreError: true, code: 'INVALID_ARGUMENT', details: { field: 'job.progress' } });
  expect(seen.uncloneable).toMatchObject({ isStoreError: true, code: 'INVALID_ARGUMENT' });
  expect(seen.closed).toMatchObject({ isStoreError: true, code: 'CLOSED' });
});

test('openStateStore refuses bad options with INVALID_ARGUMENT', async ({ app }) => {
  const codes = await app.evaluate(async () => {
    const out: string[] = [];
    for (const options of [{ name: '../escape' }, { vfs: 'indexeddb' }, { durability: 'eventual' }]) {
      try {
        await window.openStateStore(options as never);
        out.push('opened');
      } catch (e) {
        out.push(`${(e as { code: string }).code}:${String((e as { details?: { field?: string } }).details?.field)}`);
      }
    }
    return out;
  });
  expect(codes).toEqual(['INVALID_ARGUMENT:name', 'INVALID_ARGUMENT:vfs', 'INVALID_ARGUMENT:durability']);
});
