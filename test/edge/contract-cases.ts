import { describe, it } from 'vitest';
import { contractCases, missingCapability, type ContractCapability, type ContractCase, type ContractStore, type ContractTarget } from '../contract/index.js';

/** Runs one case against a target's stores: `run` gets a ContractTarget and must close what it opened. */
export type CaseRunner = (run: (target: ContractTarget) => Promise<void>) => Promise<void>;

/** The plain runner: every store the case opens comes from `open`, and all are closed after it. */
export function withStores(open: () => Promise<ContractStore>): CaseRunner {
  return async (run) => {
    const opened: ContractStore[] = [];
    try {
      await run({
        makeStore: async () => {
          const store = await open();
          opened.push(store);
          return store;
        },
      });
    } finally {
      for (const store of opened) await store.close();
    }
  };
}

/**
 * Registers the whole contract suite in Vitest against one edge target. A case that requires a
 * capability the target lacks is skipped with the target's reason (see ContractCapability).
 */
export function runContract(runCase: CaseRunner, lacks: Partial<Record<ContractCapability, string>>): void {
  const groups = new Map<string, ContractCase[]>();
  for (const c of contractCases) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  for (const [name, cases] of groups) {
    describe(name, () => {
      for (const c of cases) {
        const reason = missingCapability(c, lacks);
        it(c.name, async (context) => {
          if (reason !== null) {
            context.skip(reason);
            return;
          }
          await runCase((target) => c.run(target));
        });
      }
    });
  }
}

/** What the edge host lacks, with the reasons its info().capabilities gives. */
export const EDGE_LACKS: Partial<Record<ContractCapability, string>> = {
  vacuum: "a Durable Object's storage gives freed space back by itself and refuses VACUUM (capabilities.vacuum = 'automatic')",
  sqliteVersion: 'the engine refuses sqlite_version() (capabilities.sqliteVersion = false)',
};
