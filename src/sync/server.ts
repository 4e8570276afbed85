/**
 * The server's side of sync (docs/sync.md): it registers devices and leases their id sites, applies
 * each device's pushes exactly once and merges them by the policy table, logs every row it changes
 * under a new seq, serves the log by cursor, and forgets tombstones every active device has passed.
 * Plain SQL over the core's port; the Durable Object (src/cloudflare/object.ts) carries the frames.
 *
 * The server is also a writer of its own (edgeStore(), the HTTP routes): it records its own writes
 * with the same capture triggers as a device, from a site of its own, and logs them after each call
 * (logOwnWrites), so devices pull them like any other push.
 */
import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from '../core/errors.js';
import { LATEST_SCHEMA_VERSION } from '../core/migrate.js';
import type { StateStore, StoreLayerPort } from '../core/store.js';
import { atomically } from '../core/transaction.js';
import { CAPTURE_SQL, captureSessionEntry, createTriggers, maskedColumns } from './capture.js';
import { policyOf, ROW_TABLES, SESSION_INDEX, SYNC_TABLES, type RowTable, type SyncTable } from './policy.js';
import {
  DEFAULT_SYNC_LIMITS, LEASED_SITES, MAX_SITES, SERVER_DEVICE, SITE_SIZE, SYNC_PROTOCOL,
  type Ack, type Changes, type Hello, type PulledChange, type PushedChange, type RejectedChange, type SyncLimits, type UsageDelta, type Welcome,
} from './protocol.js';
import { deleteCascade, hasTable, larger, sameValues, writeRow } from './rows.js';
import { sessionEntry, sessionRow, sameEntry } from './session-rows.js';
import { bad, checkedDevice, checkedKey, checkedLimits, checkedRow, checkedTable, columnsOf, ident, keyText, readRow, utf8Length, wireRow } from './values.js';

/** The layout of the server's tables; an older one (protocol 1) is rebuilt under a new epoch. */
const LAYOUT = 2;

const SERVER_SQL = `
CREATE TABLE IF NOT EXISTS sync_server (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  layout INTEGER NOT NULL,
  epoch TEXT NOT NULL,
  floor INTEGER NOT NULL DEFAULT 0,
  collected_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sync_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  device TEXT,
  own INTEGER NOT NULL DEFAULT 0,
  dead_seq INTEGER,
  dead_device TEXT,
  UNIQUE (tbl, key)
);
CREATE INDEX IF NOT EXISTS sync_log_tombstones ON sync_log(seq) WHERE deleted = 1;
CREATE INDEX IF NOT EXISTS sync_log_dead ON sync_log(dead_seq) WHERE dead_seq IS NOT NULL;
CREATE TABLE IF NOT EXISTS sync_devices (
  device TEXT PRIMARY KEY,
  last_push INTEGER NOT NULL DEFAULT 0,
  secret TEXT,
  last_hash TEXT,
  last_rejected TEXT,
  cursor INTEGER NOT NULL DEFAULT 0,
  seen_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sync_sites (site INTEGER PRIMARY KEY, device TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_written (
  device TEXT NOT NULL, tbl TEXT NOT NULL, key TEXT NOT NULL, push INTEGER NOT NULL,
  PRIMARY KEY (device, tbl, key)
) WITHOUT ROWID;
`;

/** Options of the server side. */
export interface SyncServerOptions {
  /** A device not seen for this long no longer holds back the collection of tombstones (it re-pulls everything when it returns). Default 30 days. */
  retentionSeconds?: number;
  /** Tombstones are collected at most this often. Default one hour. */
  collectEverySeconds?: number;
}

/** How much the server keeps for sync: log entries, of which tombstones, and the rollback ledger's rows. */
export interface SyncSizes {
  log: number;
  tombstones: number;
  written: number;
  devices: number;
  floor: number;
}

interface LogEntry {
  seq: number;
  deleted: boolean;
  device: string | null;
  deadSeq: number | null;
  deadDevice: string | null;
}

interface DeviceRecord {
  lastPush: number;
  secret: string | null;
  lastHash: string | null;
  lastRejected: RejectedChange[];
}

type Outcome = { applied: true } | { applied: false; rejected?: { code: StoreError['code']; message: string }; retry?: true };

const SKIPPED: Outcome = { applied: false };

/** A message written under an id the server holds for another message. */
const taken = (id: number): Outcome => ({ applied: false, rejected: { code: 'CONFLICT', message: `message id ${id} is taken by another message on the server` } });

/** FNV-1a of a text, 52 bits, as hex: tells two different pushes under one number apart. */
function fingerprint(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xfffffffffffffn;
  }
  return h.toString(16);
}

/**
 * A store's server side of sync. The Durable Object attaches it once per store and runs each frame's
 * method inside the call's transaction.
 *
 * @example
 * const server = SyncServer.attach(store);
 * const welcome = server.hello(frame, limits);
 */
export class SyncServer {
  readonly #port: StoreLayerPort;
  readonly #retention: number;
  readonly #collectEvery: number;

