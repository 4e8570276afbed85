import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's Node examples, run as written against the built package (`npm test` builds first), so
// the snippet a user copies cannot drift from the code.
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The ```js block after the README's `<!-- marker: … -->` comment. */
function example(marker: string): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = new RegExp(`<!-- ${marker}[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!block) throw new Error(`README has no ${marker} block`);
  return block[1]!;
}

function run(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
}

describe('the README', () => {
  it('has a Node example that runs as written', () => {
    const out = run(example('node-example'));
    const lines = out.trim().split('\n');
    // watchThreads delivers at once, the branch is printed, and nothing throws.
    expect(lines[0]).toBe("threads: [ 'First chat' ]");
    expect(out).toContain("'user: What is OPFS?'");
    expect(out).toContain("'assistant: The origin private file system.'");
  });

  it('has a LangGraph example that runs as written', () => {
    const lines = run(example('langgraph-example')).trim().split('\n');
    expect(lines).toEqual([
      "[ 'book' ]",
      "[ 'start', 'plan', 'book' ]",
      '2 []',
      "1 [ 'book' ]",
      "0 [ 'plan' ]",
      "-1 [ '__start__' ]",
    ]);
  });

  it('quotes the edge example (examples/cloudflare, which `npm run typecheck` checks) as it is on disk', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    for (const file of ['wrangler.jsonc', 'src/worker.ts']) {
      const block = new RegExp(`\`\`\`(?:jsonc|ts)\\n// examples/cloudflare/${file.replace('.', '\\.')}\\n([\\s\\S]*?)\`\`\``).exec(readme);
      expect(block?.[1], file).toBe(readFileSync(`${root}examples/cloudflare/${file}`, 'utf8'));
    }
  });
});
