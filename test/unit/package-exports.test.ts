import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// These check the built package as a consumer sees it, so they need `npm run build` first
// (`npm test` builds before it runs the unit tests).
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, { types: string; import: string } | string>;
};

/** Every module specifier a built file imports or re-exports (static and dynamic). */
function specifiers(file: string): string[] {
  const code = readFileSync(`${root}dist/${file}`, 'utf8');
  return [...code.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]!);
}

/** A built entry and every file of dist/ it loads, following relative imports. */
function loadedModules(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const s of specifiers(entry)) {
    if (s.startsWith('.')) loadedModules(posix.normalize(posix.join(posix.dirname(entry), s)), seen);
  }
  return seen;
}

describe('the built package', () => {
  it('has every export entry and its types on disk', () => {
    for (const [entry, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      expect(existsSync(`${root}${target.import}`), `${entry} → ${target.import}`).toBe(true);
      expect(existsSync(`${root}${target.types}`), `${entry} → ${target.types}`).toBe(true);
    }
  });

  it("lets Node import createMemoryStore from 'agent-state-store/core' and use it", () => {
    const script = `
      const { createMemoryStore, StoreError } = await import('agent-state-store/core');
      const store = await createMemoryStore();
      store.upsertThread({ id: 't', preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle', cwd: '/', cliVersion: '1', source: 'api' });
      const id = store.appendMessage('t', 'user', 'hello from the built package');
      let code = null;
      try { store.appendMessage('missing', 'user', 'x'); } catch (e) { code = e instanceof StoreError ? e.code : 'not a StoreError'; }
      console.log(JSON.stringify({ id, content: store.listMessages('t')[0].content, code, version: store.info().schemaVersion }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ id: 1, content: 'hello from the built package', code: 'NOT_FOUND' });
    expect(result.version).toBeGreaterThanOrEqual(7);
  });

  it("keeps 'ai' out of dist/index.js and dist/core.js, and out of every chunk they load", () => {
    for (const entry of ['index.js', 'core.js']) {
      const bare = [...loadedModules(entry)].flatMap((file) => specifiers(file).filter((s) => !s.startsWith('.')));
      expect(bare.filter((s) => s === 'ai' || s.startsWith('ai/')), entry).toEqual([]);
    }
  });

  it("gives dist/ai-sdk.js no run-time import of 'ai' (it uses only its types)", () => {
    const bare = [...loadedModules('ai-sdk.js')].flatMap((file) => specifiers(file).filter((s) => !s.startsWith('.')));
    expect(bare).toEqual([]);
  });

  it("lets Node use 'agent-state-store/ai-sdk' with a store from 'agent-state-store/core', with one StoreError class", () => {
    const script = `
      const { createMemoryStore, StoreError } = await import('agent-state-store/core');
      const { loadChat, saveChat } = await import('agent-state-store/ai-sdk');
      const store = await createMemoryStore();
      const thread = store.createThread({});
      const messages = [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }], metadata: { createdAt: 1 } }];
      await saveChat(store, thread.id, messages);
      let refused = null;
      try { await saveChat(store, thread.id, [{ id: 'u1', role: 'tool', parts: [] }]); } catch (e) { refused = e instanceof StoreError ? e.code : 'not a StoreError'; }
      console.log(JSON.stringify({ loaded: await loadChat(store, thread.id), refused }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
      loaded: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }], metadata: { createdAt: 1 } }],
      refused: 'INVALID_ARGUMENT',
    });
  });


  it("builds 'agent-state-store/react' as its own entry that imports react, and Node can load its hooks", () => {
    expect(pkg.exports['./react']).toEqual({ types: './dist/types/src/react/index.d.ts', import: './dist/react.js' });
    expect(specifiers('react.js')).toContain('react');
    const script = `
      const hooks = await import('agent-state-store/react');
      console.log(JSON.stringify(Object.keys(hooks).sort()));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual(['useBranch', 'useThreads']);
  });

  it('keeps react out of the main and core entries and every chunk they load', () => {
    for (const entry of ['index.js', 'core.js']) {
      const loaded = [...loadedModules(entry)];
      expect(loaded.length, entry).toBeGreaterThan(1);
      for (const file of loaded) {
        expect(readFileSync(`${root}dist/${file}`, 'utf8'), `${entry} loads ${file}`).not.toMatch(/\breact\b/i);
      }
    }
  });

  it("starts no worker when a page imports 'agent-state-store' (only openStateStore does)", () => {
    // A page as far as the client can tell: Worker and document exist. The stub counts constructions.
    const script = `
      let started = 0;
      globalThis.Worker = class { constructor() { started++; throw new Error('stub'); } };
      globalThis.document = { visibilityState: 'visible' };
      const { StoreError, openStateStore } = await import('agent-state-store');
      await new Promise((r) => setTimeout(r, 50));
      const atImport = started;
      await openStateStore({ name: 'x' }).catch(() => {});
      console.log(JSON.stringify({ atImport, atOpen: started, storeError: typeof StoreError }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ atImport: 0, atOpen: 1, storeError: 'function' });
  });

  it('lists in sideEffects every built file that runs code at import, and only those', () => {
    const sideEffects = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { sideEffects: string[] }).sideEffects;
    const built = execFileSync('find', ['dist', '-name', '*.js'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
    // A statement at the top level that calls something (the bundler writes declarations as `var`/`const`/`function`/`class`).
    const runsCode = built.filter((file) => /^(?!(?:var|let|const|function|async function|class|import|export)\b)[\w$.]+\s*\(/m.test(readFileSync(`${root}${file}`, 'utf8')));
    expect(runsCode.sort()).toEqual(['dist/worker.js']);
    expect(sideEffects.filter((p) => p.startsWith('./dist/'))).toEqual(['./dist/worker.js']);
  });

  it('keeps the worker reference in dist/index.js literal, so a consumer bundler finds dist/worker.js', () => {
    const index = readFileSync(`${root}dist/index.js`, 'utf8');
    expect(index).toMatch(/new Worker\(new URL\(["']\.\/worker\.js["'], import\.meta\.url\)/);
  });

  it('keeps LangGraph out of an app that does not import agent-state-store/langgraph', () => {
    for (const entry of ['index.js', 'core.js', 'worker.js']) {
      const loaded = [...loadedModules(entry)];
      expect(loaded.length, `${entry} and its chunks`).toBeGreaterThan(1);
      for (const file of loaded) expect(readFileSync(`${root}dist/${file}`, 'utf8').includes('@langchain'), `${file} (loaded by ${entry}) names @langchain`).toBe(false);
    }
    expect(readFileSync(`${root}dist/langgraph.js`, 'utf8')).toContain('@langchain/langgraph-checkpoint');
  });

  it("lets Node save and resume LangGraph checkpoints through 'agent-state-store/langgraph'", () => {
    const script = `
      const { createMemoryStore } = await import('agent-state-store/core');
      const { StateStoreSaver } = await import('agent-state-store/langgraph');
      const { emptyCheckpoint } = await import('@langchain/langgraph-checkpoint');
      const saver = new StateStoreSaver(await createMemoryStore());
      const checkpoint = { ...emptyCheckpoint(), channel_values: { count: 2 }, channel_versions: { count: 1 } };
      const config = await saver.put({ configurable: { thread_id: 't' } }, checkpoint, { source: 'loop', step: 0, parents: {} }, { count: 1 });
      await saver.putWrites(config, [['count', 3]], 'task');
      const tuple = await saver.getTuple({ configurable: { thread_id: 't' } });
      console.log(JSON.stringify({ config: tuple.config, values: tuple.checkpoint.channel_values, writes: tuple.pendingWrites, parent: tuple.parentConfig === undefined }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ values: { count: 2 }, writes: [['task', 'count', 3]], parent: true });
    expect(result.config.configurable).toMatchObject({ thread_id: 't', checkpoint_ns: '' });
  });
  it("builds 'agent-state-store/cloudflare' as its own entry; only it imports the Workers runtime", () => {
    expect(pkg.exports['./cloudflare']).toEqual({ types: './dist/types/src/cloudflare/index.d.ts', import: './dist/cloudflare.js' });
    expect([...loadedModules('cloudflare.js')].flatMap((file) => specifiers(file))).toContain('cloudflare:workers');
    for (const entry of ['index.js', 'core.js', 'worker.js', 'react.js', 'ai-sdk.js', 'langgraph.js']) {
      for (const file of loadedModules(entry)) {
        expect(specifiers(file).filter((s) => s.startsWith('cloudflare:')), `${file} (loaded by ${entry})`).toEqual([]);
      }
    }
  });
});