  private constructor(port: StoreLayerPort, options: SyncServerOptions) {
    this.#port = port;
    this.#retention = options.retentionSeconds ?? 30 * 24 * 60 * 60;
    this.#collectEvery = options.collectEverySeconds ?? 60 * 60;
    port.onImport(() => {
      if (this.#ready) this.#reset();
    });
    if (this.#ready) port.index.onAppend = (threadId) => captureSessionEntry(port.db, threadId);
  }

  /** The server side of `store`; attach once per open store. */
  static attach(store: StateStore, options: SyncServerOptions = {}): SyncServer {
    return new SyncServer(store.layer(), options);
  }

  get #db(): SqlDriver {
    return this.#port.db;
  }

  /** Whether this store has ever served sync. */
  get #ready(): boolean {
    return hasTable(this.#db, 'sync_server') && this.#db.all('SELECT 1 FROM sync_server WHERE layout = ?1', [LAYOUT]).length > 0;
  }

  /** Sets the server up on first use: its tables, its own site and capture, and a log of every row already here. */
  #ensure(): void {
    if (this.#ready) return;
    const db = this.#db;
    if (hasTable(db, 'sync_log')) {
      // Protocol 1's log has none of the columns the rules need: start a new history.
      db.exec('DROP TABLE sync_log');
      for (const [column, type] of [['secret', 'TEXT'], ['last_hash', 'TEXT'], ['last_rejected', 'TEXT'], ['cursor', 'INTEGER NOT NULL DEFAULT 0'], ['seen_at', 'INTEGER NOT NULL DEFAULT 0']]) {
        if (hasTable(db, 'sync_devices') && !db.all('PRAGMA table_info(sync_devices)').some((c) => c['name'] === column)) db.exec(`ALTER TABLE sync_devices ADD COLUMN ${column} ${type}`);
      }
    }
    db.exec(SERVER_SQL);
    db.exec(CAPTURE_SQL);
    db.run('DELETE FROM sync_server');
    db.run('INSERT INTO sync_server(one, layout, epoch) VALUES (1, ?1, ?2)', [LAYOUT, crypto.randomUUID()]);
    this.#rebuild();
    this.#port.index.onAppend = (threadId) => captureSessionEntry(db, threadId);
  }

  /** The server's own identity and capture, and every row logged anew (its first use, or after an import replaced the data). */
  #rebuild(): void {
    const db = this.#db;
    db.run('DELETE FROM sync_log');
    db.run('DELETE FROM sync_written');
    db.run('DELETE FROM sync_outbox');
    db.run('DELETE FROM sync_device');
    let site = db.all('SELECT site FROM sync_sites WHERE device = ?1 AND site > 0', [SERVER_DEVICE])[0]?.['site'] as number | undefined;
    if (site === undefined) site = this.#lease(SERVER_DEVICE);
    const top = Number(db.all('SELECT COALESCE(MAX(id), 0) AS m FROM messages WHERE id >= ?1 AND id < ?2', [site * SITE_SIZE, (site + 1) * SITE_SIZE])[0]!['m']);
    db.run('INSERT INTO sync_device(one, device, site, next_id) VALUES (1, ?1, ?2, ?3)', [SERVER_DEVICE, site, Math.max(top + 1, site * SITE_SIZE + 1)]);
    // Messages written before sync (AUTOINCREMENT's ids, site 0) are the server's own.
    if (db.all('SELECT 1 FROM messages WHERE id < ?1 LIMIT 1', [SITE_SIZE]).length > 0) db.run('INSERT OR IGNORE INTO sync_sites(site, device) VALUES (0, ?1)', [SERVER_DEVICE]);
    createTriggers(db);
    for (const table of ROW_TABLES) {
      db.run(
        `INSERT INTO sync_log(tbl, key, deleted, device) SELECT '${table}', json_array(${policyOf(table).key.map(ident).join(', ')}), 0, ?1 FROM ${ident(table)}`,
        [SERVER_DEVICE],
      );
    }
    for (const threadId of this.#port.index.threadIds()) {
      db.run('INSERT INTO sync_log(tbl, key, deleted, device) VALUES (?1, json_array(?2), 0, ?3)', [SESSION_INDEX, threadId, SERVER_DEVICE]);
    }
  }

