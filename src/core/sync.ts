/**
 * Sync's data work, for both ends: a device's outbox and the rows it pulls, and the server's log,
 * tombstones and id sites. Plain SQL over the driver port, so the same code runs in the browser
 * worker and in a Durable Object; the hosts only carry frames (src/core/sync-protocol.ts).
 *
 * A device captures every change of a synced table with triggers into `sync_outbox`, one entry per
 * row (a row changed twice before a push is pushed once, in its state then). Goal usage is kept as
 * deltas beside the row, so two devices' usage adds up. The server applies each device's pushes in
 * order, exactly once (a device's push number is recorded with the rows it wrote), and logs every row
 * it changed in `sync_log` under a new seq: a device pulls the log after its cursor. The server's
 * order is the clock of last-writer-wins, so no device's wall clock can decide anything.
 */
import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import type { StoreChange, ChangeKind } from './changes.js';
import { StoreError } from './errors.js';
import type { SessionIndex, SessionIndexEntry } from './session-index.js';
import {
  DEFAULT_SYNC_LIMITS,
  LEASED_SITES,
  MAX_SITES,
  SITE_SIZE,
  SYNC_PROTOCOL,
  SYNC_TABLES,
  type Hello,
  type PulledChange,
  type PushedChange,
  type SyncLimits,
  type SyncTable,
  type UsageDelta,
  type Welcome,
  type WireRow,
  type WireValue,
} from './sync-protocol.js';

export { messageIdBlockMigration as syncMigration, NEXT_MESSAGE_ID_SQL } from './message-ids.js';

/** Who a device is, as it introduces itself in `hello` (the frame adds `type` and `protocol`). */
export interface SyncIdentity {
  device: string;
  site: number;
  siteUsed: boolean;
  preSync: boolean;
}

type Table = Exclude<SyncTable, 'session_index'>;
const ROW_TABLES = SYNC_TABLES.filter((t): t is Table => t !== 'session_index');
const COUNTERS = ['tokens_used', 'time_used_seconds', 'continuation_count'] as const;

interface TableInfo {
  columns: string[];
  key: string[];
  /** Foreign keys: the parent table and, per column of ours, the parent's column. */
  parents: { table: Table; from: string[]; to: string[] }[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;
const infos = new WeakMap<SqlDriver, Map<Table, TableInfo>>();

/** The synced tables' columns, keys and foreign keys, read once per connection from the schema. */
function schemaOf(db: SqlDriver): Map<Table, TableInfo> {
  let map = infos.get(db);
  if (map) return map;
  map = new Map();
  for (const table of ROW_TABLES) {
    const cols = db.all(`PRAGMA table_info(${ident(table)})`);
    const key = cols.filter((c) => Number(c['pk']) > 0).sort((a, b) => Number(a['pk']) - Number(b['pk'])).map((c) => String(c['name']));
    const grouped = new Map<number, { table: Table; from: string[]; to: string[] }>();
    for (const fk of db.all(`PRAGMA foreign_key_list(${ident(table)})`)) {
      const id = Number(fk['id']);
      const parent = grouped.get(id) ?? { table: String(fk['table']) as Table, from: [], to: [] };
      parent.from.push(String(fk['from']));
      parent.to.push(String(fk['to']));
      grouped.set(id, parent);
    }
    map.set(table, { columns: cols.map((c) => String(c['name'])), key, parents: [...grouped.values()].filter((p) => (ROW_TABLES as string[]).includes(p.table)) });
  }
  infos.set(db, map);
  return map;
}

const info = (db: SqlDriver, table: Table): TableInfo => schemaOf(db).get(table)!;

/** A key's canonical text, as SQLite's json_array writes it (the triggers use json_array too). */
function keyText(db: SqlDriver, key: readonly SqlValue[]): string {
  // Printable ASCII strings and safe integers are written alike by JSON.stringify and json_array;
  // anything else (control characters, non-ASCII, floats) asks SQLite.
  if (key.every((k) => (typeof k === 'string' && /^[\x20-\x7e]*$/.test(k)) || (typeof k === 'number' && Number.isSafeInteger(k)))) return JSON.stringify(key);
  return String(db.all(`SELECT json_array(${key.map((_, i) => `?${i + 1}`).join(', ')}) AS k`, key)[0]!['k']);
}

// --- values on the wire --------------------------------------------------------------------------

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function toWire(value: SqlValue): WireValue {
  if (value instanceof Uint8Array) return { $bytes: toBase64(value) };
  if (typeof value === 'bigint') return Number(value);
  return value;
}

function fromWire(value: WireValue, field: string): SqlValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw bad(`${field} must be a finite number`, field);
    return value;
  }
  if (typeof value === 'object' && typeof (value as { $bytes?: unknown }).$bytes === 'string' && Object.keys(value).length === 1) {
    try {
      return Uint8Array.from(atob(value.$bytes), (c) => c.charCodeAt(0));
    } catch {
      throw bad(`${field} is not valid base64`, field);
    }
  }
  throw bad(`${field} must be a string, a number, null or {$bytes}`, field);
}

function wireRow(row: SqlRow): WireRow {
  const out: WireRow = {};
  for (const [k, v] of Object.entries(row)) out[k] = toWire(v);
  return out;
}

/** The limits a caller gives, checked: positive integers. */
export function checkedLimits(limits: unknown): SyncLimits {
  if (limits === undefined) return DEFAULT_SYNC_LIMITS;
  const l = limits as Partial<SyncLimits> | null;
  if (typeof l !== 'object' || l === null) throw bad('limits must be an object', 'limits');
  for (const k of ['maxChanges', 'maxChangeBytes', 'maxFrameBytes'] as const) {
    if (!Number.isSafeInteger(l[k]) || (l[k] as number) < 1) throw bad(`limits.${k} must be a positive integer`, `limits.${k}`);
  }
  return { maxChanges: l.maxChanges!, maxChangeBytes: l.maxChangeBytes!, maxFrameBytes: l.maxFrameBytes! };
}

