import { describe, it } from 'vitest';
import { createMemoryStore } from '../../src/core.js';
import type { MemoryStore } from '../../src/core.js';
import { contractCases } from '../contract/index.js';
import type { ContractCase } from '../contract/index.js';

// The contract suite against the Node target: a fresh in-memory store per makeStore() call.
const groups = new Map<string, ContractCase[]>();
for (const c of contractCases) {
  const cases = groups.get(c.group) ?? [];
  cases.push(c);
  groups.set(c.group, cases);
}

for (const [name, cases] of groups) {
  describe(name, () => {
    for (const c of cases) {
      it(c.name, async () => {
        const opened: MemoryStore[] = [];
        try {
          await c.run({
            makeStore: async () => {
              const store = await createMemoryStore();
              opened.push(store);
              return store;
            },
          });
        } finally {
          // close() is idempotent, so cases that close their own stores are fine.
          for (const store of opened) store.close();
        }
      });
    }
  });
}