  /** An import replaced the data: a new history, which every device pulls whole. */
  #reset(): void {
    const db = this.#db;
    db.exec(SERVER_SQL);
    db.exec(CAPTURE_SQL);
    db.run('UPDATE sync_server SET epoch = ?1, floor = 0', [crypto.randomUUID()]);
    this.#rebuild();
  }

  #lease(device: string): number {
    const site = Number(this.#db.all('SELECT COALESCE(MAX(site), 0) + 1 AS s FROM sync_sites WHERE site < ?1', [LEASED_SITES])[0]!['s']);
    if (site >= LEASED_SITES) throw new StoreError('QUOTA_EXCEEDED', 'no id site left to lease');
    this.#db.run('INSERT INTO sync_sites(site, device) VALUES (?1, ?2)', [site, device]);
    return site;
  }

  /** The server's newest seq. */
  cursor(): number {
    return this.#port.call('syncCursor', () => (this.#ready ? serverCursor(this.#db) : 0));
  }

  /** What the server keeps for sync. */
  sizes(): SyncSizes {
    return this.#port.call('syncSizes', () => {
      if (!this.#ready) return { log: 0, tombstones: 0, written: 0, devices: 0, floor: 0 };
      const n = (sql: string) => Number(this.#db.all(sql)[0]!['n']);
      return {
        log: n('SELECT count(*) AS n FROM sync_log'),
        tombstones: n('SELECT count(*) AS n FROM sync_log WHERE deleted = 1'),
        written: n('SELECT count(*) AS n FROM sync_written'),
        devices: n('SELECT count(*) AS n FROM sync_devices'),
        floor: n('SELECT floor AS n FROM sync_server'),
      };
    });
  }

  /**
   * A device says hello: checks its schema and secret, registers it (with its secret) or knows it,
   * leases it a site (or accepts the provisional one it already used, if free), says which of its
   * pushes were applied, and whether it must pull everything first (a new history, a cursor below
   * what was collected, a rollback).
   */
  hello(frame: unknown, limits: SyncLimits = DEFAULT_SYNC_LIMITS): Welcome {
    return this.#port.call('serveHello', () => {
      const l = checkedLimits(limits);
      const h = checkedHello(frame);
      this.#ensure();
      const db = this.#db;
      if (h.schema !== LATEST_SCHEMA_VERSION) {
        const newer = h.schema > LATEST_SCHEMA_VERSION ? 'the device is newer than the server: deploy the newer server code' : 'the server is newer than the device: reload the app to update it';
        throw new StoreError('SCHEMA_TOO_NEW', `sync: the device's schema is version ${h.schema}, the server's ${LATEST_SCHEMA_VERSION}; ${newer}`, {
          details: { deviceVersion: h.schema, serverVersion: LATEST_SCHEMA_VERSION },
        });
      }
      const known = deviceRecord(db, h.device);
      if (known?.secret && h.secret !== known.secret) {
        throw new StoreError('FORBIDDEN', `sync: device ${h.device} is registered with another secret; a copy of a device cannot say hello in its name`, { details: { field: 'hello.secret' } });
      }
      const sites = sitesOf(db, h.device).filter((s) => s > 0);
      let site: number;
      if (sites.includes(h.site)) site = h.site;
      else if (h.siteUsed) {
        claim(db, h.site, h.device);
        site = h.site;
      } else if (sites.length > 0) site = sites[0]!;
      else site = this.#lease(h.device);
      // The first device with messages from before sync owns site 0; another's such messages are set aside.
      if (h.preSync) db.run('INSERT OR IGNORE INTO sync_sites(site, device) VALUES (0, ?1)', [h.device]);
      const now = this.#port.now();
      db.run(
        `INSERT INTO sync_devices(device, secret, cursor, seen_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(device) DO UPDATE SET secret = COALESCE(sync_devices.secret, excluded.secret), cursor = excluded.cursor, seen_at = excluded.seen_at`,
        [h.device, known?.secret ?? h.secret, h.cursor, now],
      );
      this.#collect(now);
      const server = db.all('SELECT epoch, floor FROM sync_server')[0]!;
      const epoch = String(server['epoch']);
      const lastPush = known?.lastPush ?? 0;
      const rollback = lastPush > h.push;
      const resync = h.epoch !== epoch ? 'epoch' : h.cursor < Number(server['floor']) ? 'floor' : rollback ? 'rollback' : null;
      const welcome: Welcome = { type: 'welcome', site, lastPush, cursor: serverCursor(db), limits: l, epoch, resync };
      if (rollback) {
        welcome.nextId = Number(db.all('SELECT COALESCE(MAX(id), 0) + 1 AS n FROM messages WHERE id >= ?1 AND id < ?2', [site * SITE_SIZE, (site + 1) * SITE_SIZE])[0]!['n']);
      }
      if (known && known.lastRejected.length > 0) welcome.rejected = known.lastRejected;
      return welcome;
    });
  }

  /**
   * Applies a device's push, exactly once: a push number the device already had applied changes
   * nothing (the same number with other content is a copy of the device: CONFLICT). Each change is
   * applied, skipped by the rules, or set aside with a reason (named in the ack); a change that
   * fails in the engine is rolled back alone and set aside.
   */
  push(device: string, frame: unknown, limits: SyncLimits = DEFAULT_SYNC_LIMITS): Ack {
    return this.#port.call('servePush', () => {
      const l = checkedLimits(limits);
      const id = checkedDevice(device);
      this.#ensure();
      const db = this.#db;
      const f = frame as { push?: unknown; seen?: unknown; changes?: unknown } | null;
      if (typeof f !== 'object' || f === null) throw bad('push must be an object', 'push');
      const known = deviceRecord(db, id);
      if (!known) throw new StoreError('INVALID_ARGUMENT', 'push before hello: the device is not registered', { details: { field: 'device' } });
      const push = f.push;
      if (!Number.isSafeInteger(push) || (push as number) < 1) throw bad('push must be a positive integer', 'push');
      if (!Number.isSafeInteger(f.seen) || (f.seen as number) < 0) throw bad('seen must be a non-negative integer', 'seen');
      if (!Array.isArray(f.changes)) throw bad('changes must be an array', 'changes');
      if (f.changes.length > l.maxChanges) throw bad(`a push holds at most ${l.maxChanges} changes; this one has ${f.changes.length}`, 'changes');
      let text: string;
      try {
        text = JSON.stringify(f.changes);
      } catch {
        throw bad('changes must be plain JSON data', 'changes');
      }
      const hash = fingerprint(text);
      const n = push as number;
      if (n <= known.lastPush) {
        if (n === known.lastPush && known.lastHash !== null && known.lastHash !== hash) {
          throw new StoreError('CONFLICT', `sync: push ${n} of device ${id} was already applied with other content: this database is a copy of another device's (import it with importDatabase to make it a device of its own)`, {
            details: { push: n },
          });
        }
        return { type: 'ack', push: n, applied: 0, skipped: 0, rejected: n === known.lastPush ? known.lastRejected : [], cursor: serverCursor(db) };
      }
      const run = new PushRun(db, this.#port, id, n, f.seen as number, l);
      const ack = run.apply(f.changes);
      db.run('UPDATE sync_devices SET last_push = ?2, last_hash = ?3, last_rejected = ?4, seen_at = ?5 WHERE device = ?1', [
        id, n, hash, JSON.stringify(ack.rejected), this.#port.now(),
      ]);
      return ack;
    });
  }

  /**
   * The log after the pull's cursor, oldest first, each row in its state now (null: deleted), in a
   * page that fits the frame limit. A row the asking device wrote last, and holds exactly as it is
   * here, is left out (not in a full re-pull). A row's parents that come later in the log are sent
   * with it. `gone` marks a row deleted since the device last looked; `lost`, after a rollback, a
   * row one of its forgotten pushes wrote.
   */
  pull(device: string, frame: unknown, limits: SyncLimits = DEFAULT_SYNC_LIMITS): Changes {
    return this.#port.call('servePull', () => {
      const l = checkedLimits(limits);
      const id = checkedDevice(device);
      this.#ensure();
      const db = this.#db;
      const f = checkedPull(frame);
      const floor = Number(db.all('SELECT floor FROM sync_server')[0]!['floor']);
      if (!f.resync && f.cursor < floor) {
        throw new StoreError('CONFLICT', `sync: cursor ${f.cursor} is below what the server has forgotten (${floor}); reconnect to pull everything`, { details: { field: 'cursor' } });
      }
      db.run('UPDATE sync_devices SET cursor = ?2, seen_at = ?3 WHERE device = ?1', [id, f.cursor, this.#port.now()]);
      return new PullPage(db, this.#port, id, f, l.maxFrameBytes - 4096).serve();
    });
  }

  /**
   * Logs what the server wrote itself since the last call (edgeStore(), the HTTP routes): every
   * device pulls it. Run it inside the call's transaction, after the call. Returns how many rows
   * it logged (the object pokes the sockets when there are any).
   */
  logOwnWrites(): number {
    return this.#port.call('logOwnWrites', () => {
      if (!this.#ready) return 0;
      const db = this.#db;
      const entries = db.all('SELECT tbl, key FROM sync_outbox');
      if (entries.length === 0) return 0;
      for (const e of entries) {
        const table = String(e['tbl']) as SyncTable;
        const key = String(e['key']);
        const gone = table !== SESSION_INDEX && readRow(db, table, JSON.parse(key) as (string | number)[]) === null;
        logRow(db, table, key, { deleted: gone, device: SERVER_DEVICE, own: false });
      }
      db.run('DELETE FROM sync_outbox');
      return entries.length;
    });
  }

  /** Forgets the tombstones every active device has pulled past, at most every collectEverySeconds. */
  #collect(now: number): void {
    const db = this.#db;
    const last = Number(db.all('SELECT collected_at FROM sync_server')[0]!['collected_at']);
    if (now - last < this.#collectEvery) return;
    db.run('UPDATE sync_server SET collected_at = ?1', [now]);
    const active = db.all('SELECT MIN(cursor) AS c FROM sync_devices WHERE seen_at >= ?1', [now - this.#retention])[0]!['c'];
    const horizon = active === null || active === undefined ? serverCursor(db) : Number(active);
    const dead = db.all('SELECT count(*) AS n FROM sync_log WHERE (deleted = 1 AND seq <= ?1) OR dead_seq <= ?1', [horizon])[0]!['n'];
    if (Number(dead) === 0) return;
    db.run('DELETE FROM sync_log WHERE deleted = 1 AND seq <= ?1', [horizon]);
    db.run('UPDATE sync_log SET dead_seq = NULL, dead_device = NULL WHERE dead_seq <= ?1', [horizon]);
    db.run('DELETE FROM sync_written WHERE NOT EXISTS (SELECT 1 FROM sync_log l WHERE l.tbl = sync_written.tbl AND l.key = sync_written.key)');
    db.run('UPDATE sync_server SET floor = MAX(floor, ?1)', [horizon]);
  }

  /** Collects tombstones now, whatever the schedule (for tests and maintenance). */
  collect(): void {
    this.#port.call('syncCollect', () => {
      if (!this.#ready) return;
      this.#db.run('UPDATE sync_server SET collected_at = 0');
      this.#collect(this.#port.now());
    });
  }
}