/** A device id as a device sends it: 8–64 letters, digits, "-" or "_". */
export function checkedDevice(device: unknown, field = 'device'): string {
  if (typeof device !== 'string' || !DEVICE_ID.test(device)) throw bad(`${field} must be 8–64 letters, digits, "-" or "_"`, field);
  return device;
}

/** The bytes of a string in UTF-8, as a socket sends it. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const bad = (message: string, field: string) => new StoreError('INVALID_ARGUMENT', message, { details: { field } });

// --- reading rows --------------------------------------------------------------------------------

function keyWhere(columns: readonly string[], from = 1): string {
  return columns.map((c, i) => `${ident(c)} IS ?${i + from}`).join(' AND ');
}

function readRow(db: SqlDriver, table: Table, key: readonly SqlValue[]): SqlRow | null {
  return db.all(`SELECT * FROM ${ident(table)} WHERE ${keyWhere(info(db, table).key)}`, key)[0] ?? null;
}

function sessionRow(index: SessionIndex, threadId: string): WireRow | null {
  const e = index.get(threadId);
  return e ? { thread_id: e.threadId, thread_name: e.threadName, updated_at: e.updatedAt, rollout_path: e.rolloutPath } : null;
}

function sessionEntry(row: WireRow): SessionIndexEntry {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw bad('a session_index row must be an object or null', 'row');
  const name = row['thread_name'];
  const path = row['rollout_path'];
  const updated = row['updated_at'];
  if (typeof row['thread_id'] !== 'string' || row['thread_id'] === '') throw bad('session_index.thread_id must be a non-empty string', 'row.thread_id');
  if (name !== null && typeof name !== 'string') throw bad('session_index.thread_name must be a string or null', 'row.thread_name');
  if (path !== null && path !== undefined && typeof path !== 'string') throw bad('session_index.rollout_path must be a string or null', 'row.rollout_path');
  if (typeof updated !== 'number' || !Number.isSafeInteger(updated)) throw bad('session_index.updated_at must be an integer', 'row.updated_at');
  return { threadId: row['thread_id'], threadName: name, updatedAt: updated, rolloutPath: (path ?? null) as string | null };
}

function sameEntry(a: SessionIndexEntry | undefined, b: SessionIndexEntry): boolean {
  return !!a && a.threadName === b.threadName && a.updatedAt === b.updatedAt && a.rolloutPath === b.rolloutPath;
}

// --- the device: identity, capture, outbox -------------------------------------------------------

interface DeviceRow {
  device: string;
  site: number;
  nextId: number;
  cursor: number;
  push: number;
}

function deviceRow(db: SqlDriver): DeviceRow | null {
  const r = db.all('SELECT device, site, next_id, cursor, push FROM sync_device')[0];
  return r ? { device: String(r['device']), site: Number(r['site']), nextId: Number(r['next_id']), cursor: Number(r['cursor']), push: Number(r['push']) } : null;
}

/** Whether sync was ever turned on for this database. */
export function syncEnabled(db: SqlDriver): boolean {
  return deviceRow(db) !== null;
}

const OUTBOX_SQL = `
CREATE TABLE IF NOT EXISTS sync_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  d_tokens INTEGER NOT NULL DEFAULT 0,
  d_time INTEGER NOT NULL DEFAULT 0,
  d_cont INTEGER NOT NULL DEFAULT 0,
  reset INTEGER NOT NULL DEFAULT 0,
  sent_push INTEGER,
  sent_version INTEGER,
  sent_json TEXT,
  UNIQUE (tbl, key)
);
CREATE INDEX IF NOT EXISTS sync_outbox_sent ON sync_outbox(sent_push) WHERE sent_push IS NOT NULL;
`;

/** Records a change of (table, key text) in the outbox; `extra` are goal columns. */
function outboxUpsert(table: string, keyExpr: string, extra?: { tokens: string; time: string; cont: string; reset: string }): string {
  if (!extra) {
    return `INSERT INTO sync_outbox(tbl, key) VALUES ('${table}', ${keyExpr}) ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1;`;
  }
  return `INSERT INTO sync_outbox(tbl, key, d_tokens, d_time, d_cont, reset) VALUES ('${table}', ${keyExpr}, ${extra.tokens}, ${extra.time}, ${extra.cont}, ${extra.reset})
    ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1,
      d_tokens = CASE WHEN excluded.reset = 1 THEN 0 ELSE d_tokens + excluded.d_tokens END,
      d_time = CASE WHEN excluded.reset = 1 THEN 0 ELSE d_time + excluded.d_time END,
      d_cont = CASE WHEN excluded.reset = 1 THEN 0 ELSE d_cont + excluded.d_cont END,
      reset = MAX(reset, excluded.reset);`;
}

