import type { JobStateRecord, ThreadGoalRecord, ThreadInput } from '../../../src/core/index.js';
import { eq, ok, rejects } from '../assert.js';

/**
 * Builders of valid records and a few checks shared by the cases. Everything here is plain
 * TypeScript with no Node or runner dependency, so it runs in a Chromium page as well.
 */

/** A valid thread with every required field; `over` replaces any of them. */
export function thread(id: string, over: Partial<ThreadInput> = {}): ThreadInput {
  return {
    id,
    preview: 'test thread',
    ephemeral: false,
    modelProvider: 'deepseek',
    createdAt: 10,
    updatedAt: 10,
    status: 'running',
    cwd: '/tmp/codewhale',
    cliVersion: '0.0.0-test',
    source: 'interactive',
    ...over,
  };
}

/** The seed's test_goal(): budget 123, 7 tokens and 11 seconds used, created 100, updated 101. */
export function goal(threadId: string, objective = 'Ship it', over: Partial<ThreadGoalRecord> = {}): ThreadGoalRecord {
  return {
    threadId,
    goalId: 'goal-1',
    objective,
    status: 'active',
    tokenBudget: 123,
    tokensUsed: 7,
    timeUsedSeconds: 11,
    continuationCount: 0,
    createdAt: 100,
    updatedAt: 101,
    ...over,
  };
}

/** A valid job; `over` replaces any field. */
export function job(id: string, over: Partial<JobStateRecord> = {}): JobStateRecord {
  return { id, name: `job ${id}`, status: 'running', progress: 40, detail: 'working', createdAt: 10, updatedAt: 10, ...over };
}

/** The wall clock in Unix seconds, as the store reads it. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Fails unless `value` is an integer second within [before, after]. */
export function within(value: unknown, before: number, after: number, what: string): void {
  ok(typeof value === 'number' && Number.isInteger(value), `${what} must be an integer, got ${String(value)}`);
  ok(value >= before && value <= after, `${what} = ${value} must lie between ${before} and ${after}`);
}

/** Fails unless the call fails with INVALID_ARGUMENT whose details.field is exactly `field`. */
export async function invalid(fn: () => unknown, field: string): Promise<void> {
  const error = await rejects(fn, 'INVALID_ARGUMENT');
  eq(error.details?.['field'], field, `details.field of "${error.message}"`);
}

/**
 * Fails unless the call fails with INVALID_ARGUMENT naming `field` or a path inside it
 * (`item.a.b`, `state[3]`): JSON values are refused at the exact spot that cannot be stored.
 */
export async function invalidJson(fn: () => unknown, field: string): Promise<void> {
  const error = await rejects(fn, 'INVALID_ARGUMENT');
  const got = error.details?.['field'];
  ok(
    typeof got === 'string' && (got === field || got.startsWith(`${field}.`) || got.startsWith(`${field}[`)),
    `details.field of "${error.message}" must name ${field}, got ${String(got)}`,
  );
}

/** `depth` arrays nested inside each other around a 0: nest(2) is [[0]]. */
export function nest(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

/**
 * Values that JSON cannot carry faithfully, each with a label. Built fresh on every call because
 * one of them is a cycle.
 */
export function unserializableJson(): Array<[string, unknown]> {
  const cycle: Record<string, unknown> = { a: 1 };
  cycle['self'] = cycle;
  return [
    ['a function', { f: () => 1 }],
    ['undefined inside an object', { a: undefined }],
    ['undefined inside an array', [1, undefined]],
    ['a BigInt', { n: 10n }],
    ['a cycle', cycle],
    ['NaN inside', { n: Number.NaN }],
    ['Infinity inside', [Number.POSITIVE_INFINITY]],
    ['a Map', new Map([['a', 1]])],
    ['a Date', { at: new Date(0) }],
    ['an object with toJSON', { at: { toJSON: () => 'x' } }],
    ['a Symbol', { s: Symbol('x') }],
    ['nesting deeper than 128', nest(129)],
    ['a lone surrogate in a string', { s: 'a\uD800b' }],
    ['a lone surrogate in a key', { ['k\uDC00']: 1 }],
  ];
}

/** JSON values of every shape, which must come back deep-equal. */
export const jsonSamples: Array<[string, unknown]> = [
  ['an object', { a: 1, b: 'two', c: [true, false, null], d: { e: { f: -1.5 } } }],
  ['an array', [1, 'x', { y: [] }, [], {}]],
  ['a string', 'just a string with "quotes", \\ and\nnewlines'],
  ['a number', 42.25],
  ['a boolean', false],
  ['null', null],
  // A class instance is kept as its own enumerable data, as JSON.stringify and structured clone both keep it.
  ['a class instance', new Point(1, 2)],
  ['unicode', { 'clé': 'été ☀️ 漢字 😀', emoji: '👩‍👩‍👧', rtl: 'שלום', nul: 'a\u0000b' }],
];