// --- applying a push -----------------------------------------------------------------------------

interface Checked {
  table: SyncTable;
  key: (string | number)[];
  keyText: string;
  change: PushedChange;
  row: SqlRow | null;
  error?: StoreError;
}

/** One push being applied: every change checked, then each applied in its own savepoint. */
class PushRun {
  readonly #sites: Set<number>;
  /** Parents found present and seen in this push (a thread's messages share one); any delete forgets them. */
  readonly #parentsOk = new Set<string>();

  constructor(
    private readonly db: SqlDriver,
    private readonly port: StoreLayerPort,
    private readonly device: string,
    private readonly push: number,
    private readonly seen: number,
    private readonly limits: SyncLimits,
  ) {
    this.#sites = new Set(sitesOf(db, device));
  }

  apply(changes: unknown[]): Ack {
    const db = this.db;
    const order = new Map<SyncTable, number>(SYNC_TABLES.map((t, i) => [t, i]));
    const checked = changes.map((raw, i) => this.#check(raw, i));
    checked.sort((a, b) => (order.get(a.table) ?? 99) - (order.get(b.table) ?? 99));
    const ack: Ack = { type: 'ack', push: this.push, applied: 0, skipped: 0, rejected: [], cursor: 0 };
    db.run('UPDATE sync_device SET capture = 0');
    try {
      // A row whose parent comes later in the same push is tried again once the others are in.
      let waiting: Checked[] = [];
      for (const pass of [1, 2]) {
        const round = pass === 1 ? checked : waiting;
        waiting = [];
        for (const c of round) {
          const outcome = this.#attempt(c, pass === 2);
          if (outcome.applied) ack.applied++;
          else if (outcome.retry) waiting.push(c);
          else if (outcome.rejected) ack.rejected.push({ table: c.table, key: c.key, ...outcome.rejected });
          else ack.skipped++;
        }
      }
    } finally {
      db.run('UPDATE sync_device SET capture = 1');
    }
    ack.cursor = serverCursor(db);
    return ack;
  }

  /** One change in its own savepoint: a failure in the engine rolls back only it, and sets it aside. */
  #attempt(c: Checked, last: boolean): Outcome {
    if (c.error) return { applied: false, rejected: { code: c.error.code, message: c.error.message } };
    try {
      return atomically(this.db, () => this.#one(c, last));
    } catch (error) {
      return { applied: false, rejected: { code: error instanceof StoreError ? error.code : 'STORAGE', message: error instanceof Error ? error.message : String(error) } };
    }
  }

  /** A change's table, key and row, checked; a change that fails the checks is set aside, not the push. */
  #check(raw: unknown, i: number): Checked {
    const field = `changes[${i}]`;
    const c = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<PushedChange>;
    const out: Checked = { table: 'threads', key: [], keyText: '', change: c as PushedChange, row: null };
    try {
      if (typeof raw !== 'object' || raw === null) throw bad(`${field} must be an object`, field);
      out.table = checkedTable(c.table, `${field}.table`);
      out.key = checkedKey(out.table, c.key, `${field}.key`);
      out.keyText = keyText(this.db, out.key);
      const size = utf8Length(JSON.stringify(raw));
      if (size > this.limits.maxChangeBytes) throw bad(`${field} is ${size} bytes; a change holds at most ${this.limits.maxChangeBytes}`, field);
      if (c.row === undefined) throw bad(`${field}.row must be an object or null`, `${field}.row`);
      if (out.table === SESSION_INDEX) {
        if (c.row !== null && sessionEntry(c.row, `${field}.row`).threadId !== out.key[0]) throw bad(`${field}.row.thread_id does not match the key`, field);
        return out;
      }
      if (c.row !== null) out.row = checkedRow(this.db, out.table, out.key, c.row, `${field}.row`);
      if (c.cols !== undefined) {
        const allowed = maskedColumns(this.db, out.table);
        if (!Array.isArray(c.cols) || !c.cols.every((col) => typeof col === 'string' && allowed.includes(col))) {
          throw bad(`${field}.cols must name columns of ${out.table} that merge one by one`, `${field}.cols`);
        }
      }
      if (c.add !== undefined) {
        if (policyOf(out.table).counters.length === 0) throw bad(`${field}.add is for tables with counters only`, `${field}.add`);
        checkedAdd(c.add, `${field}.add`);
      }
    } catch (error) {
      out.error = error instanceof StoreError ? error : bad(String(error), field);
    }
    return out;
  }

