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

/** The module specifiers a built file imports statically. */
function importsOf(file: string): string[] {
  const code = readFileSync(`${root}dist/${file}`, 'utf8');
  return [...code.matchAll(/^\s*(?:import|export)\b[^;'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)].map((m) => (m[1] ?? m[2])!);
}

/** A built file and every dist/ file it imports, directly or through another. */
function modulesLoadedBy(entry: string): string[] {
  const seen = new Set<string>([entry]);
  for (const file of seen) {
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) seen.add(join(dirname(file), spec));
    }
  }
  return [...seen];
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

  it("builds 'agent-state-store/react' as its own entry that imports react, and Node can load its hooks", () => {
    expect(pkg.exports['./react']).toEqual({ types: './dist/types/src/react/index.d.ts', import: './dist/react.js' });
    expect(importsOf('react.js')).toContain('react');
    const script = `
      const hooks = await import('agent-state-store/react');
      console.log(JSON.stringify(Object.keys(hooks).sort()));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual(['useBranch', 'useThreads']);
  });

  it('keeps react out of the main and core entries and every chunk they load', () => {
    for (const entry of ['index.js', 'core.js']) {
      const loaded = modulesLoadedBy(entry);
      expect(loaded.length, entry).toBeGreaterThan(1);
      for (const file of loaded) {
        expect(readFileSync(`${root}dist/${file}`, 'utf8'), `${entry} loads ${file}`).not.toMatch(/\breact\b/i);
      }
    }
  });

  it('keeps the worker reference in dist/index.js literal, so a consumer bundler finds dist/worker.js', () => {
    const index = readFileSync(`${root}dist/index.js`, 'utf8');
    expect(index).toMatch(/new Worker\(new URL\(["']\.\/worker\.js["'], import\.meta\.url\)/);
  });
});
