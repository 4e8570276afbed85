/**
 * The sahpool VFS turns every OPFS failure into SQLITE_IOERR, so a full disk reaches SQLite's error
 * as "disk I/O error". Wrapping the sync access handle methods records the last DOMException they
 * threw (a QuotaExceededError, say); the driver adds it to the engine's message, and the core's single
 * error translation then reports QUOTA_EXCEEDED instead of a vague STORAGE error.
 */

let last: { error: Error; at: number } | undefined;
// An error older than this belongs to an earlier call, not to the one failing now.
const FRESH_MS = 1000;

/** The storage error of the failing call, if any, consumed on read. */
export function lastStorageError(): Error | undefined {
  const found = last && performance.now() - last.at < FRESH_MS ? last.error : undefined;
  last = undefined;
  return found;
}

/** Wraps FileSystemSyncAccessHandle's writing methods once per worker. */
export function recordStorageErrors(): void {
  const proto = (globalThis as { FileSystemSyncAccessHandle?: { prototype: Record<string, unknown> } }).FileSystemSyncAccessHandle?.prototype;
  if (!proto || proto['__agentStateStoreWrapped']) return;
  for (const name of ['write', 'truncate', 'flush']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } catch (error) {
        if (error instanceof Error) last = { error, at: performance.now() };
        throw error;
      }
    };
  }
  proto['__agentStateStoreWrapped'] = true;
}
