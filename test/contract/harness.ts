import type { ServedMethod, StateStore } from '../../src/core/index.js';
import type { LocalMethod } from '../../src/core/operations.js';

/**
 * The contract suite is a list of plain async cases over "a store", registered here and run by
 * each target: Vitest against createMemoryStore() in Node, and a Chromium page against
 * openStateStore() through the worker. Cases await every call, so a synchronous store and a
 * Promise-returning client both fit.
 */

/** What every host offers a caller: the served methods of the operation table, plus info() and close(). */
type Methods = Pick<StateStore, ServedMethod | 'info' | 'close'>;

/**
 * A store as the contract sees it: each served method returns its value or a Promise of it; the
 * local methods (subscribe and the live queries, which take listeners) are synchronous on every
 * host and keep their exact types.
 */
export type ContractStore = {
  [K in keyof Methods]: Methods[K] extends (...args: infer A) => infer R ? (...args: A) => R | Promise<Awaited<R>> : never;
} & Pick<StateStore, LocalMethod>;

/** What a case gets: a factory for fresh, empty stores (each case may open several). */
export interface ContractTarget {
  /** Opens a new empty store; the target closes it after the case. */
  makeStore(): Promise<ContractStore>;
}

/**
 * What a case needs of its host beyond the common contract. The browser and Node hosts have all of
 * them; a host that lacks one (the edge, see EdgeCapabilities) declares why, and its runner skips the
 * cases that need it with that reason.
 * - `vacuum`: VACUUM rebuilds the file and is refused without room for a copy.
 * - `sqliteVersion`: info().sqliteVersion is the engine's version.
 * - `exportImport`: exportDatabase and importDatabase move SQLite files.
 * - `listeners`: subscribe, watchBranch and watchThreads deliver to the caller.
 */
export type ContractCapability = 'vacuum' | 'sqliteVersion' | 'exportImport' | 'listeners';

/** One behaviour of the contract. */
export interface ContractCase {
  /** The group it belongs to (threads, messages, …), used as the describe() name. */
  group: string;
  /** The behaviour, phrased as a sentence. */
  name: string;
  /** What it needs of the host beyond the common contract; none when absent. */
  requires?: readonly ContractCapability[];
  run(target: ContractTarget): Promise<void>;
}

/** Options of one case. */
export interface CaseOptions {
  requires?: readonly ContractCapability[];
}

export const contractCases: ContractCase[] = [];

/** How a group registers a case: `test(name, run)`, or `test(name, { requires }, run)` for a case that needs a capability. */
export interface RegisterCase {
  (name: string, run: ContractCase['run']): void;
  (name: string, options: CaseOptions, run: ContractCase['run']): void;
}

/** Registers cases under a group; a case may declare what it requires of the host. */
export function group(name: string, define: (test: RegisterCase) => void): void {
  const register = (caseName: string, second: CaseOptions | ContractCase['run'], third?: ContractCase['run']): void => {
    const options = typeof second === 'function' ? {} : second;
    const run = typeof second === 'function' ? second : third!;
    contractCases.push({ group: name, name: caseName, run, ...(options.requires ? { requires: options.requires } : {}) });
  };
  define(register as RegisterCase);
}

/**
 * Why a host cannot run `c`: the reason it declared for the first capability the case requires and
 * the host lacks, or null when it can run it.
 */
export function missingCapability(c: ContractCase, lacks: Partial<Record<ContractCapability, string>>): string | null {
  for (const need of c.requires ?? []) {
    const reason = lacks[need];
    if (reason !== undefined) return `needs ${need}: ${reason}`;
  }
  return null;
}