/** The capture triggers of one table; a remote row applied with `capture = 0` is not captured. */
function triggersFor(db: SqlDriver, table: Table): string {
  const { key, columns } = info(db, table);
  const keyOf = (row: 'NEW' | 'OLD') => `json_array(${key.map((k) => `${row}.${ident(k)}`).join(', ')})`;
  const when = 'WHEN (SELECT capture FROM sync_device) = 1';
  // Moving a thread's current leaf is this device's own view, never synced: not a change of the row.
  const updateOf = table === 'threads' ? ` OF ${columns.filter((c) => c !== 'current_leaf_id').map(ident).join(', ')}` : '';
  const t = ident(table);
  const name = (op: string) => ident(`sync_capture_${table}_${op}`);
  if (table === 'thread_goals') {
    const same = 'OLD.goal_id IS NEW.goal_id';
    const delta = (c: string) => `CASE WHEN ${same} THEN NEW.${c} - OLD.${c} ELSE 0 END`;
    return `
CREATE TRIGGER IF NOT EXISTS ${name('insert')} AFTER INSERT ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('NEW'), { tokens: '0', time: '0', cont: '0', reset: '1' })}
END;
CREATE TRIGGER IF NOT EXISTS ${name('update')} AFTER UPDATE ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('NEW'), { tokens: delta('tokens_used'), time: delta('time_used_seconds'), cont: delta('continuation_count'), reset: `CASE WHEN ${same} THEN 0 ELSE 1 END` })}
END;
CREATE TRIGGER IF NOT EXISTS ${name('delete')} AFTER DELETE ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('OLD'), { tokens: '0', time: '0', cont: '0', reset: '1' })}
END;`;
  }
  // An update that changes the key records the old key too (as a deletion, seen at push time).
  const oldKey = `INSERT INTO sync_outbox(tbl, key) SELECT '${table}', ${keyOf('OLD')} WHERE ${keyOf('OLD')} IS NOT ${keyOf('NEW')}
    ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1;`;
  return `
CREATE TRIGGER IF NOT EXISTS ${name('insert')} AFTER INSERT ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('NEW'))}
END;
CREATE TRIGGER IF NOT EXISTS ${name('update')} AFTER UPDATE${updateOf} ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('NEW'))}
  ${oldKey}
END;
CREATE TRIGGER IF NOT EXISTS ${name('delete')} AFTER DELETE ON ${t} ${when} BEGIN
  ${outboxUpsert(table, keyOf('OLD'))}
END;`;
}

/** Moves the device's next message id past an id it just gave out. */
const ALLOCATE_SQL = `
CREATE TRIGGER IF NOT EXISTS sync_allocate_message_id AFTER INSERT ON messages
WHEN NEW.id = (SELECT next_id FROM sync_device) BEGIN
  UPDATE sync_device SET next_id = next_id + 1;
END;`;

/** A random site from the unleased half: a device that has never connected allocates from it. */
function provisionalSite(): number {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return LEASED_SITES + (random % (MAX_SITES - LEASED_SITES));
}

/**
 * Turns sync on (idempotent): the outbox, the capture triggers, and the device's identity. The first
 * time, every row already in the database and every session-index entry is put in the outbox, so a
 * store that existed before sync uploads what it holds.
 */
export function enableSyncRows(db: SqlDriver, index: SessionIndex): SyncIdentity {
  db.exec(OUTBOX_SQL);
  for (const table of ROW_TABLES) db.exec(triggersFor(db, table));
  db.exec(ALLOCATE_SQL);
  if (!deviceRow(db)) {
    const site = provisionalSite();
    db.run('INSERT INTO sync_device(one, device, site, next_id) VALUES (1, ?1, ?2, ?3)', [crypto.randomUUID(), site, site * SITE_SIZE + 1]);
    for (const table of ROW_TABLES) {
      const { key } = info(db, table);
      const goal = table === 'thread_goals';
      db.run(
        `INSERT OR IGNORE INTO sync_outbox(tbl, key${goal ? ', reset' : ''})
         SELECT '${table}', json_array(${key.map(ident).join(', ')})${goal ? ', 1' : ''} FROM ${ident(table)}`,
      );
    }
    for (const threadId of index.threadIds()) db.run("INSERT OR IGNORE INTO sync_outbox(tbl, key) VALUES ('session_index', json_array(?1))", [threadId]);
  }
  return identity(db);
}

function identity(db: SqlDriver): SyncIdentity {
  const d = deviceRow(db)!;
  return {
    device: d.device,
    site: d.site,
    siteUsed: d.nextId !== d.site * SITE_SIZE + 1,
    preSync: db.all('SELECT 1 FROM messages WHERE id < ?1 LIMIT 1', [SITE_SIZE]).length > 0,
  };
}

/** Records a session-index entry's change in the outbox (the index is a file, so no trigger sees it). */
export function captureSessionEntry(db: SqlDriver, threadId: string): void {
  db.run(
    "INSERT INTO sync_outbox(tbl, key) SELECT 'session_index', json_array(?1) WHERE (SELECT capture FROM sync_device) = 1 ON CONFLICT(tbl, key) DO UPDATE SET version = version + 1",
    [threadId],
  );
}

/** Takes the site the server gave and acknowledges a push the server had applied before the connection dropped. */
export function adoptWelcome(db: SqlDriver, welcome: Welcome): void {
  const d = deviceRow(db);
  if (!d) throw new StoreError('INVALID_ARGUMENT', 'syncWelcome: sync is not enabled', { details: { field: 'welcome' } });
  if (!Number.isSafeInteger(welcome?.site) || welcome.site < 1 || welcome.site >= MAX_SITES || !Number.isSafeInteger(welcome.lastPush)) {
    throw bad('welcome must carry an integer site and lastPush', 'welcome');
  }
  if (welcome.site !== d.site) {
    if (identity(db).siteUsed) throw new StoreError('CONFLICT', `the server assigned site ${welcome.site}, but ids of site ${d.site} are already in use here`);
    db.run('UPDATE sync_device SET site = ?1, next_id = ?2', [welcome.site, welcome.site * SITE_SIZE + 1]);
  }
  const inFlight = d.push;
  if (inFlight > 0 && inFlight <= welcome.lastPush) acknowledge(db, inFlight);
  if (welcome.lastPush > d.push) db.run('UPDATE sync_device SET push = ?1', [welcome.lastPush]);
}

interface OutboxRow {
  seq: number;
  tbl: SyncTable;
  key: string;
  version: number;
  d: UsageDelta;
  reset: boolean;
  sentJson: string | null;
}

