import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/core.js';
import type { StoreChange } from '../../src/core/changes.js';
import { watchBranch, watchThreads, type LiveHost } from '../../src/core/live.js';
import { openStateStore, StoreError } from '../../src/index.js';
import { RETRY_FIRST_MS, RETRY_MAX_MS, retryDelay } from '../../src/sync/engine.js';
import { probeRefusal, syncProbeUrl, syncSocketUrl } from '../../worker/sync-connection.js';

/** The StoreError an openStateStore call is refused with (the options are checked before any worker starts). */
async function refusal(options: Parameters<typeof openStateStore>[0]): Promise<StoreError> {
  const error: unknown = await openStateStore(options).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

const getToken = () => 'token';

describe('openStateStore sync option', () => {
  it('refuses a sync option that is not an object', async () => {
    for (const sync of [null, 'http://x/stores/a', 42]) {
      const error = await refusal({ name: 'a', sync: sync as never });
      expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'sync']);
    }
  });

  it('refuses a url that is not an absolute http or https URL', async () => {
    for (const url of [undefined, 42, '', '/stores/a', 'stores/a', 'ws://127.0.0.1:8787/stores/a', 'ftp://example.com/stores/a', 'javascript:alert(1)']) {
      const error = await refusal({ name: 'a', sync: { url: url as never, getToken } });
      expect([error.code, error.details?.['field']], String(url)).toEqual(['INVALID_ARGUMENT', 'sync.url']);
    }
  });

  it('refuses a url with a query, a fragment or credentials, which the endpoints would misplace', async () => {
    for (const url of ['http://127.0.0.1:8787/stores/a?x=1', 'http://127.0.0.1:8787/stores/a#top', 'https://user:pw@example.com/stores/a']) {
      const error = await refusal({ name: 'a', sync: { url, getToken } });
      expect([error.code, error.details?.['field']], url).toEqual(['INVALID_ARGUMENT', 'sync.url']);
    }
  });

  it('refuses a getToken that is not a function', async () => {
    for (const token of [undefined, 'token', { token: 't' }]) {
      const error = await refusal({ name: 'a', sync: { url: 'http://127.0.0.1:8787/stores/a', getToken: token as never } });
      expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'sync.getToken']);
    }
  });
});

describe('sync endpoints', () => {
  it('turns http into ws and https into wss, with the token as access_token', () => {
    expect(syncSocketUrl('http://127.0.0.1:8787/stores/alice', 'abc')).toBe('ws://127.0.0.1:8787/stores/alice/sync?access_token=abc');
    expect(syncSocketUrl('https://example.com/stores/alice', 'abc')).toBe('wss://example.com/stores/alice/sync?access_token=abc');
  });

  it('encodes a token that is not URL-safe', () => {
    expect(syncSocketUrl('https://example.com/s/a', 'a+b/c=&d e')).toBe('wss://example.com/s/a/sync?access_token=a%2Bb%2Fc%3D%26d%20e');
  });

  it('probes the same endpoint over plain HTTP', () => {
    expect(syncProbeUrl('https://example.com/stores/alice')).toBe('https://example.com/stores/alice/sync');
  });
});

describe('probe answers', () => {
  it('reads the router\'s error body', () => {
    const body = JSON.stringify({ error: { code: 'FORBIDDEN', message: 'this token is for another store' } });
    expect(probeRefusal(403, body)).toEqual({ code: 'FORBIDDEN', message: 'this token is for another store' });
    expect(probeRefusal(401, JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'expired' } }))).toEqual({ code: 'UNAUTHORIZED', message: 'expired' });
  });

  it('falls back on the status when the body is not the router\'s', () => {
    expect(probeRefusal(401, '<html>login</html>')?.code).toBe('UNAUTHORIZED');
    expect(probeRefusal(403, '')?.code).toBe('FORBIDDEN');
    expect(probeRefusal(401, JSON.stringify({ error: { code: 'NOPE' } }))?.code).toBe('UNAUTHORIZED');
  });

  it('sees no refusal in a good answer or an unexplained failure', () => {
    expect(probeRefusal(204, '')).toBeNull();
    expect(probeRefusal(502, '<html>bad gateway</html>')).toBeNull();
  });
});

describe('reconnect backoff', () => {
  it('doubles from half a second and stops at ten seconds', () => {
    const longest = [0, 1, 2, 3, 4, 5, 6, 50].map((attempt) => retryDelay(attempt, 1));
    expect(longest).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(RETRY_FIRST_MS).toBe(500);
    expect(RETRY_MAX_MS).toBe(10_000);
  });

  it('spreads each delay over the upper half of its step', () => {
    expect([0, 3, 9].map((attempt) => retryDelay(attempt, 0))).toEqual([250, 2000, 5000]);
    for (let i = 0; i < 100; i++) {
      const delay = retryDelay(2);
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });
});

describe('sync notices and the live queries', () => {
  /** A host for the core's live queries over a memory store, whose change feed the test can also post to. */
  async function liveHost() {
    const store = await createMemoryStore();
    const listeners = new Set<(change: StoreChange) => void>();
    const reads = { branch: 0, threads: 0 };
    const host: LiveHost = {
      getBranch: (id, options) => (reads.branch++, store.getBranch(id, options)),
      listThreads: (filters) => (reads.threads++, store.listThreads(filters)),
      onChange: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
      schedule: (fn) => queueMicrotask(fn),
    };
    const post = async (change: StoreChange) => {
      for (const l of listeners) l(change);
      await new Promise((r) => setTimeout(r, 0));
    };
    return { store, host, reads, post };
  }
  const syncNotice: StoreChange = { kind: 'sync', method: null, threadId: null, id: null, sync: { state: 'syncing', pending: 3, rejected: 0, lastError: null, cursor: 7 } };

  it('a sync notice re-runs neither watchBranch nor watchThreads; a pulled message does', async () => {
    const { store, host, reads, post } = await liveHost();
    const thread = store.createThread({ title: 't' });
    const stops = [watchBranch(host, thread.id, () => {}), watchThreads(host, {}, () => {})];
    await post(syncNotice);
    expect(reads).toEqual({ branch: 1, threads: 1 });
    // A change pulled from another device: method null, like the core's applyPulled gives.
    await post({ kind: 'message', method: null, threadId: thread.id, id: 1 });
    expect(reads).toEqual({ branch: 2, threads: 2 });
    for (const stop of stops) stop();
  });
});
