import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The Node examples of the docs (they were the README's; the README now links to these pages), run as
// written against the built package (`npm test` builds first), so the snippet a user copies cannot
// drift from the code. docs-examples.test.ts type-checks every block; this runs these ones.
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The ```js block after the `<!-- marker: … -->` comment of a page. */
function example(page: string, marker: string): string {
  const text = readFileSync(`${root}${page}`, 'utf8');
  const block = new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!block) throw new Error(`${page} has no ${marker} block`);
  return block[1]!;
}

function run(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('the Node examples of the docs', () => {
  it('docs/getting-started.md has a Node example that runs as written', () => {
    const out = run(example('docs/getting-started.md', 'node-example'));
    const lines = out.trim().split('\n');
    // watchThreads delivers at once, the branch is printed, and nothing throws.
    expect(lines[0]).toBe("threads: [ 'First chat' ]");
    expect(out).toContain("'user: What is OPFS?'");
    expect(out).toContain("'assistant: The origin private file system.'");
  });

  it('docs/langgraph.md has a LangGraph example that runs as written', () => {
    const lines = run(example('docs/langgraph.md', 'langgraph-example')).trim().split('\n');
    expect(lines).toEqual([
      "[ 'book' ]",
      "[ 'start', 'plan', 'book' ]",
      '2 []',
      "1 [ 'book' ]",
      "0 [ 'plan' ]",
      "-1 [ '__start__' ]",
    ]);
  });

  it('docs/edge.md quotes the edge example (examples/cloudflare, which `npm run typecheck` checks) as it is on disk', () => {
    const readme = readFileSync(`${root}docs/edge.md`, 'utf8');
    for (const file of ['wrangler.jsonc', 'src/worker.ts']) {
      const block = new RegExp(`\`\`\`(?:jsonc|ts)\\n// examples/cloudflare/${file.replace('.', '\\.')}\\n([\\s\\S]*?)\`\`\``).exec(readme);
      expect(block?.[1], file).toBe(readFileSync(`${root}examples/cloudflare/${file}`, 'utf8'));
    }
  });
});