function outboxRows(db: SqlDriver, where: string, params: SqlValue[], limit: number): OutboxRow[] {
  return db.all(`SELECT seq, tbl, key, version, d_tokens, d_time, d_cont, reset, sent_json FROM sync_outbox WHERE ${where} ORDER BY seq LIMIT ${limit}`, params).map((r) => ({
    seq: Number(r['seq']),
    tbl: String(r['tbl']) as SyncTable,
    key: String(r['key']),
    version: Number(r['version']),
    d: { tokens_used: Number(r['d_tokens']), time_used_seconds: Number(r['d_time']), continuation_count: Number(r['d_cont']) },
    reset: Number(r['reset']) === 1,
    sentJson: r['sent_json'] === null ? null : String(r['sent_json']),
  }));
}

function pushedChange(db: SqlDriver, index: SessionIndex, r: OutboxRow): PushedChange {
  const key = JSON.parse(r.key) as (string | number)[];
  if (r.tbl === 'session_index') return { table: r.tbl, key, row: sessionRow(index, String(key[0])) };
  const row = readRow(db, r.tbl, key);
  const change: PushedChange = { table: r.tbl, key, row: row ? wireRow(row) : null };
  if (r.tbl === 'thread_goals' && row && !r.reset) change.add = r.d;
  return change;
}

/**
 * The next batch to push: the batch in flight again, exactly as it was first sent (its rows were
 * saved with it), or a new one of the oldest outbox entries within the server's limits. Null when
 * there is nothing to push.
 */
export function nextPushBatch(db: SqlDriver, index: SessionIndex, limits: SyncLimits): { type: 'push'; push: number; changes: PushedChange[] } | null {
  const d = deviceRow(db);
  if (!d) return null;
  const sent = outboxRows(db, 'sent_push = ?1', [d.push], 1_000_000);
  if (sent.length > 0) return { type: 'push', push: d.push, changes: sent.map((r) => JSON.parse(r.sentJson!) as PushedChange) };
  const push = d.push + 1;
  const changes: PushedChange[] = [];
  const max = Math.max(1, Math.floor(limits.maxChanges));
  // Leave room for the frame's own fields.
  let bytes = 64;
  let after = 0;
  // Rows too big for the server stay in the outbox (counted in pending) and are stepped over, so
  // that they never hold back the rows behind them.
  scan: for (;;) {
    const candidates = outboxRows(db, 'sent_push IS NULL AND seq > ?1', [after], max);
    if (candidates.length === 0) break;
    for (const r of candidates) {
      after = r.seq;
      const change = pushedChange(db, index, r);
      const json = JSON.stringify(change);
      const size = utf8Length(json);
      if (size > limits.maxChangeBytes) continue;
      if (changes.length >= max || (changes.length > 0 && bytes + size + 1 > limits.maxFrameBytes)) break scan;
      bytes += size + 1;
      changes.push(change);
      db.run('UPDATE sync_outbox SET sent_push = ?1, sent_version = version, sent_json = ?2 WHERE seq = ?3', [push, json, r.seq]);
    }
  }
  if (changes.length === 0) return null;
  // A reset row's image carries its usage so far: what is recorded after it is a delta again.
  db.run('UPDATE sync_outbox SET reset = 0, d_tokens = 0, d_time = 0, d_cont = 0 WHERE sent_push = ?1 AND reset = 1', [push]);
  db.run('UPDATE sync_device SET push = ?1', [push]);
  return { type: 'push', push, changes };
}

/** The server applied push `push`: its entries leave the outbox, or keep only what changed since. */
function acknowledge(db: SqlDriver, push: number): void {
  for (const r of db.all('SELECT seq, version, sent_version, sent_json FROM sync_outbox WHERE sent_push = ?1', [push])) {
    if (Number(r['version']) === Number(r['sent_version'])) {
      db.run('DELETE FROM sync_outbox WHERE seq = ?1', [r['seq']!]);
      continue;
    }
    const sent = JSON.parse(String(r['sent_json'])) as PushedChange;
    const a = sent.add ?? { tokens_used: 0, time_used_seconds: 0, continuation_count: 0 };
    db.run(
      `UPDATE sync_outbox SET sent_push = NULL, sent_version = NULL, sent_json = NULL,
         d_tokens = d_tokens - ?2, d_time = d_time - ?3, d_cont = d_cont - ?4 WHERE seq = ?1`,
      [r['seq']!, a.tokens_used, a.time_used_seconds, a.continuation_count],
    );
  }
}

/** Acknowledges push `push`; a number that is not the one in flight is ignored (a late duplicate ack). */
export function acknowledgePushRows(db: SqlDriver, push: number): void {
  const d = deviceRow(db);
  if (!d || push !== d.push) return;
  acknowledge(db, push);
}

/** Pending local changes (outbox entries) and the cursor. */
export function syncStatusRows(db: SqlDriver): { pending: number; cursor: number } {
  const d = deviceRow(db);
  if (!d) return { pending: 0, cursor: 0 };
  return { pending: Number(db.all('SELECT count(*) AS n FROM sync_outbox')[0]!['n']), cursor: d.cursor };
}

const KINDS: Record<SyncTable, ChangeKind> = {
  threads: 'thread',
  thread_dynamic_tools: 'tools',
  messages: 'message',
  message_status: 'message',
  checkpoints: 'checkpoint',
  jobs: 'job',
  thread_goals: 'goal',
  workflow_runs: 'database',
  branch_runs: 'database',
  leaf_runs: 'database',
  control_node_runs: 'database',
  teacher_candidates: 'database',
  graph_checkpoints: 'graphCheckpoint',
  graph_checkpoint_writes: 'graphCheckpoint',
  session_index: 'sessionIndex',
};

