import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// These check the built package as a consumer sees it, so they need `npm run build` first
// (`npm test` builds before it runs the unit tests).
const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, { types: string; import: string } | string>;
};

/** A built module and every module of dist/ it imports, statically or dynamically, transitively. */
function moduleGraph(entry: string): Map<string, string> {
  const seen = new Map<string, string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    const code = readFileSync(file, 'utf8');
    seen.set(file, code);
    for (const [, spec] of code.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) visit(join(dirname(file), spec!));
  };
  visit(`${root}${entry}`);
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

  it('keeps the worker reference in dist/index.js literal, so a consumer bundler finds dist/worker.js', () => {
    const index = readFileSync(`${root}dist/index.js`, 'utf8');
    expect(index).toMatch(/new Worker\(new URL\(["']\.\/worker\.js["'], import\.meta\.url\)/);
  });

  it('keeps LangGraph out of an app that does not import agent-state-store/langgraph', () => {
    for (const entry of ['dist/index.js', 'dist/core.js', 'dist/worker.js']) {
      const graph = moduleGraph(entry);
      expect(graph.size, `${entry} and its chunks`).toBeGreaterThan(1);
      for (const [file, code] of graph) expect(code.includes('@langchain'), `${file} (imported by ${entry}) names @langchain`).toBe(false);
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
      const config = await saver.put({ configurable: { thread_id: 't' } }, checkpoint, { source: 'loop', step: 0, parents: {} }, {});
      await saver.putWrites(config, [['count', 3]], 'task');
      const tuple = await saver.getTuple({ configurable: { thread_id: 't' } });
      console.log(JSON.stringify({ config: tuple.config, values: tuple.checkpoint.channel_values, writes: tuple.pendingWrites, parent: tuple.parentConfig === undefined }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ values: { count: 2 }, writes: [['task', 'count', 3]], parent: true });
    expect(result.config.configurable).toMatchObject({ thread_id: 't', checkpoint_ns: '' });
  });
});
