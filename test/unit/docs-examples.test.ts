import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every TypeScript and JavaScript block of the README, CONTRIBUTING.md and the docs site's pages
// (docs/**/*.md; not docs/api/, which TypeDoc generates from the sources' TSDoc), type-checked as it
// is written: each block is a module of its own, against the package's sources, so a renamed option
// or a changed signature fails here before a reader copies it. Blocks for the edge (they import
// agent-state-store/cloudflare or cloudflare:workers) are checked with the Workers types. The js blocks are
// the Node examples that readme-examples.test.ts runs as written; here they must resolve and parse.
const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = `${root}.cache/doc-blocks${process.env['PORT_OFFSET'] ? `-${process.env['PORT_OFFSET']}` : ''}/`;

export interface CodeBlock {
  page: string;
  line: number;
  lang: string;
  code: string;
}

function pages(): string[] {
  const found = ['README.md', 'CONTRIBUTING.md'];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(`${root}${dir}`, { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== 'docs/api' && !entry.name.startsWith('.')) walk(path);
      } else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk('docs');
  return found;
}

/** The fenced ts, tsx and js blocks of a Markdown page, with the line each starts on. */
export function codeBlocks(page: string, text = readFileSync(`${root}${page}`, 'utf8')): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const fence = /^```(ts|tsx|js)\n([\s\S]*?)^```$/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    blocks.push({ page, line: text.slice(0, m.index).split('\n').length, lang: m[1]!, code: m[2]! });
  }
  return blocks;
}

const isEdge = (b: CodeBlock) => /from '(?:agent-state-store\/cloudflare|cloudflare:workers)'/.test(b.code);
const fileOf = (b: CodeBlock) => `${b.page.replace(/[/.]/g, '_')}_L${b.line}.${b.lang === 'js' ? 'js' : 'tsx'}`;

function typecheck(blocks: CodeBlock[], edge: boolean): string {
  const dir = `${outDir}${edge ? 'edge' : 'page'}/`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // A trailing export makes each block a module (its own scope, top-level await allowed).
  for (const b of blocks) writeFileSync(`${dir}${fileOf(b)}`, `${b.code}\nexport {};\n`);
  const paths = Object.fromEntries(
    [
      ['agent-state-store', 'src/index.ts'], ['agent-state-store/core', 'src/core.ts'], ['agent-state-store/worker', 'worker/index.ts'],
      ['agent-state-store/ai-sdk', 'src/ai-sdk/index.ts'], ['agent-state-store/react', 'src/react/index.ts'],
      ['agent-state-store/langgraph', 'src/langgraph/index.ts'], ['agent-state-store/cloudflare', 'src/cloudflare/index.ts'],
      ['agent-state-store/vite', 'src/vite/index.ts'],
    ].map(([name, file]) => [name, [`${root}${file}`]]),
  );
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      extends: `${root}${edge ? 'tsconfig.edge.json' : 'tsconfig.json'}`,
      compilerOptions: {
        noEmit: true, jsx: 'react-jsx', allowJs: true, checkJs: false, paths, noUnusedLocals: false,
        // The edge build's own: `.wasm` modules (src/cloudflare/wasm.d.ts) and `using` (Symbol.dispose).
        ...(edge ? { lib: ['ES2024', 'ESNext.Disposable'] } : {}),
      },
      include: [`${dir}*.tsx`, `${dir}*.js`, ...(edge ? [`${root}src/cloudflare/wasm.d.ts`] : [])],
      exclude: [],
    }),
  );
  try {
    execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${dir}tsconfig.json`], { cwd: root, encoding: 'utf8' });
    return '';
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e);
  }
}

describe('code blocks of the README and the docs', () => {
  const blocks = pages().flatMap((page) => codeBlocks(page));

  it('finds the blocks (the README, the guides)', () => {
    expect(blocks.filter((b) => b.page === 'README.md').length).toBeGreaterThanOrEqual(2);
    expect(blocks.filter((b) => b.page.startsWith('docs/')).length).toBeGreaterThanOrEqual(15);
  });

  it('type-check in the page (DOM, Node) as written', () => {
    expect(typecheck(blocks.filter((b) => !isEdge(b)), false)).toBe('');
  }, 180_000);

  it('type-check on the edge (Workers types) as written', () => {
    const edge = blocks.filter(isEdge);
    expect(edge.length).toBeGreaterThan(0);
    expect(typecheck(edge, true)).toBe('');
  }, 180_000);
});