/** Checks and converts a row from the wire against the table's columns; the key must match. */
function checkedRow(db: SqlDriver, table: Table, key: readonly SqlValue[], row: WireRow, field: string): SqlRow {
  const { columns, key: keyColumns } = info(db, table);
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw bad(`${field} must be an object or null`, field);
  const out: SqlRow = {};
  for (const [name, value] of Object.entries(row)) {
    if (!columns.includes(name)) throw bad(`${field}: ${table} has no column ${JSON.stringify(name)}`, field);
    out[name] = fromWire(value, `${field}.${name}`);
  }
  keyColumns.forEach((c, i) => {
    if (out[c] !== key[i]) throw bad(`${field}.${c} does not match the change's key`, field);
  });
  return out;
}

function checkedKey(db: SqlDriver, table: SyncTable, key: unknown, field: string): (string | number)[] {
  const length = table === 'session_index' ? 1 : info(db, table).key.length;
  if (!Array.isArray(key) || key.length !== length || !key.every((k) => typeof k === 'string' || (typeof k === 'number' && Number.isSafeInteger(k)))) {
    throw bad(`${field} must be an array of ${length} string or integer values`, field);
  }
  return key as (string | number)[];
}

function checkedTable(table: unknown, field: string): SyncTable {
  if (typeof table !== 'string' || !(SYNC_TABLES as readonly string[]).includes(table)) throw bad(`${field} must be one of ${SYNC_TABLES.join(', ')}`, field);
  return table as SyncTable;
}

/** Whether every parent row this row references exists (a row under a deleted thread does not). */
function parentsExist(db: SqlDriver, table: Table, row: SqlRow, seen?: Set<string>): boolean {
  for (const p of info(db, table).parents) {
    const values = p.from.map((c) => row[c] ?? null);
    if (values.some((v) => v === null)) continue;
    // A parent found stays found until the batch deletes something (the caller clears `seen` then).
    const id = seen ? `${p.table}\u0000${JSON.stringify(values)}` : '';
    if (seen?.has(id)) continue;
    if (db.all(`SELECT 1 FROM ${ident(p.table)} WHERE ${keyWhere(p.to)} LIMIT 1`, values).length === 0) return false;
    seen?.add(id);
  }
  return true;
}

/** INSERT or UPDATE every given column; an unchanged row is not written at all. */
function upsertRow(db: SqlDriver, table: Table, row: SqlRow, keep: readonly string[] = []): void {
  const { key } = info(db, table);
  const names = Object.keys(row);
  const set = names.filter((c) => !key.includes(c) && !keep.includes(c));
  const values = names.map((c) => row[c]!);
  const conflict = set.length > 0
    ? `DO UPDATE SET ${set.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')} WHERE ${set.map((c) => `${ident(c)} IS NOT excluded.${ident(c)}`).join(' OR ')}`
    : 'DO NOTHING';
  db.run(`INSERT INTO ${ident(table)} (${names.map(ident).join(', ')}) VALUES (${names.map((_, i) => `?${i + 1}`).join(', ')}) ON CONFLICT(${key.map(ident).join(', ')}) ${conflict}`, values);
}

/**
 * Deletes a row. A message goes with every message under it, so that no tree is left with a missing
 * parent (a device only ever deletes whole threads' messages, so this adds nothing to those), and a
 * thread whose current leaf went with them moves its leaf to its newest message left.
 */
function deleteRow(db: SqlDriver, table: Table, key: readonly SqlValue[]): boolean {
  if (table !== 'messages') return db.run(`DELETE FROM ${ident(table)} WHERE ${keyWhere(info(db, table).key)}`, key).changes > 0;
  const thread = db.all('SELECT thread_id FROM messages WHERE id = ?1', key)[0]?.['thread_id'];
  if (thread === undefined) return false;
  db.run(
    `WITH RECURSIVE doomed(id) AS (SELECT ?1 UNION SELECT m.id FROM messages m JOIN doomed d ON m.parent_entry_id = d.id)
     DELETE FROM messages WHERE id IN doomed`,
    key,
  );
  db.run(
    `UPDATE threads SET current_leaf_id = (SELECT id FROM messages WHERE thread_id = ?1 ORDER BY created_at DESC, id DESC LIMIT 1)
     WHERE id = ?1 AND current_leaf_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages WHERE id = threads.current_leaf_id)`,
    [thread],
  );
  return true;
}

/**
 * Applies rows pulled from the server, with capture off, and stores the cursor. A row with a change
 * of its own still in the outbox keeps the local state (this device's push comes later in the
 * server's order, so it wins there too), except goal usage: the server's totals plus what is still
 * to be pushed. A deletion always wins. Each thread's current leaf moves only along messages that
 * continue it. Must not run while a push is in flight. Returns the changes to announce.
 */
