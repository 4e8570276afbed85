import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The README's Node example, run as written against the built package (`npm test` builds first), so
// the snippet a user copies cannot drift from the code.
const root = fileURLToPath(new URL('../..', import.meta.url));

function nodeExample(): string {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /<!-- node-example[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README has no node-example block');
  return block[1]!;
}

describe('the README', () => {
  it('has a Node example that runs as written', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', nodeExample()], { cwd: root, encoding: 'utf8' });
    const lines = out.trim().split('\n');
    // watchThreads delivers at once, the branch is printed, and nothing throws.
    expect(lines[0]).toBe("threads: [ 'First chat' ]");
    expect(out).toContain("'user: What is OPFS?'");
    expect(out).toContain("'assistant: The origin private file system.'");
  });
});
