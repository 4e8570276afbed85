import { canonicalDump, type Query } from './full-store.js';

/**
 * What must be equal on every device and the server once sync is quiet: the canonical dump of every
 * table, without what is each copy's own by design:
 * - `threads.current_leaf_id`: each device's view of a thread follows its own writes (README, merge rules);
 * - the sync bookkeeping (`sync_*`: outbox, identity, the server's log) and the request log;
 * - `sqlite_sequence`: AUTOINCREMENT's counter, allocator state rather than records (a device that
 *   deleted its newest message remembers a higher number than one that never saw it);
 * - the schema of the sync tables and capture triggers, which only a device or only the server has.
 */
export async function syncedDump(query: Query): Promise<Record<string, string[]>> {
  const dump = await canonicalDump(query);
  const out: Record<string, string[]> = {};
  for (const [name, rows] of Object.entries(dump)) {
    if (name.startsWith('sync_') || name === 'applied_requests' || name === 'sqlite_sequence') continue;
    if (name === '(schema)') {
      out[name] = rows.filter((r) => !/^(table|index|trigger) sync_/.test(r) && !/^table sqlite_sequence/.test(r));
      continue;
    }
    out[name] = name === 'threads'
      ? rows.map((r) => {
          const { current_leaf_id: _leaf, ...rest } = JSON.parse(r) as Record<string, unknown>;
          return JSON.stringify(rest);
        }).sort()
      : rows;
  }
  return out;
}