export function applyPulledRows(db: SqlDriver, index: SessionIndex, changes: PulledChange[], cursor: number): StoreChange[] {
  if (!deviceRow(db)) throw new StoreError('INVALID_ARGUMENT', 'applyPulled: sync is not enabled', { details: { field: 'changes' } });
  if (!Array.isArray(changes)) throw bad('changes must be an array', 'changes');
  if (!Number.isSafeInteger(cursor) || cursor < 0) throw bad('cursor must be a non-negative integer', 'cursor');
  const order = new Map<SyncTable, number>(SYNC_TABLES.map((t, i) => [t, i]));
  const sorted = changes
    .map((c, i) => ({ c, i, table: checkedTable(c?.table, `changes[${i}].table`) }))
    // Parents before children: a page may hold a child before its parent in the server's order.
    .sort((a, b) => order.get(a.table)! - order.get(b.table)! || a.i - b.i);
  const announced = new Map<string, StoreChange>();
  const announce = (kind: ChangeKind, threadId: string | null, id: string | number | null) => {
    announced.set(`${kind}\u0000${threadId}\u0000${id}`, { kind, method: null, threadId, id });
  };
  const arrived = new Map<string, number[]>();
  const parents = new Set<string>();
  // The outbox is read once per page when it is small (the usual case), else row by row.
  const outboxSize = Number(db.all('SELECT count(*) AS n FROM sync_outbox')[0]!['n']);
  const all = outboxSize <= 2000 ? new Map(db.all('SELECT tbl, key, d_tokens, d_time, d_cont, reset FROM sync_outbox').map((r) => [`${r['tbl']}\u0000${r['key']}`, r])) : null;
  const pendingOf = (table: SyncTable, k: string): SqlRow | undefined =>
    all ? all.get(`${table}\u0000${k}`) : db.all('SELECT d_tokens, d_time, d_cont, reset FROM sync_outbox WHERE tbl = ?1 AND key = ?2', [table, k])[0];
  db.run('UPDATE sync_device SET capture = 0');
  try {
    for (const { c, i, table } of sorted) {
      const key = checkedKey(db, table, c.key, `changes[${i}].key`);
      const k = keyText(db, key);
      const pending = pendingOf(table, k);
      if (table === 'session_index') {
        if (c.row === null) continue;
        const entry = sessionEntry(c.row);
        if (entry.threadId !== key[0]) throw bad(`changes[${i}].row.thread_id does not match the key`, `changes[${i}]`);
        if (pending) continue;
        if (!sameEntry(index.get(entry.threadId), entry)) index.append(entry);
        announce('sessionIndex', entry.threadId, entry.threadId);
        continue;
      }
      if (c.row === null) {
        const threadId = threadOfRow(db, table, readRow(db, table, key));
        if (deleteRow(db, table, key)) announce(KINDS[table], threadId, key.length === 1 ? key[0]! : null);
        parents.clear();
        db.run('DELETE FROM sync_outbox WHERE tbl = ?1 AND key = ?2', [table, k]);
        continue;
      }
      const row = checkedRow(db, table, key, c.row, `changes[${i}].row`);
      if (pending) {
        if (table !== 'thread_goals' || Number(pending['reset']) === 1) continue;
        const local = readRow(db, table, key);
        if (!local || local['goal_id'] !== row['goal_id']) continue;
        const d = [pending['d_tokens'], pending['d_time'], pending['d_cont']].map(Number);
        db.run(`UPDATE thread_goals SET ${COUNTERS.map((col, j) => `${col} = ?${j + 2}`).join(', ')} WHERE thread_id = ?1`, [
          key[0]!,
          ...COUNTERS.map((col, j) => Number(row[col] ?? 0) + d[j]!),
        ]);
        announce('goal', String(key[0]), row['goal_id'] as string);
        continue;
      }
      if (!parentsExist(db, table, row, parents)) continue;
      const exists = table === 'threads' && readRow(db, table, key) !== null;
      upsertRow(db, table, row, exists ? ['current_leaf_id'] : []);
      const threadId = threadOfRow(db, table, row);
      announce(KINDS[table], threadId, table === 'messages' || table === 'threads' || table === 'jobs' ? key[0]! : table === 'checkpoints' ? key[1]! : null);
      if (table === 'messages' && threadId) arrived.set(threadId, [...(arrived.get(threadId) ?? []), Number(row['id'])]);
    }
    for (const [threadId, ids] of arrived) followLeaf(db, threadId, ids);
    db.run('UPDATE sync_device SET cursor = MAX(cursor, ?1)', [cursor]);
  } finally {
    db.run('UPDATE sync_device SET capture = 1');
  }
  return [...announced.values()];
}

/** Moves a thread's leaf down the arrived messages that continue it, one generation at a time. */
function followLeaf(db: SqlDriver, threadId: string, ids: number[]): void {
  const row = db.all('SELECT current_leaf_id FROM threads WHERE id = ?1', [threadId])[0];
  if (!row) return;
  let leaf = row['current_leaf_id'] === null ? null : Number(row['current_leaf_id']);
  const arrived = new Set(ids);
  const start = leaf;
  for (;;) {
    const next = db.all(
      `SELECT id FROM messages WHERE thread_id = ?1 AND parent_entry_id IS ?2 ORDER BY id`,
      [threadId, leaf],
    ).map((r) => Number(r['id'])).filter((id) => arrived.has(id));
    // Only an unambiguous continuation moves the view: one arrived child of the leaf.
    if (next.length !== 1) break;
    leaf = next[0]!;
    arrived.delete(leaf);
  }
  if (leaf !== start) db.run('UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2', [leaf, threadId]);
}

function threadOfRow(db: SqlDriver, table: Table, row: SqlRow | null): string | null {
  if (!row) return null;
  if (table === 'threads') return String(row['id']);
  if (typeof row['thread_id'] === 'string') return row['thread_id'];
  if (table === 'message_status' && row['message_id'] !== null && row['message_id'] !== undefined) {
    const m = db.all('SELECT thread_id FROM messages WHERE id = ?1', [row['message_id']])[0];
    return m ? String(m['thread_id']) : null;
  }
  return null;
}

// --- the server ----------------------------------------------------------------------------------

const SERVER_SQL = `
CREATE TABLE IF NOT EXISTS sync_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  device TEXT,
  UNIQUE (tbl, key)
);
CREATE TABLE IF NOT EXISTS sync_devices (
  device TEXT PRIMARY KEY,
  last_push INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sync_sites (
  site INTEGER PRIMARY KEY,
  device TEXT NOT NULL
);
`;

/** The server's tables, created on first use (an imported file may come without them). */
function serverTables(db: SqlDriver): void {
  db.exec(SERVER_SQL);
}

/** The server's newest seq. */
export function serverCursor(db: SqlDriver): number {
  serverTables(db);
  return Number(db.all('SELECT COALESCE(MAX(seq), 0) AS s FROM sync_log')[0]!['s']);
}

const DEVICE_ID = /^[A-Za-z0-9_-]{8,64}$/;