  /** One change by the rules of docs/sync.md. */
  #one(c: Checked, last: boolean): Outcome {
    const db = this.db;
    if (c.table === SESSION_INDEX) {
      if (c.change.row === null) return SKIPPED;
      const entry = sessionEntry(c.change.row, 'row');
      const index = this.port.index;
      if (!sameEntry(index.get(entry.threadId), entry)) index.append(entry);
      logRow(db, c.table, c.keyText, { deleted: false, device: this.device, own: true });
      this.#written(c);
      return { applied: true };
    }
    const table = c.table;
    const p = policyOf(table);
    const log = logEntry(db, table, c.keyText);
    // A delete wins over a write that did not see it (rule 3).
    if (log && !this.#sawDeletion(log)) return SKIPPED;
    if (log?.deleted && !p.recreate) return SKIPPED;
    if (c.row === null) {
      this.#parentsOk.clear();
      const gone = deleteCascade(db, { table, key: c.key });
      if (gone.length === 0 && (!log || log.deleted)) {
        this.#written(c);
        return { applied: true };
      }
      if (gone.length === 0) logRow(db, table, c.keyText, { deleted: true, device: this.device, own: true });
      for (const r of gone) logRow(db, r.table, keyText(db, r.key), { deleted: true, device: this.device, own: true });
      this.#written(c);
      return { applied: true };
    }
    const row = c.row;
    for (const link of p.parents) {
      const values = link.from.map((col) => row[col] ?? null);
      if (values.some((v) => v === null)) continue;
      const parentText = keyText(db, values);
      const known = `${link.table}\u0000${parentText}`;
      if (this.#parentsOk.has(known)) continue;
      const parentLog = logEntry(db, link.table, parentText);
      const present = readRow(db, link.table, values) !== null;
      if (parentLog && !this.#sawDeletion(parentLog)) return SKIPPED;
      if (present) this.#parentsOk.add(known);
      if (link.required && !present) {
        // Deleted: the row goes with it (rule 4; its device deletes its copy when it pulls the parent's tombstone).
        if (parentLog?.deleted) return SKIPPED;
        // Never here: the parent is still on its way (later in this push), or set aside on the device.
        if (!last) return { applied: false, retry: true };
        return { applied: false, rejected: { code: 'NOT_FOUND', message: `its parent ${link.table} ${JSON.stringify(values)} is not on the server` } };
      }
    }
    const current = readRow(db, table, c.key);
    const whole = c.change.cols === undefined;
    if (table === 'messages') {
      const refusal = this.#messageId(c.key[0] as number, row, current);
      if (refusal) return refusal;
    }
    if (current && p.scope && !whole && current[p.scope] !== row[p.scope]) return SKIPPED;
    const after = this.#write(table, row, current, whole ? null : c.change.cols!, c.change.add);
    // The pusher holds exactly this state when the server wrote what it pushed (its pulls may skip the row).
    logRow(db, table, c.keyText, { deleted: false, device: this.device, own: sameValues(after, row, Object.keys(row)) }, log);
    this.#written(c);
    // A row just written is a parent later rows of this push may need.
    this.#parentsOk.add(`${table}\u0000${c.keyText}`);
    return { applied: true };
  }

  /**
   * A message id must be the pushing device's own (its sites; site 0 for the first device with
   * messages from before sync), unless the server already has that very message: an edit, or a copy
   * an import pushes again. A different message under a taken id is set aside.
   */
  #messageId(id: number, row: SqlRow, current: SqlRow | null): Outcome | null {
    const site = Math.floor(id / SITE_SIZE);
    const mine = this.#sites.has(site);
    if (current) {
      // The same message: the columns that never change after it is written agree.
      return sameValues(current, row, ['thread_id', 'role', 'created_at', 'parent_entry_id']) ? null : taken(id);
    }
    if (mine) return null;
    if (site === 0 && this.db.all('SELECT 1 FROM sync_sites WHERE site = 0').length === 0) {
      this.db.run('INSERT INTO sync_sites(site, device) VALUES (0, ?1)', [this.device]);
      this.#sites.add(0);
      return null;
    }
    return { applied: false, rejected: { code: 'CONFLICT', message: `message ${id} is in another device's id site; it syncs when that device pushes it` } };
  }

  /** Whether the pushing device saw the row's latest deletion (or there is none). */
  #sawDeletion(log: LogEntry): boolean {
    if (log.deadSeq === null) return true;
    return log.deadDevice === this.device || log.deadSeq <= this.seen;
  }

