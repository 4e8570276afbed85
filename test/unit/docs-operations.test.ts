import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/core/operations.js';

// docs/operations.md is the one-table summary of the operations (the generated API reference is the
// authority on signatures). A hand-written table drifts first by leaving new operations out, as it had
// left out switchBranch: every operation the operation table serves has a row.
describe('docs/operations.md', () => {
  it('has a row for every served operation of the operation table', () => {
    const page = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
    const served = Object.entries(OPERATIONS).filter(([, spec]) => spec.mode !== 'internal').map(([name]) => name);
    expect(served.length).toBeGreaterThan(40);
    expect(served.filter((name) => !page.includes(`\`${name}(`))).toEqual([]);
  });
});