/** The device's sites; null when the device never said hello. */
function sitesOf(db: SqlDriver, device: string): number[] {
  return db.all('SELECT site FROM sync_sites WHERE device = ?1', [device]).map((r) => Number(r['site']));
}

function claim(db: SqlDriver, site: number, device: string): void {
  const owner = db.all('SELECT device FROM sync_sites WHERE site = ?1', [site])[0];
  if (owner && owner['device'] !== device) {
    throw new StoreError('CONFLICT', site === 0
      ? 'another device already uploaded messages written before sync was turned on; this store cannot join (export it and import it elsewhere)'
      : `site ${site} is already another device's: this device wrote messages before it ever connected and drew a site in use (about one chance in a million per pair of devices)`, { details: { site } });
  }
  if (!owner) db.run('INSERT INTO sync_sites(site, device) VALUES (?1, ?2)', [site, device]);
}

/**
 * A device says hello: registers it, leases it a site (or accepts the provisional one it already
 * used, if free), and says which of its pushes were applied. CONFLICT when its ids would collide.
 */
export function serveHelloRows(db: SqlDriver, hello: unknown, limits: SyncLimits = DEFAULT_SYNC_LIMITS): Welcome {
  serverTables(db);
  const h = hello as Partial<Hello> | null;
  if (typeof h !== 'object' || h === null) throw bad('hello must be an object', 'hello');
  if (h.protocol !== SYNC_PROTOCOL) throw bad(`protocol ${String(h.protocol)} is not ${SYNC_PROTOCOL}`, 'hello.protocol');
  checkedDevice(h.device, 'hello.device');
  if (!Number.isSafeInteger(h.site) || h.site! < 1 || h.site! >= MAX_SITES) throw bad(`hello.site must be an integer from 1 to ${MAX_SITES - 1}`, 'hello.site');
  if (typeof h.siteUsed !== 'boolean' || typeof h.preSync !== 'boolean') throw bad('hello.siteUsed and hello.preSync must be booleans', 'hello');
  const device = h.device!;
  const known = db.all('SELECT last_push FROM sync_devices WHERE device = ?1', [device])[0];
  const sites = sitesOf(db, device).filter((s) => s > 0);
  let site: number;
  if (sites.includes(h.site!)) site = h.site!;
  else if (h.siteUsed) {
    claim(db, h.site!, device);
    site = h.site!;
  } else if (sites.length > 0) site = sites[0]!;
  else {
    site = Number(db.all('SELECT COALESCE(MAX(site), 0) + 1 AS s FROM sync_sites WHERE site < ?1', [LEASED_SITES])[0]!['s']);
    if (site >= LEASED_SITES) throw new StoreError('QUOTA_EXCEEDED', 'no site left to lease');
    claim(db, site, device);
  }
  if (h.preSync) claim(db, 0, device);
  if (!known) db.run('INSERT INTO sync_devices(device) VALUES (?1)', [device]);
  return { type: 'welcome', site, lastPush: known ? Number(known['last_push']) : 0, cursor: serverCursor(db), limits };
}

interface CheckedChange {
  table: SyncTable;
  key: (string | number)[];
  keyText: string;
  row: SqlRow | null;
  entry?: SessionIndexEntry;
  add?: UsageDelta;
}

function checkedAdd(add: unknown, field: string): UsageDelta {
  const a = add as Partial<UsageDelta> | null;
  if (typeof a !== 'object' || a === null) throw bad(`${field} must be an object`, field);
  for (const c of COUNTERS) if (!Number.isSafeInteger(a[c])) throw bad(`${field}.${c} must be an integer`, field);
  return a as UsageDelta;
}

/**
 * Applies a device's push, exactly once: a push number the device already had applied is answered
 * as done, without writing. Everything is checked before anything is written; the caller runs this
 * in one transaction, so a refused push leaves the object's data as it was.
 */