  /** Writes a pushed row onto the server's: new rows whole; existing ones column by column, max columns the larger, counters plus the delta. */
  #write(table: RowTable, row: SqlRow, current: SqlRow | null, cols: readonly string[] | null, add: UsageDelta | undefined): SqlRow {
    const p = policyOf(table);
    if (!current) return writeRow(this.db, table, row, null);
    const merged: SqlRow = { ...current, ...(cols === null ? row : Object.fromEntries(cols.map((col) => [col, row[col] ?? null]))) };
    for (const col of p.max) if (col in row) merged[col] = larger(current[col] ?? null, row[col] ?? null);
    if (cols !== null && add) {
      merged['tokens_used'] = Number(current['tokens_used'] ?? 0) + add.tokens_used;
      merged['time_used_seconds'] = Number(current['time_used_seconds'] ?? 0) + add.time_used_seconds;
      merged['continuation_count'] = Number(current['continuation_count'] ?? 0) + add.continuation_count;
    }
    const columns = columnsOf(this.db, table).filter((col) => !p.local.includes(col));
    return writeRow(this.db, table, merged, columns, p.local);
  }

  /** The rollback ledger: this device's push `push` wrote this row. */
  #written(c: Checked): void {
    this.db.run(
      'INSERT INTO sync_written(device, tbl, key, push) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(device, tbl, key) DO UPDATE SET push = excluded.push',
      [this.device, c.table, c.keyText, this.push],
    );
  }
}

// --- serving a pull ------------------------------------------------------------------------------

interface CheckedPull {
  cursor: number;
  limit: number;
  resync: { since: number; rollbackFrom: number | null } | null;
}

