import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type InlineConfig } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { consumerApp } from '../consumer-app.js';

// Builds a minimal consumer app with Vite the way the README tells consumers to (test/consumer-app.ts),
// against the built dist/ (`npm run build` first, as for package-exports.test.ts), and looks at what
// the build emits. The files named here are sqlite-wasm's, which the default VFS never loads.
const root = fileURLToPath(new URL('../fixtures/consumer-min', import.meta.url));
const UNUSED = /sqlite3-worker1|opfs-async-proxy/;
const outDirs: string[] = [];

/** Builds the fixture app with `config` into a fresh directory; answers every emitted file with its size. */
async function buildApp(adjust: (config: InlineConfig) => InlineConfig = (c) => c): Promise<Map<string, number>> {
  const outDir = mkdtempSync(join(tmpdir(), 'ass-consumer-'));
  outDirs.push(outDir);
  const base = consumerApp({ root, distEnv: 'CONSUMER_DIST', outDir: 'consumer-min', devPort: 0, previewPort: 0 });
  await build(adjust({ ...base, configFile: false, logLevel: 'silent', build: { ...base.build, outDir, emptyOutDir: true } }));
  const files = new Map<string, number>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(path.slice(outDir.length + 1), statSync(path).size);
    }
  };
  walk(outDir);
  return files;
}

afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe("a consumer's Vite build", () => {
  it("emits the store's worker and sqlite's wasm, but not sqlite-wasm's Worker1 or opfs proxy files", async () => {
    const files = [...(await buildApp()).keys()];
    expect(files.some((f) => f.endsWith('.wasm'))).toBe(true);
    expect(files.filter((f) => /worker/.test(f) && f.endsWith('.js')).length).toBeGreaterThan(0);
    expect(files.filter((f) => UNUSED.test(f))).toEqual([]);
  });

  it('emits both files without the agent-state-store/vite plugin (so the check above can see them)', async () => {
    const files = [...(await buildApp((c) => ({ ...c, plugins: [], worker: { ...c.worker, plugins: () => [] } }))).keys()];
    expect(files.filter((f) => UNUSED.test(f)).map((f) => f.match(UNUSED)![0]).sort()).toEqual(['opfs-async-proxy', 'sqlite3-worker1']);
  });

  it("is what the built package exports as 'agent-state-store/vite'", async () => {
    // A specifier in a variable: typechecking must not need dist/ (a fresh clone typechecks before it builds).
    const specifier = 'agent-state-store/vite';
    const built = (await import(/* @vite-ignore */ specifier)) as typeof import('../../src/vite/index.js');
    const plugin = built.sqliteWasmDefaultVfsOnly();
    expect(plugin).toMatchObject({ name: 'agent-state-store:sqlite-wasm-default-vfs-only', enforce: 'pre' });
    expect(plugin.transform('new URL("sqlite3.wasm", import.meta.url)', '/app/main.ts')).toBeNull();
  });

  it('keeps the opfs proxy when asked ({ opfs: true }) and still leaves Worker1 out', async () => {
    const { sqliteWasmDefaultVfsOnly } = await import('../../src/vite/index.js');
    const files = [...(await buildApp((c) => ({ ...c, plugins: [], worker: { ...c.worker, plugins: () => [sqliteWasmDefaultVfsOnly({ opfs: true })] } }))).keys()];
    expect(files.filter((f) => UNUSED.test(f)).map((f) => f.match(UNUSED)![0])).toEqual(['opfs-async-proxy']);
  });
});