export function servePushRows(
  db: SqlDriver,
  index: SessionIndex,
  device: string,
  push: unknown,
  changes: unknown,
  limits: SyncLimits = DEFAULT_SYNC_LIMITS,
): { applied: number; skipped: number; cursor: number } {
  serverTables(db);
  const known = db.all('SELECT last_push FROM sync_devices WHERE device = ?1', [device])[0];
  if (!known) throw new StoreError('INVALID_ARGUMENT', 'push before hello: the device is not registered', { details: { field: 'device' } });
  if (!Number.isSafeInteger(push) || (push as number) < 1) throw bad('push must be a positive integer', 'push');
  if (!Array.isArray(changes)) throw bad('changes must be an array', 'changes');
  if (changes.length > limits.maxChanges) throw bad(`a push holds at most ${limits.maxChanges} changes; this one has ${changes.length}`, 'changes');
  const lastPush = Number(known['last_push']);
  if ((push as number) <= lastPush) return { applied: 0, skipped: 0, cursor: serverCursor(db) };
  const sites = new Set(sitesOf(db, device));
  const checked: CheckedChange[] = changes.map((raw: unknown, i: number) => {
    const field = `changes[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw bad(`${field} must be an object`, field);
    let size: number;
    try {
      size = utf8Length(JSON.stringify(raw));
    } catch {
      throw bad(`${field} must be plain JSON data`, field);
    }
    if (size > limits.maxChangeBytes) throw bad(`${field} is ${size} bytes; a change holds at most ${limits.maxChangeBytes}`, field);
    const c = raw as Partial<PushedChange>;
    const table = checkedTable(c.table, `${field}.table`);
    const key = checkedKey(db, table, c.key, `${field}.key`);
    const out: CheckedChange = { table, key, keyText: keyText(db, key), row: null };
    if (c.row === undefined) throw bad(`${field}.row must be an object or null`, `${field}.row`);
    if (c.row !== null) {
      if (table === 'session_index') {
        out.entry = sessionEntry(c.row);
        if (out.entry.threadId !== key[0]) throw bad(`${field}.row.thread_id does not match the key`, field);
      } else out.row = checkedRow(db, table, key, c.row, `${field}.row`);
    }
    if (c.add !== undefined) {
      if (table !== 'thread_goals') throw bad(`${field}.add is for thread_goals only`, `${field}.add`);
      out.add = checkedAdd(c.add, `${field}.add`);
    }
    // A new message must carry an id of the pushing device's own sites.
    if (table === 'messages' && out.row && !sites.has(Math.floor(Number(key[0]) / SITE_SIZE)) && readRow(db, 'messages', key) === null) {
      throw bad(`${field}: message id ${key[0]} is not in this device's id sites`, `${field}.key`);
    }
    return out;
  });
  let applied = 0;
  let skipped = 0;
  const parents = new Set<string>();
  for (const c of checked) {
    const log = db.all('SELECT deleted FROM sync_log WHERE tbl = ?1 AND key = ?2', [c.table, c.keyText])[0];
    if (log && Number(log['deleted']) === 1) {
      // Deletes win: a tombstoned row never comes back.
      skipped++;
      continue;
    }
    if (c.table === 'session_index') {
      if (!c.entry) {
        skipped++;
        continue;
      }
      if (!sameEntry(index.get(c.entry.threadId), c.entry)) index.append(c.entry);
    } else if (c.row === null) {
      deleteRow(db, c.table, c.key);
      parents.clear();
    } else {
      if (!parentsExist(db, c.table, c.row, parents)) {
        skipped++;
        continue;
      }
      const current = c.table === 'thread_goals' && c.add ? readRow(db, c.table, c.key) : null;
      if (c.add && current && current['goal_id'] === c.row['goal_id']) {
        const row = { ...c.row };
        for (const col of COUNTERS) row[col] = Number(current[col] ?? 0) + c.add[col];
        upsertRow(db, c.table, row);
      } else upsertRow(db, c.table, c.row);
    }
    // REPLACE drops the row's old entry and logs it again under a new seq.
    db.run('INSERT OR REPLACE INTO sync_log(tbl, key, deleted, device) VALUES (?1, ?2, ?3, ?4)', [c.table, c.keyText, c.row === null && !c.entry ? 1 : 0, device]);
    applied++;
  }
  db.run('UPDATE sync_devices SET last_push = ?2 WHERE device = ?1', [device, push as number]);
  return { applied, skipped, cursor: serverCursor(db) };
}

/**
 * The log after `cursor`, oldest first, each row in its state now (null: deleted). Rows the asking
 * device wrote last are left out (it has them), except goals (their totals are the server's). A
 * row's parents that come later in the log are sent with it, so the device can apply every page.
 */
export function servePullRows(
  db: SqlDriver,
  index: SessionIndex,
  cursor: unknown,
  limit: unknown,
  device?: string,
  maxBytes = DEFAULT_SYNC_LIMITS.maxFrameBytes - 4096,
): { changes: PulledChange[]; cursor: number; more: boolean } {
  serverTables(db);
  if (!Number.isSafeInteger(cursor) || (cursor as number) < 0) throw bad('cursor must be a non-negative integer', 'cursor');
  const max = limit === undefined ? 500 : limit;
  if (!Number.isSafeInteger(max) || (max as number) < 1 || (max as number) > 5000) throw bad('limit must be an integer from 1 to 5000', 'limit');
  const entries = db.all('SELECT seq, tbl, key, deleted, device FROM sync_log WHERE seq > ?1 ORDER BY seq LIMIT ?2', [cursor as number, (max as number) + 1]);
  const more = entries.length > (max as number);
  const page = entries.slice(0, max as number);
  const end = page.length > 0 ? Number(page[page.length - 1]!['seq']) : (cursor as number);
  const changes: PulledChange[] = [];
  const included = new Set<string>();
  const add = (seq: number, table: SyncTable, text: string, deleted: boolean) => {
    const id = `${table}\u0000${text}`;
    if (included.has(id)) return;
    included.add(id);
    const key = JSON.parse(text) as (string | number)[];
    if (table === 'session_index') {
      changes.push({ seq, table, key, row: sessionRow(index, String(key[0])) });
      return;
    }
    const row = deleted ? null : readRow(db, table, key);
    if (row) {
      for (const p of info(db, table).parents) {
        const values = p.from.map((c) => row[c] ?? null);
        if (values.some((v) => v === null)) continue;
        const parentKey = keyText(db, info(db, p.table).key.map((k) => values[p.to.indexOf(k)] ?? null));
        // Not yet delivered (after the cursor): sent ahead of the row, wherever the page ends up cut.
        const later = db.all('SELECT seq FROM sync_log WHERE tbl = ?1 AND key = ?2 AND seq > ?3', [p.table, parentKey, cursor as number])[0];
        if (later) add(Number(later['seq']), p.table, parentKey, false);
      }
    }
    changes.push({ seq, table, key, row: row ? wireRow(row) : null });
  };
  // A page also stops at maxBytes of rows, so that its frame stays within what a socket carries.
  let bytes = 0;
  let last = cursor as number;
  for (const e of page) {
    const table = String(e['tbl']) as SyncTable;
    if (!(device !== undefined && e['device'] === device && table !== 'thread_goals')) {
      const before = changes.length;
      add(Number(e['seq']), table, String(e['key']), Number(e['deleted']) === 1);
      const size = changes.slice(before).reduce((n, c) => n + utf8Length(JSON.stringify(c)) + 1, 0);
      if (before > 0 && bytes + size > maxBytes) {
        // This entry starts the next page.
        changes.length = before;
        return { changes, cursor: last, more: true };
      }
      bytes += size;
    }
    last = Number(e['seq']);
  }
  return { changes, cursor: page.length > 0 ? end : last, more };
}