function checkedPull(frame: unknown): CheckedPull {
  const f = frame as { cursor?: unknown; limit?: unknown; resync?: { since?: unknown; rollbackFrom?: unknown } } | null;
  if (typeof f !== 'object' || f === null) throw bad('pull must be an object', 'pull');
  if (!Number.isSafeInteger(f.cursor) || (f.cursor as number) < 0) throw bad('cursor must be a non-negative integer', 'cursor');
  const limit = f.limit === undefined ? 500 : f.limit;
  if (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > 5000) throw bad('limit must be an integer from 1 to 5000', 'limit');
  let resync: CheckedPull['resync'] = null;
  if (f.resync !== undefined) {
    if (typeof f.resync !== 'object' || f.resync === null) throw bad('resync must be an object', 'resync');
    if (!Number.isSafeInteger(f.resync.since) || (f.resync.since as number) < 0) throw bad('resync.since must be a non-negative integer', 'resync.since');
    if (f.resync.rollbackFrom !== undefined && (!Number.isSafeInteger(f.resync.rollbackFrom) || (f.resync.rollbackFrom as number) < 0)) {
      throw bad('resync.rollbackFrom must be a non-negative integer', 'resync.rollbackFrom');
    }
    resync = { since: f.resync.since as number, rollbackFrom: (f.resync.rollbackFrom as number | undefined) ?? null };
  }
  return { cursor: f.cursor as number, limit: limit as number, resync };
}

/** One page of the log for one device. */
class PullPage {
  readonly #changes: PulledChange[] = [];
  readonly #included = new Set<string>();
  /** Parents the device has already: none of their log entries is after the cursor. */
  readonly #earlier = new Set<string>();

  constructor(
    private readonly db: SqlDriver,
    private readonly port: StoreLayerPort,
    private readonly device: string,
    private readonly pull: CheckedPull,
    private readonly maxBytes: number,
  ) {}

