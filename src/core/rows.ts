import type { SqlValue } from '../driver/port.js';

/** Row-reading helpers shared by the table modules. Columns are read leniently, as the seed reads them. */

/** An INTEGER column as a number (BigInt beyond 2^53 is narrowed; such values never come from this store). */
export function num(value: SqlValue | undefined): number {
  return typeof value === 'bigint' ? Number(value) : Number(value ?? 0);
}

/** A nullable INTEGER column. */
export function numOrNull(value: SqlValue | undefined): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** A TEXT column. */
export function str(value: SqlValue | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

/** A nullable TEXT column. */
export function strOrNull(value: SqlValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** Maps a stored enum string, falling back to the seed's default for values it does not know. */
export function enumOr<T extends string>(value: SqlValue | undefined, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly SqlValue[]).includes(value ?? null) ? (value as T) : fallback;
}

