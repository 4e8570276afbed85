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

/** One behaviour of the contract. */
export interface ContractCase {
  /** The group it belongs to (threads, messages, …), used as the describe() name. */
  group: string;
  /** The behaviour, phrased as a sentence. */
  name: string;
  run(target: ContractTarget): Promise<void>;
}

export const contractCases: ContractCase[] = [];

/** Registers cases under a group. */
export function group(name: string, define: (test: (name: string, run: ContractCase['run']) => void) => void): void {
  define((caseName, run) => contractCases.push({ group: name, name: caseName, run }));
}