  serve(): Changes {
    const db = this.db;
    const { cursor, limit } = this.pull;
    const entries = db.all('SELECT seq, tbl, key, deleted, device, own, dead_seq, dead_device FROM sync_log WHERE seq > ?1 ORDER BY seq LIMIT ?2', [cursor, limit + 1]);
    const more = entries.length > limit;
    const page = entries.slice(0, limit);
    let bytes = 0;
    let last = cursor;
    for (const e of page) {
      const skip = !this.pull.resync && e['device'] === this.device && Number(e['own']) === 1;
      if (!skip) {
        const before = this.#changes.length;
        this.#add(toLog(e), String(e['tbl']) as SyncTable, String(e['key']));
        const size = this.#changes.slice(before).reduce((n, c) => n + utf8Length(JSON.stringify(c)) + 1, 0);
        if (before > 0 && bytes + size > this.maxBytes) {
          // This entry starts the next page.
          this.#changes.length = before;
          return { type: 'changes', changes: this.#changes, cursor: last, more: true };
        }
        bytes += size;
      }
      last = Number(e['seq']);
    }
    // The last page brings the device to the server's cursor, also past tombstones collected at the end of the log.
    const end = page.length > 0 ? Number(page[page.length - 1]!['seq']) : last;
    return { type: 'changes', changes: this.#changes, cursor: more ? end : Math.max(end, serverCursor(db)), more };
  }

  #add(log: LogEntry, table: SyncTable, text: string): void {
    const id = `${table}\u0000${text}`;
    if (this.#included.has(id)) return;
    this.#included.add(id);
    const db = this.db;
    const key = JSON.parse(text) as (string | number)[];
    const change: PulledChange = { seq: log.seq, table, key, row: null };
    if (table === SESSION_INDEX) change.row = sessionRow(this.port.index, String(key[0]));
    else {
      const row = log.deleted ? null : readRow(db, table, key);
      if (row) {
        for (const link of policyOf(table).parents) {
          const values = link.from.map((c) => row[c] ?? null);
          if (values.some((v) => v === null)) continue;
          const parentText = keyText(db, values);
          const parentId = `${link.table}\u0000${parentText}`;
          if (this.#included.has(parentId) || this.#earlier.has(parentId)) continue;
          // Not yet delivered (after the cursor): sent ahead of the row, wherever the page ends up cut.
          const later = db.all('SELECT seq, tbl, key, deleted, device, own, dead_seq, dead_device FROM sync_log WHERE tbl = ?1 AND key = ?2 AND seq > ?3', [
            link.table, parentText, this.pull.cursor,
          ])[0];
          if (later) this.#add(toLog(later), link.table, parentText);
          else this.#earlier.add(parentId);
        }
        change.row = wireRow(table, row);
      }
    }
    const since = this.pull.resync ? this.pull.resync.since : this.pull.cursor;
    if (change.row !== null && log.deadSeq !== null && log.deadSeq > since && log.deadDevice !== this.device) change.gone = true;
    const rollbackFrom = this.pull.resync?.rollbackFrom ?? null;
    if (rollbackFrom !== null) {
      const w = db.all('SELECT push FROM sync_written WHERE device = ?1 AND tbl = ?2 AND key = ?3', [this.device, table, text])[0];
      if (w && Number(w['push']) > rollbackFrom) change.lost = true;
    }
    this.#changes.push(change);
  }
}

// --- the log and the registrations ---------------------------------------------------------------

/**
 * The server's newest seq: the log's, or the floor when the newest entries were tombstones that were
 * collected since (every seq ever given out is at most this; a device at it has everything).
 */
function serverCursor(db: SqlDriver): number {
  return Number(db.all('SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM sync_log), (SELECT floor FROM sync_server)) AS s')[0]!['s']);
}

function toLog(r: SqlRow): LogEntry {
  return {
    seq: Number(r['seq']),
    deleted: Number(r['deleted']) === 1,
    device: r['device'] === null ? null : String(r['device']),
    deadSeq: r['dead_seq'] === null || r['dead_seq'] === undefined ? null : Number(r['dead_seq']),
    deadDevice: r['dead_device'] === null || r['dead_device'] === undefined ? null : String(r['dead_device']),
  };
}

function logEntry(db: SqlDriver, table: SyncTable, key: string): LogEntry | null {
  const r = db.all('SELECT seq, deleted, device, dead_seq, dead_device FROM sync_log WHERE tbl = ?1 AND key = ?2', [table, key])[0];
  return r ? toLog(r) : null;
}

/**
 * Logs a row's change under a new seq (REPLACE drops its old entry). A deletion records its own seq
 * as the row's latest deletion; a write keeps the deletion that came before it.
 */
function logRow(db: SqlDriver, table: SyncTable, key: string, at: { deleted: boolean; device: string; own: boolean }, previous?: LogEntry | null): void {
  const prior = previous === undefined ? logEntry(db, table, key) : previous;
  db.run('INSERT OR REPLACE INTO sync_log(tbl, key, deleted, device, own, dead_seq, dead_device) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)', [
    table, key, at.deleted ? 1 : 0, at.device, at.own ? 1 : 0, prior?.deadSeq ?? null, prior?.deadDevice ?? null,
  ]);
  if (at.deleted) db.run('UPDATE sync_log SET dead_seq = seq, dead_device = ?3 WHERE tbl = ?1 AND key = ?2', [table, key, at.device]);
}

function deviceRecord(db: SqlDriver, device: string): DeviceRecord | null {
  const r = db.all('SELECT last_push, secret, last_hash, last_rejected FROM sync_devices WHERE device = ?1', [device])[0];
  if (!r) return null;
  let lastRejected: RejectedChange[] = [];
  try {
    lastRejected = r['last_rejected'] === null ? [] : (JSON.parse(String(r['last_rejected'])) as RejectedChange[]);
  } catch {
    lastRejected = [];
  }
  return {
    lastPush: Number(r['last_push']),
    secret: r['secret'] === null ? null : String(r['secret']),
    lastHash: r['last_hash'] === null ? null : String(r['last_hash']),
    lastRejected,
  };
}

/** The device's sites. */
function sitesOf(db: SqlDriver, device: string): number[] {
  return db.all('SELECT site FROM sync_sites WHERE device = ?1', [device]).map((r) => Number(r['site']));
}

function claim(db: SqlDriver, site: number, device: string): void {
  const owner = db.all('SELECT device FROM sync_sites WHERE site = ?1', [site])[0];
  if (owner && owner['device'] !== device) {
    throw new StoreError(
      'CONFLICT',
      `site ${site} is already another device's: this device wrote messages before it ever connected and drew a site in use (about one chance in a million per pair of devices)`,
      { details: { site } },
    );
  }
  if (!owner) db.run('INSERT INTO sync_sites(site, device) VALUES (?1, ?2)', [site, device]);
}

/** The hello frame's fields, checked. */
function checkedHello(frame: unknown): Hello {
  const h = frame as Partial<Hello> | null;
  if (typeof h !== 'object' || h === null) throw bad('hello must be an object', 'hello');
  if (h.protocol !== SYNC_PROTOCOL) throw bad(`protocol ${String(h.protocol)} is not ${SYNC_PROTOCOL}; reload the app to update it`, 'hello.protocol');
  if (!Number.isSafeInteger(h.schema)) throw bad('hello.schema must be an integer', 'hello.schema');
  checkedDevice(h.device, 'hello.device');
  if (typeof h.secret !== 'string' || h.secret.length < 16 || h.secret.length > 200) throw bad('hello.secret must be a string of 16 to 200 characters', 'hello.secret');
  if (!Number.isSafeInteger(h.site) || h.site! < 1 || h.site! >= MAX_SITES) throw bad(`hello.site must be an integer from 1 to ${MAX_SITES - 1}`, 'hello.site');
  if (typeof h.siteUsed !== 'boolean' || typeof h.preSync !== 'boolean') throw bad('hello.siteUsed and hello.preSync must be booleans', 'hello');
  if (!Number.isSafeInteger(h.push) || h.push! < 0) throw bad('hello.push must be a non-negative integer', 'hello.push');
  if (!Number.isSafeInteger(h.cursor) || h.cursor! < 0) throw bad('hello.cursor must be a non-negative integer', 'hello.cursor');
  if (h.epoch !== null && typeof h.epoch !== 'string') throw bad('hello.epoch must be a string or null', 'hello.epoch');
  return h as Hello;
}

function checkedAdd(add: unknown, field: string): UsageDelta {
  const a = add as Partial<UsageDelta> | null;
  if (typeof a !== 'object' || a === null) throw bad(`${field} must be an object`, field);
  for (const c of ['tokens_used', 'time_used_seconds', 'continuation_count'] as const) if (!Number.isSafeInteger(a[c])) throw bad(`${field}.${c} must be an integer`, field);
  return a as UsageDelta;
}
