import * as Comlink from 'comlink';
import { readFileSync } from 'node:fs';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../src/core.js';
import { engineLoadError, loadEngine } from '../../src/driver/engine.js';
import { openStateStore, StoreError } from '../../src/index.js';
import { useBranch, useThreads, type LiveStore } from '../../src/react/index.js';
import { installErrorTransfer } from '../../src/wire.js';
import { makeWorkerApi, type WorkerApi } from '../../worker/api.js';
import { probeRefusal } from '../../worker/sync-connection.js';

// The errors a new user meets in the first hour (docs/troubleshooting.md lists them): each is a
// StoreError whose code a program can test and whose message says what to do, not only what failed.

/** The StoreError that `run` throws or rejects with. */
async function storeError(run: () => unknown): Promise<StoreError> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(caught)}`);
  return caught;
}

const refusal = (options: unknown) => storeError(() => openStateStore(options as never));
const getToken = () => 'token';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('openStateStore with bad options: INVALID_ARGUMENT naming the option and what it takes', () => {
  it('something other than an options object', async () => {
    for (const options of ['chat', 42, null, ['chat']]) {
      const error = await refusal(options);
      expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'options']);
      expect(error.message).toContain("openStateStore({ name: 'chat' })");
    }
  });

  it('a misspelt option, which would otherwise be ignored without a word', async () => {
    const error = await refusal({ name: 'chat', durabilty: 'relaxed' });
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'durabilty']);
    expect(error.message).toMatch(/no option "durabilty"; its options are name, vfs, durability, worker, recoverOnStart, sync/);
  });

  it('a name with characters a store name cannot hold', async () => {
    const error = await refusal({ name: 'my chat' });
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'name']);
    expect(error.message).toMatch(/letters, digits.*e\.g\. "chat".*got "my chat"/);
  });

  it('a vfs, durability or recoverOnStart outside their values', async () => {
    const cases: Array<[object, string, RegExp]> = [
      [{ vfs: 'indexeddb' }, 'vfs', /auto, opfs-sahpool, opfs or memory \(leave it out for auto\); got "indexeddb"/],
      [{ durability: 'eventual' }, 'durability', /strict or relaxed \(leave it out for strict\); got "eventual"/],
      [{ recoverOnStart: 'yes' }, 'recoverOnStart', /true or false; got "yes"/],
    ];
    for (const [options, field, message] of cases) {
      const error = await refusal(options);
      expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', field]);
      expect(error.message).toMatch(message);
    }
  });

  it('a worker option that is not a Worker (a script URL, say)', async () => {
    const error = await refusal({ worker: '/my-worker.js' });
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'worker']);
    expect(error.message).toMatch(/a Worker whose module calls serve\(\) from 'agent-state-store\/worker'/);
  });
});

describe('openStateStore with a wrong sync option: INVALID_ARGUMENT with an example of a right one', () => {
  it("a ws(s) URL, where the store's http(s) URL is wanted", async () => {
    const error = await refusal({ sync: { url: 'wss://example.com/stores/alice', getToken } });
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'sync.url']);
    expect(error.message).toMatch(/must be the http\(s\) URL \(the socket's wss URL is made from it\)/);
    expect(error.message).toContain('e.g. "https://example.com/stores/alice"');
  });

  it('a relative URL', async () => {
    const error = await refusal({ sync: { url: '/stores/alice', getToken } });
    expect(error.details?.['field']).toBe('sync.url');
    expect(error.message).toMatch(/absolute http or https URL: give the store's URL on the edge router, e.g\./);
  });

  it('a token where getToken, a function, is wanted', async () => {
    const error = await refusal({ sync: { url: 'https://example.com/stores/alice', getToken: 'secret' } });
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'sync.getToken']);
    expect(error.message).toMatch(/a function that returns the token \(or a promise of it\), e\.g\. \(\) => session\.token/);
    // The refusal never repeats the token itself.
    expect(error.message).toMatch(/; got string$/);
    expect(error.message).not.toContain('secret');
  });

  it('a URL with credentials in it, which the refusal does not repeat', async () => {
    const error = await refusal({ sync: { url: 'https://alice:hunter2@example.com/stores/alice', getToken } });
    expect(error.details?.['field']).toBe('sync.url');
    expect(error.message).toMatch(/must not carry credentials \(getToken gives them\).*got a URL with credentials for example\.com$/);
    expect(error.message).not.toContain('hunter2');
  });
});

describe("a sync.url that is not the router's: the probe's answer becomes NOT_FOUND in info().sync.lastError", () => {
  it('a 404 from something other than the router', () => {
    expect(probeRefusal(404, 'Cannot GET /api/sync', 'https://example.com/api')).toEqual({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^https:\/\/example\.com\/api\/sync answered 404, so sync\.url is not a store's URL on the edge router: .*e\.g\. "https:\/\/example\.com\/stores\/alice"/),
    });
  });

  it("the app's own page, which a dev server or SPA host gives for any path", () => {
    expect(probeRefusal(200, '<!doctype html><html><body><div id="root"></div>', 'http://localhost:5173/stores/alice')).toEqual({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/^http:\/\/localhost:5173\/stores\/alice\/sync answered 200 with a web page, so sync\.url is not/),
    });
  });

  it("keeps the router's own 404 as it is", () => {
    const body = JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    expect(probeRefusal(404, body, 'https://example.com/stores/alice')).toEqual({ code: 'NOT_FOUND', message: 'no such route' });
  });
});

describe("openStateStore where the store's worker cannot run: STORAGE with details.reason and what to change", () => {
  it('outside a browser (Node has no Worker): use createMemoryStore', async () => {
    vi.stubGlobal('Worker', undefined);
    const error = await refusal({ name: 'chat' });
    expect([error.code, error.details?.['reason']]).toEqual(['STORAGE', 'no-worker']);
    expect(error.message).toMatch(/needs a browser page.*createMemoryStore\(\) from 'agent-state-store\/core'/);
  });

  it("a page whose policy refuses the worker (new Worker throws): the CSP directive and the bundler's settings", async () => {
    vi.stubGlobal(
      'Worker',
      class {
        constructor() {
          throw new Error("Refused to create a worker because it violates the Content Security Policy directive: \"script-src 'none'\"");
        }
      },
    );
    const error = await refusal({ name: 'chat' });
    expect([error.code, error.details?.['reason']]).toEqual(['STORAGE', 'worker-create']);
    expect(error.message).toMatch(/could not be created \(Refused to create a worker.*\): allow same-origin workers .*worker-src 'self'/);
    expect(error.message).toContain("add '@sqlite.org/sqlite-wasm' and 'agent-state-store' to optimizeDeps.exclude and set worker.format to 'es'");
  });

  it("a worker script that does not load (a bundler that moved it): the Vite settings", async () => {
    // A Worker whose script 404s: it fires `error` and never answers a message.
    vi.stubGlobal(
      'Worker',
      class extends EventTarget {
        constructor() {
          super();
          setTimeout(() => this.dispatchEvent(new Event('error')), 10);
        }
        postMessage(): void {}
        terminate(): void {}
      },
    );
    const error = await refusal({ name: 'chat' });
    expect([error.code, error.details?.['reason']]).toEqual(['STORAGE', 'worker-load']);
    expect(error.message).toMatch(/^the store's worker failed to start \(its script did not load\)\. With Vite, add '@sqlite\.org\/sqlite-wasm' and 'agent-state-store' to optimizeDeps\.exclude/);
    expect(error.message).toContain('docs/troubleshooting.md');
  });

  it('an engine whose sqlite3.wasm does not load (pre-bundled by Vite, the fetch finds the HTML page)', () => {
    const cause = new Error('WebAssembly.instantiate(): expected magic word 00 61 73 6d, found 3c 21 64 6f @+0');
    const error = engineLoadError(cause);
    expect([error.code, error.details?.['reason'], error.cause]).toEqual(['STORAGE', 'engine-load', cause]);
    expect(error.message).toMatch(/^the SQLite engine \(sqlite3\.wasm\) could not be loaded \(WebAssembly.*\)\. With Vite, add '@sqlite\.org\/sqlite-wasm' and 'agent-state-store' to optimizeDeps\.exclude/);
  });

  it('loads the engine as before when nothing is wrong', async () => {
    expect(typeof (await loadEngine()).version.libVersion).toBe('string');
  });
});

/** A worker the client can talk to: one end of a MessageChannel, with `api` served on the other. */
function workerServing(api: object): Worker {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose(api, port2);
  return Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
}

describe('calls before the store is open or after it is closed: CLOSED, saying what to call', () => {
  it('a call on a closed client: open it again', async () => {
    const worker = workerServing({ ping: async () => true, open: async () => {}, close: async () => {}, flush: async () => {}, call: async () => [] });
    const store = await openStateStore({ name: 'chat', worker });
    await store.close();
    const error = await storeError(() => store.listThreads());
    expect(error.code).toBe('CLOSED');
    expect(error.message).toBe('listThreads: the store is closed; open it again with openStateStore()');
    expect((await storeError(() => store.subscribe(() => {}))).message).toMatch(/open it again with openStateStore\(\)/);
  });

  it('a call to a self-hosted worker before openStateStore({ worker }) opened it', async () => {
    installErrorTransfer(Comlink.transferHandlers as never);
    const worker = workerServing(makeWorkerApi());
    const remote = Comlink.wrap<WorkerApi>(worker);
    const error = await storeError(() => remote.call('listThreads', [{}], null));
    expect(error.code).toBe('CLOSED');
    expect(error.message).toMatch(/not open yet: await openStateStore\(\{ worker \}\) and call the client it resolves to/);
    remote[Comlink.releaseProxy]();
    worker.terminate();
  });

  it('a React hook given a store that is still opening, or the promise of one', () => {
    const render = (hook: () => unknown) => renderToString(createElement(() => (hook(), null)));
    const cases: Array<[() => unknown, RegExp]> = [
      [() => useThreads(undefined as unknown as LiveStore), /^useThreads: store is undefined, not an open store/],
      [() => useBranch(Promise.resolve() as unknown as LiveStore, 't1'), /^useBranch: store is a promise, not an open store/],
    ];
    for (const [hook, message] of cases) {
      let caught: unknown;
      try {
        render(hook);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect([(caught as StoreError).code, (caught as StoreError).details?.['field']]).toEqual(['INVALID_ARGUMENT', 'store']);
      expect((caught as StoreError).message).toMatch(message);
      expect((caught as StoreError).message).toMatch(/Pass the store that openStateStore\(\) resolves to \(await it\)/);
    }
  });
});

describe('importDatabase of a file that is not a store database: INVALID_ARGUMENT, nothing imported, what to pass', () => {
  it('a text file (a JSON export of another app, say)', async () => {
    const store = await createMemoryStore();
    const error = await storeError(() => store.importDatabase(new TextEncoder().encode(JSON.stringify({ chats: [] }).repeat(20))));
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'bytes']);
    expect(error.message).toMatch(/not a SQLite database file .*; nothing was imported; importDatabase takes a database file that exportDatabase\(\) wrote/);
    store.close();
  });

  it("a SQLite database of something else (no threads table)", async () => {
    const sqlite3 = await loadEngine();
    const other = new sqlite3.oo1.DB(':memory:', 'c');
    other.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'x\');');
    const bytes = sqlite3.capi.sqlite3_js_db_export(other);
    other.close();
    const store = await createMemoryStore();
    const error = await storeError(() => store.importDatabase(bytes));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/not a conversation store \(no threads table\); nothing was imported; importDatabase takes a database file that exportDatabase\(\) wrote/);
    store.close();
  });

  it('something other than bytes (a file name, say)', async () => {
    const store = await createMemoryStore();
    const error = await storeError(() => store.importDatabase('backup.sqlite' as never));
    expect([error.code, error.details?.['field']]).toEqual(['INVALID_ARGUMENT', 'bytes']);
    expect(error.message).toMatch(/a Uint8Array holding a SQLite database file, e\.g\. new Uint8Array\(await file\.arrayBuffer\(\)\)/);
    store.close();
  });
});

describe('docs/troubleshooting.md', () => {
  it('lists every error above: each details.reason, each refused option and field', () => {
    const page = readFileSync(new URL('../../docs/troubleshooting.md', import.meta.url), 'utf8');
    const named = ['worker-load', 'engine-load', 'worker-create', 'no-worker', 'durabilty', 'recoverOnStart', 'sync.getToken', 'NOT_FOUND', 'CLOSED', 'useThreads'];
    expect(named.filter((word) => !page.includes(word))).toEqual([]);
    for (const message of ['open it again with openStateStore()', 'nothing was imported; importDatabase takes a database file that exportDatabase() wrote']) {
      expect(page).toContain(message);
    }
  });
});
