/**
 * A few assertions with no dependency on Node or on a test runner, so that the contract suite runs
 * unchanged in Vitest and in a Chromium page.
 */

export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v === undefined ? '<undefined>' : v));
  } catch {
    return String(value);
  }
}

/** Structural equality of plain data: primitives, arrays and plain objects (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  return deepEqual(ka, kb) && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Fails unless `actual` deep-equals `expected`. */
export function eq<T>(actual: T, expected: T, message = ''): void {
  if (!deepEqual(actual, expected)) {
    throw new AssertionError(`${message ? message + ': ' : ''}expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Fails unless `condition` is truthy. */
export function ok(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/**
 * Fails unless calling `fn` throws or rejects with a StoreError-shaped error of `code` (checked by
 * name and code, so it holds for errors revived on the other side of a worker). Returns the error.
 */
export async function rejects(
  fn: () => unknown,
  code: string,
  messageIncludes?: string,
): Promise<{ name: string; code: string; message: string; details?: Record<string, unknown> }> {
  let error: unknown;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (error === undefined) throw new AssertionError(`expected a StoreError ${code}, but the call succeeded`);
  const e = error as { name?: unknown; code?: unknown; message?: unknown; details?: Record<string, unknown> };
  if (e.name !== 'StoreError' || e.code !== code) {
    throw new AssertionError(`expected StoreError ${code}, got ${String(e.name)} ${String(e.code)}: ${String(e.message)}`);
  }
  if (messageIncludes !== undefined && !String(e.message).includes(messageIncludes)) {
    throw new AssertionError(`expected the message to include ${show(messageIncludes)}, got ${show(e.message)}`);
  }
  return e as { name: string; code: string; message: string; details?: Record<string, unknown> };
}
