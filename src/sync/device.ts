/**
 * The device's side of sync (docs/sync.md): its identity, the outbox its capture triggers fill
 * (capture.ts), the batches it pushes, the rows it pulls, a full re-pull when the server asks for one,
 * and what an import or a rollback does to all of it. Plain SQL over the core's port, so the same
 * code runs in the browser worker and in Node; src/sync/engine.ts carries the frames.
 */
import type { SqlDriver, SqlRow, SqlValue } from '../driver/port.js';
import type { ChangeKind, StoreChange } from '../core/changes.js';
import { StoreError } from '../core/errors.js';
import { LATEST_SCHEMA_VERSION } from '../core/migrate.js';
import { failInterruptedJobs } from '../core/recovery.js';
import { atomically } from '../core/transaction.js';
import type { SessionIndex, SessionIndexEntry } from '../core/session-index.js';
import type { StateStore, StoreLayerPort } from '../core/store.js';
import { CAPTURE_SQL, captureSessionEntry, createTriggers, dropTriggers, maskOf, namesOf } from './capture.js';
import { policyOf, ROW_TABLES, SESSION_INDEX, SYNC_TABLES, type RowTable, type SyncTable } from './policy.js';
import {
  LEASED_SITES, MAX_SITES, SITE_SIZE, SYNC_PROTOCOL,
  type Ack, type Hello, type PulledChange, type Pull, type PushedChange, type RejectedChange, type SyncLimits, type Welcome,
} from './protocol.js';
import { deleteCascade, fixLeaf, hasTable, larger, noticeTarget, parentsPresent, threadOfRow, writeRow, type RowRef } from './rows.js';
import { sessionEntry, sessionRow, sameEntry } from './session-rows.js';
import { bad, checkedKey, checkedLimits, checkedRow, checkedTable, columnsOf, ident, keyText, readRow, utf8Length, wireRow } from './values.js';

/** The layout of sync's device tables; an older layout is rebuilt (the device starts over as a new one). */
const LAYOUT = 2;

const DEVICE_SQL = `${CAPTURE_SQL}
CREATE TABLE IF NOT EXISTS sync_state (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  layout INTEGER NOT NULL,
  schema INTEGER NOT NULL,
  secret TEXT NOT NULL,
  epoch TEXT,
  sent_seen INTEGER NOT NULL DEFAULT 0,
  resync INTEGER NOT NULL DEFAULT 0,
  resync_since INTEGER NOT NULL DEFAULT 0,
  resync_rollback INTEGER,
  batch_limit INTEGER
);
CREATE TABLE IF NOT EXISTS sync_seen (tbl TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID;
`;

/** Every table sync keeps on a device. */
const DEVICE_TABLES = ['sync_state', 'sync_outbox', 'sync_rejected', 'sync_remote', 'sync_seen'];
/** The server's tables, which a file exported by a server brings along and a device has no use for. */
const SERVER_TABLES = ['sync_log', 'sync_devices', 'sync_sites', 'sync_written', 'sync_server'];

/** The device's identity as it introduces itself; `hello` adds the frame's own fields. */
export type DeviceHello = Omit<Hello, 'type' | 'protocol'>;

/** A push frame. */
export interface PushFrame {
  type: 'push';
  push: number;
  seen: number;
  changes: PushedChange[];
}

/** The sync status the engine reports: rows still to push, rows set aside, the cursor, and whether a full re-pull runs. */
export interface DeviceStatus {
  pending: number;
  rejected: number;
  cursor: number;
  resyncing: boolean;
}

interface DeviceRow {
  device: string;
  site: number;
  nextId: number;
  cursor: number;
  push: number;
}

interface StateRow {
  schema: number;
  secret: string;
  epoch: string | null;
  sentSeen: number;
  resync: boolean;
  resyncSince: number;
  resyncRollback: number | null;
  batchLimit: number | null;
}

interface Entry {
  seq: number;
  tbl: SyncTable;
  key: string;
  version: number;
  fresh: boolean;
  cols: number;
  oCols: number;
  d: [number, number, number];
  o: [number, number, number];
  stash: string | null;
  sentPush: number | null;
  sentVersion: number | null;
  sentJson: string | null;
}

/** Both parts of a mask: -1 wins. */
const union = (a: number, b: number): number => (a === -1 || b === -1 ? -1 : a | b);

/** A device's secret: 122 random bits. */
const secret = (): string => crypto.randomUUID();

/** A random site from the unleased half: a device that has never connected allocates from it. */
function provisionalSite(): number {
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return LEASED_SITES + (random % (MAX_SITES - LEASED_SITES));
}

/**
 * A store's device side of sync. Attach it once per open store (the browser worker's leader does,
 * whether or not its page asked for sync, so that a synced database keeps recording its writes);
 * `enable()` turns sync on. Every method is one atomic store call.
 *
 * @example
 * const device = SyncDevice.attach(store);
 * const hello = device.enable();
 */
export class SyncDevice {
  readonly #port: StoreLayerPort;
  #enabled: boolean;

  private constructor(port: StoreLayerPort) {
    this.#port = port;
    this.#enabled = deviceRow(port.db) !== null && hasTable(port.db, 'sync_state');
    port.onImport(() => this.#afterImport());
    if (this.#enabled) {
      port.call('syncAttach', () => {
        this.#prepare();
        // A new run: what was recorded before it is kept apart from what comes after (rollbacks).
        port.db.run(`UPDATE sync_outbox SET fresh = 0, o_cols = CASE WHEN o_cols = -1 OR cols = -1 THEN -1 ELSE o_cols | cols END, cols = 0,
          o_tokens = o_tokens + d_tokens, o_time = o_time + d_time, o_cont = o_cont + d_cont, d_tokens = 0, d_time = 0, d_cont = 0
          WHERE fresh = 1`);
      });
      this.#captureIndex();
    }
  }

  /** The device side of `store`; a store is attached once (the worker's leader, or a test). */
  static attach(store: StateStore): SyncDevice {
    return new SyncDevice(store.layer());
  }

  /** Whether sync was ever turned on for this database. */
  get enabled(): boolean {
    return this.#enabled;
  }

  get #db(): SqlDriver {
    return this.#port.db;
  }

  /**
   * Turns sync on (idempotent) and returns what `hello` says. The first time, every row already in
   * the database and every session-index entry is put in the outbox, so that a store that existed
   * before sync uploads what it holds.
   */
  enable(): DeviceHello {
    return this.#port.call('enableSync', () => {
      if (!this.#enabled) {
        this.#start();
        this.#enabled = true;
        this.#captureIndex();
      }
      return this.#hello();
    });
  }

  /** Creates or brings up to date the device tables and triggers; a database from an older layout starts over as a new device. */
  #prepare(): void {
    const db = this.#db;
    if (hasTable(db, 'sync_outbox') && !hasTable(db, 'sync_state')) {
      // Protocol 1's outbox: its rows cannot be told apart column by column. Start over as a new device.
      this.#forget();
      this.#start();
      return;
    }
    db.exec(DEVICE_SQL);
    const state = stateRow(db);
    if (!state) {
      db.run('INSERT INTO sync_state(one, layout, schema, secret) VALUES (1, ?1, ?2, ?3)', [LAYOUT, LATEST_SCHEMA_VERSION, secret()]);
      createTriggers(db);
    } else if (state.schema !== LATEST_SCHEMA_VERSION || !hasTrigger(db)) {
      // A migration may have added columns: new triggers, and the bits of pending entries no longer line up.
      createTriggers(db);
      db.run('UPDATE sync_outbox SET cols = CASE WHEN cols = 0 THEN 0 ELSE -1 END, o_cols = CASE WHEN o_cols = 0 THEN 0 ELSE -1 END');
      db.run('UPDATE sync_state SET schema = ?1', [LATEST_SCHEMA_VERSION]);
    }
  }

  /** A new identity, and every row in the outbox. */
  #start(): void {
    const db = this.#db;
    db.exec(DEVICE_SQL);
    db.run('DELETE FROM sync_device');
    db.run('DELETE FROM sync_state');
    db.run('INSERT INTO sync_state(one, layout, schema, secret) VALUES (1, ?1, ?2, ?3)', [LAYOUT, LATEST_SCHEMA_VERSION, secret()]);
    createTriggers(db);
    const site = provisionalSite();
    db.run('INSERT INTO sync_device(one, device, site, next_id) VALUES (1, ?1, ?2, ?3)', [crypto.randomUUID(), site, site * SITE_SIZE + 1]);
    for (const table of ROW_TABLES) {
      db.run(
        `INSERT OR IGNORE INTO sync_outbox(tbl, key, cols) SELECT '${table}', json_array(${policyOf(table).key.map(ident).join(', ')}), -1 FROM ${ident(table)}`,
      );
    }
    for (const threadId of this.#port.index.threadIds()) captureSessionEntry(db, threadId);
  }

  /** Drops every trace of sync: tables, triggers, identity (a server's tables a file brought along too). */
  #forget(): void {
    const db = this.#db;
    dropTriggers(db);
    for (const t of [...DEVICE_TABLES, ...SERVER_TABLES]) db.exec(`DROP TABLE IF EXISTS ${ident(t)}`);
    db.run('DELETE FROM sync_device');
  }

  /** An import replaced the data: a synced store rejoins as a new device that pushes the file's rows; any other drops what the file brought. */
  #afterImport(): void {
    atomically(this.#db, () => {
      this.#forget();
      if (this.#enabled) this.#start();
    });
  }

  #captureIndex(): void {
    const index = this.#port.index;
    index.onAppend = (threadId) => captureSessionEntry(this.#db, threadId);
  }

  #hello(): DeviceHello {
    const db = this.#db;
    const d = deviceRow(db)!;
    const s = stateRow(db)!;
    return {
      schema: LATEST_SCHEMA_VERSION,
      device: d.device,
      secret: s.secret,
      site: d.site,
      siteUsed: d.nextId !== d.site * SITE_SIZE + 1,
      preSync: db.all('SELECT 1 FROM messages WHERE id < ?1 LIMIT 1', [SITE_SIZE]).length > 0,
      push: d.push,
      epoch: s.epoch,
      cursor: d.cursor,
    };
  }

  /** The `hello` frame. */
  hello(): Hello {
    return this.#port.call('syncHello', () => ({ type: 'hello', protocol: SYNC_PROTOCOL, ...this.#enabledHello() }));
  }

  #enabledHello(): DeviceHello {
    if (!this.#enabled) throw new StoreError('INVALID_ARGUMENT', 'sync is not enabled on this store', { details: { field: 'sync' } });
    return this.#hello();
  }

  /**
   * Adopts the server's answer to `hello`: the site, which of the device's pushes were
   * applied (the batch in flight is settled with the rejections the server kept), a rollback, and
   * whether to pull everything before pushing again.
   */
  welcome(welcome: Welcome): void {
    this.#port.call('syncWelcome', () => {
      const db = this.#db;
      const d = deviceRow(db);
      if (!d || !this.#enabled) throw new StoreError('INVALID_ARGUMENT', 'syncWelcome: sync is not enabled', { details: { field: 'welcome' } });
      const w = checkedWelcome(welcome);
      const rollback = w.lastPush > d.push;
      if (w.site !== d.site) {
        if (this.#hello().siteUsed) throw new StoreError('CONFLICT', `the server assigned site ${w.site}, but ids of site ${d.site} are already in use here`);
        db.run('UPDATE sync_device SET site = ?1, next_id = ?2', [w.site, w.site * SITE_SIZE + 1]);
      }
      if (d.push > 0 && d.push <= w.lastPush && inFlight(db, d.push).length > 0) this.#settle(d.push, d.push === w.lastPush ? (w.rejected ?? []) : []);
      if (rollback) this.#rolledBack(d, w);
      if (w.resync !== null || rollback) {
        const since = w.resync === 'epoch' ? 0 : d.cursor;
        db.run('UPDATE sync_state SET resync = 1, resync_since = ?1, resync_rollback = ?2', [since, rollback ? d.push : null]);
        db.run('UPDATE sync_device SET cursor = 0');
        db.run('DELETE FROM sync_seen');
      }
      db.run('UPDATE sync_state SET epoch = ?1', [w.epoch]);
    });
  }

  /**
   * The database went back in time (a restored backup): the server applied pushes up to `lastPush`
   * that this device no longer remembers. Messages written since the restore whose ids the lost
   * pushes had used take new ids (they never left the device), the next push numbers follow the
   * server's, and the resync that follows tells which unpushed changes the lost pushes had carried.
   */
  #rolledBack(d: DeviceRow, w: Welcome): void {
    const db = this.#db;
    const site = w.site;
    const taken = Math.max(w.nextId ?? 0, site * SITE_SIZE + 1);
    const clashing = db
      .all(
        `SELECT CAST(json_extract(o.key, '$[0]') AS INTEGER) AS id FROM sync_outbox o
         WHERE o.tbl = 'messages' AND o.fresh = 1 AND o.cols = -1
           AND CAST(json_extract(o.key, '$[0]') AS INTEGER) BETWEEN ?1 AND ?2 ORDER BY 1`,
        [site * SITE_SIZE + 1, taken - 1],
      )
      .map((r) => Number(r['id']));
    let next = Math.max(d.nextId, taken);
    if (clashing.length > 0) {
      const renamed = new Map(clashing.map((id) => [id, next++]));
      renumberMessages(db, renamed);
      this.#port.announce([{ kind: 'database', method: null, threadId: null, id: null }]);
    }
    db.run('UPDATE sync_device SET next_id = MAX(next_id, ?1), push = ?2', [next, w.lastPush]);
  }

  /**
   * The next batch to push: the batch in flight again, exactly as it was first sent, or a new one of
   * the oldest outbox entries within the server's limits (a row over them is set aside). Null when
   * there is nothing to push, or while a full re-pull runs (pushes wait for it).
   */
  nextPush(limits: SyncLimits): PushFrame | null {
    return this.#port.call('nextPush', () => {
      const l = checkedLimits(limits);
      const db = this.#db;
      const d = deviceRow(db);
      const s = stateRow(db);
      if (!d || !s || s.resync) return null;
      const sent = inFlight(db, d.push);
      if (sent.length > 0) return { type: 'push', push: d.push, seen: s.sentSeen, changes: sent.map((e) => JSON.parse(e.sentJson!) as PushedChange) };
      const push = d.push + 1;
      const max = Math.max(1, Math.min(l.maxChanges, s.batchLimit ?? Infinity));
      const changes: PushedChange[] = [];
      let bytes = 96;
      let after = 0;
      scan: for (;;) {
        const candidates = entries(db, 'sent_push IS NULL AND seq > ?1', [after], max);
        if (candidates.length === 0) break;
        for (const e of candidates) {
          after = e.seq;
          const change = this.#change(e);
          const json = JSON.stringify(change);
          const size = utf8Length(json);
          if (size > l.maxChangeBytes) {
            setAside(db, e, 'INVALID_ARGUMENT', `the row is ${size} bytes, over the server's limit of ${l.maxChangeBytes} bytes a change`);
            continue;
          }
          if (changes.length >= max || (changes.length > 0 && bytes + size + 1 > l.maxFrameBytes)) break scan;
          bytes += size + 1;
          changes.push(change);
          db.run(
            `UPDATE sync_outbox SET sent_push = ?1, sent_version = version, sent_json = ?2, cols = 0, o_cols = 0, stash = NULL,
               d_tokens = 0, d_time = 0, d_cont = 0, o_tokens = 0, o_time = 0, o_cont = 0 WHERE seq = ?3`,
            [push, json, e.seq],
          );
        }
      }
      if (changes.length === 0) return null;
      db.run('UPDATE sync_device SET push = ?1', [push]);
      db.run('UPDATE sync_state SET sent_seen = ?1', [d.cursor]);
      return { type: 'push', push, seen: d.cursor, changes };
    });
  }

  /** What an outbox entry pushes: the row now, the columns it changed (none named: the whole row), and its usage. */
  #change(e: Entry): PushedChange {
    const key = JSON.parse(e.key) as (string | number)[];
    if (e.tbl === SESSION_INDEX) return { table: e.tbl, key, row: sessionRow(this.#port.index, String(key[0])) };
    const table = e.tbl;
    const row = readRow(this.#db, table, key);
    if (!row) return { table, key, row: null };
    const change: PushedChange = { table, key, row: wireRow(table, row) };
    const cols = union(e.cols, e.oCols);
    if (cols === -1) return change;
    change.cols = namesOf(this.#db, table, cols)!;
    const p = policyOf(table);
    if (p.counters.length > 0) {
      const d = e.d.map((v, i) => v + e.o[i]!);
      if (d.some((v) => v !== 0)) change.add = { tokens_used: d[0]!, time_used_seconds: d[1]!, continuation_count: d[2]! };
    }
    return change;
  }

  /** The server answered push `ack.push`: its rows leave the outbox, but for those it set aside and those changed since. */
  acknowledge(ack: Ack): void {
    this.#port.call('acknowledgePush', () => {
      const d = deviceRow(this.#db);
      if (!d || ack?.push !== d.push) return;
      this.#settle(d.push, Array.isArray(ack.rejected) ? ack.rejected : []);
    });
  }

  #settle(push: number, rejected: readonly RejectedChange[]): void {
    const db = this.#db;
    const refused = new Map(rejected.filter((r) => r && Array.isArray(r.key)).map((r) => [`${r.table}\u0000${JSON.stringify(r.key)}`, r]));
    for (const e of inFlight(db, push)) {
      const sent = JSON.parse(e.sentJson!) as PushedChange;
      const r = refused.get(`${sent.table}\u0000${JSON.stringify(sent.key)}`);
      if (r) {
        if (e.version === e.sentVersion) setAside(db, e, r.code, r.message);
        else unsend(db, e);
        continue;
      }
      if (e.version === e.sentVersion) db.run('DELETE FROM sync_outbox WHERE seq = ?1', [e.seq]);
      else db.run('UPDATE sync_outbox SET sent_push = NULL, sent_version = NULL, sent_json = NULL WHERE seq = ?1', [e.seq]);
    }
    db.run('UPDATE sync_state SET batch_limit = NULL');
  }

  /**
   * The server refused push `push` as a whole (too big for it, say): the batch goes back to the
   * outbox and the next one is half as long; a batch of one row is set aside with the error.
   */
  refusePush(push: number, error: { code: string; message: string }): void {
    this.#port.call('refusePush', () => {
      const db = this.#db;
      const d = deviceRow(db);
      if (!d || push !== d.push) return;
      const sent = inFlight(db, push);
      if (sent.length === 0) return;
      if (sent.length === 1) {
        const code = (typeof error?.code === 'string' ? error.code : 'STORAGE') as RejectedChange['code'];
        setAside(db, sent[0]!, code, typeof error?.message === 'string' ? error.message : 'the server refused it');
      } else {
        for (const e of sent) unsend(db, e);
        db.run('UPDATE sync_state SET batch_limit = ?1', [Math.ceil(sent.length / 2)]);
      }
      // Nothing of this push reached the server: its number can be given out again.
      db.run('UPDATE sync_device SET push = push - 1');
    });
  }

  /** The next `pull` frame: from the cursor, and while a full re-pull runs, what it needs. */
  nextPull(limit?: number): Pull {
    return this.#port.call('nextPull', () => {
      const d = deviceRow(this.#db);
      const s = stateRow(this.#db);
      if (!d || !s) throw new StoreError('INVALID_ARGUMENT', 'sync is not enabled on this store', { details: { field: 'sync' } });
      const pull: Pull = { type: 'pull', cursor: d.cursor, ...(limit === undefined ? {} : { limit }) };
      if (s.resync) pull.resync = { since: s.resyncSince, ...(s.resyncRollback === null ? {} : { rollbackFrom: s.resyncRollback }) };
      return pull;
    });
  }

  /**
   * Applies a page pulled from the server and stores its cursor; returns the changes to announce (a
   * host that batches calls publishes them after its commit; the store's own subscribers hear them at
   * once). A re-pull's last page (`more` false) deletes what the server no longer has.
   */
  applyPulled(changes: PulledChange[], cursor: number, more = false): StoreChange[] {
    return this.#port.call('applyPulled', () => {
      const notices = new PulledPage(this.#db, this.#port.index).apply(changes, cursor, more);
      this.#port.announce(notices);
      return notices;
    });
  }

  /** Pending rows, rows set aside, the cursor, and whether a full re-pull runs. */
  status(): DeviceStatus {
    return this.#port.call('syncStatus', () => {
      const db = this.#db;
      const d = deviceRow(db);
      const s = stateRow(db);
      if (!d || !s) return { pending: 0, rejected: 0, cursor: 0, resyncing: false };
      const count = (t: string) => Number(db.all(`SELECT count(*) AS n FROM ${t}`)[0]!['n']);
      return { pending: count('sync_outbox'), rejected: count('sync_rejected'), cursor: d.cursor, resyncing: s.resync };
    });
  }

  /** The rows set aside, with why. */
  rejected(): { table: SyncTable; key: (string | number)[]; code: string; message: string }[] {
    return this.#port.call('syncRejected', () =>
      this.#enabled
        ? this.#db.all('SELECT tbl, key, code, message FROM sync_rejected ORDER BY tbl, key').map((r) => ({
            table: String(r['tbl']) as SyncTable,
            key: JSON.parse(String(r['key'])) as (string | number)[],
            code: String(r['code']),
            message: String(r['message']),
          }))
        : [],
    );
  }

  /**
   * The streaming messages and unfinished jobs whose current state another device wrote: the
   * start-up sweep leaves them alone (their writer is alive elsewhere, or will sweep them itself).
   */
  foreignWork(): { jobs: string[]; messages: number[] } {
    return this.#port.call('syncForeignWork', () => {
      if (!this.#enabled) return { jobs: [], messages: [] };
      const keys = (tbl: string) => this.#db.all('SELECT key FROM sync_remote WHERE tbl = ?1', [tbl]).map((r) => (JSON.parse(String(r['key'])) as unknown[])[0]);
      return { jobs: keys('jobs').map(String), messages: keys('message_status').map(Number) };
    });
  }
}

/**
 * The start-up sweep of a store that may sync: jobs left queued or running and messages left
 * streaming by this device's previous run are marked failed and interrupted; what another device
 * wrote last is left alone (docs/sync.md, rule 9). Returns how many jobs and which messages it marked.
 */
export function sweepOwnWork(store: StateStore, device: SyncDevice, now: number): { jobs: number; messages: number[] } {
  const foreign = device.foreignWork();
  const { db } = store.layer();
  const jobs = atomically(db, () => failInterruptedJobs(db, now, foreign.jobs));
  return { jobs, messages: store.recoverInterruptedMessages(foreign.messages) };
}

/** The one page of pulled rows being applied. */
class PulledPage {
  readonly #announced = new Map<string, StoreChange>();
  readonly #arrived = new Map<string, { id: number; parent: number | null }[]>();
  readonly #state: StateRow;
  readonly #device: DeviceRow;
  /** The rows with an outbox entry, and those set aside, read once per page (most pulled rows have neither). */
  readonly #pending: Set<string>;
  readonly #setAside: Set<string>;
  /** Parents found present in this page (the rows it wrote among them); a delete forgets them. */
  readonly #present = new Set<string>();
  /** A re-pull's delivered keys, recorded once per page. */
  readonly #seen: { table: SyncTable; key: string }[] = [];

  constructor(
    private readonly db: SqlDriver,
    private readonly index: SessionIndex,
  ) {
    const d = deviceRow(db);
    const s = stateRow(db);
    if (!d || !s) throw new StoreError('INVALID_ARGUMENT', 'applyPulled: sync is not enabled', { details: { field: 'changes' } });
    this.#device = d;
    this.#state = s;
    const keys = (sql: string) => new Set(db.all(sql).map((r) => `${r['tbl']}\u0000${r['key']}`));
    this.#pending = keys('SELECT tbl, key FROM sync_outbox');
    this.#setAside = keys('SELECT tbl, key FROM sync_rejected');
  }

  apply(changes: PulledChange[], cursor: number, more: boolean): StoreChange[] {
    const db = this.db;
    if (!Array.isArray(changes)) throw bad('changes must be an array', 'changes');
    if (!Number.isSafeInteger(cursor) || cursor < 0) throw bad('cursor must be a non-negative integer', 'cursor');
    const order = new Map<SyncTable, number>(SYNC_TABLES.map((t, i) => [t, i]));
    const sorted = changes
      .map((c, i) => {
        if (typeof c !== 'object' || c === null) throw bad(`changes[${i}] must be an object`, `changes[${i}]`);
        const table = checkedTable(c.table, `changes[${i}].table`);
        return { c, i, table, key: checkedKey(table, c.key, `changes[${i}].key`) };
      })
      // Parents before children: a page may hold a child before its parent in the server's order.
      .sort((a, b) => order.get(a.table)! - order.get(b.table)! || a.i - b.i);
    db.run('UPDATE sync_device SET capture = 0');
    try {
      for (const { c, i, table, key } of sorted) {
        const k = keyText(db, key);
        if (this.#state.resync) this.#seen.push({ table, key: k });
        if (table === SESSION_INDEX) this.#entry(c, i, key, k);
        else this.#row(table, c, i, key, k);
      }
      if (this.#seen.length > 0) db.run('INSERT OR IGNORE INTO sync_seen(tbl, key) SELECT value ->> 0, value ->> 1 FROM json_each(?1)', [JSON.stringify(this.#seen.map((r) => [r.table, r.key]))]);
      for (const [threadId, ids] of this.#arrived) followLeaf(db, threadId, ids);
      if (this.#setAside.size > 0) this.#retryOrphans(sorted.map(({ table, key }) => `${table}\u0000${keyText(db, key)}`));
      db.run('UPDATE sync_device SET cursor = MAX(cursor, ?1)', [cursor]);
      if (this.#state.resync && !more) this.#finishResync();
    } finally {
      db.run('UPDATE sync_device SET capture = 1');
    }
    return [...this.#announced.values()];
  }

  /** Rows set aside because their parent was not on the server go back to the outbox when the parent arrives. */
  #retryOrphans(delivered: string[]): void {
    const db = this.db;
    const orphans = db.all("SELECT tbl, key FROM sync_rejected WHERE code = 'NOT_FOUND'");
    if (orphans.length === 0 || delivered.length === 0) return;
    const arrived = new Set(delivered);
    for (const o of orphans) {
      const table = String(o['tbl']) as SyncTable;
      if (table === SESSION_INDEX) continue;
      const row = readRow(db, table, JSON.parse(String(o['key'])) as SqlValue[]);
      if (!row) continue;
      const parentArrived = policyOf(table).parents.some((link) => {
        const values = link.from.map((c) => row[c] ?? null);
        return values.every((v) => v !== null) && arrived.has(`${link.table}\u0000${keyText(db, values)}`);
      });
      if (!parentArrived) continue;
      db.run('DELETE FROM sync_rejected WHERE tbl = ?1 AND key = ?2', [table, o['key']!]);
      db.run('INSERT INTO sync_outbox(tbl, key, cols) VALUES (?1, ?2, -1) ON CONFLICT(tbl, key) DO UPDATE SET cols = -1, version = version + 1', [table, o['key']!]);
    }
  }

  #announce(kind: ChangeKind, threadId: string | null, id: string | number | null): void {
    this.#announced.set(`${kind}\u0000${threadId}\u0000${id}`, { kind, method: null, threadId, id });
  }

  #entry(c: PulledChange, i: number, key: (string | number)[], k: string): void {
    if (c.row === null) return;
    const entry = sessionEntry(c.row, `changes[${i}].row`);
    if (entry.threadId !== key[0]) throw bad(`changes[${i}].row.thread_id does not match the key`, `changes[${i}]`);
    if (this.db.all('SELECT 1 FROM sync_outbox WHERE tbl = ?1 AND key = ?2', [SESSION_INDEX, k]).length > 0) return;
    if (!sameEntry(this.index.get(entry.threadId), entry)) this.index.append(entry);
    this.#announce('sessionIndex', entry.threadId, entry.threadId);
  }

  #row(table: RowTable, c: PulledChange, i: number, key: (string | number)[], k: string): void {
    const db = this.db;
    const field = `changes[${i}]`;
    const remote = c.row === null ? null : checkedRow(db, table, key, c.row, `${field}.row`);
    // A delete this device had not seen (the row may be back since): it takes the local copy, and
    // every unpushed change of it and under it (a delete wins over writes that did not see it).
    if (remote === null || c.gone === true) this.#drop({ table, key });
    if (remote === null) {
      db.run('DELETE FROM sync_outbox WHERE tbl = ?1 AND key = ?2', [table, k]);
      return;
    }
    const id = `${table}\u0000${k}`;
    let e = this.#pending.has(id) ? entryOf(db, table, k) : null;
    if (e && c.lost === true) e = this.#lost(e);
    if (this.#setAside.has(id)) db.run('DELETE FROM sync_rejected WHERE tbl = ?1 AND key = ?2', [table, k]);
    const p = policyOf(table);
    if (e) {
      // This device's own unpushed change stays on top (docs/sync.md, rule 8).
      const local = readRow(db, table, key);
      if (!local) return;
      const mask = union(e.cols, e.oCols);
      if (p.scope && local[p.scope] !== remote[p.scope] && mask !== -1) {
        db.run('DELETE FROM sync_outbox WHERE seq = ?1', [e.seq]);
        this.#write(table, remote, key, null);
        return;
      }
      const merged: SqlRow = { ...remote };
      const mine = mask === -1 ? columnsOf(db, table) : [...(namesOf(db, table, mask) ?? []), ...(p.scope ? [p.scope] : [])];
      for (const col of mine) if (col in local) merged[col] = local[col]!;
      for (const col of p.max) if (col in local && col in remote) merged[col] = larger(local[col]!, remote[col]!);
      if (p.counters.length > 0 && mask !== -1) {
        p.counters.forEach((col, j) => {
          merged[col] = Number(remote[col] ?? 0) + e!.d[j]! + e!.o[j]!;
        });
      }
      this.#write(table, merged, key, e);
      return;
    }
    if (!parentsPresent(db, table, remote, this.#present)) return;
    this.#write(table, remote, key, null);
  }

  /** Writes a row that came from the server (merged with `e`'s columns when it has one) and notes it. */
  #write(table: RowTable, row: SqlRow, key: (string | number)[], e: Entry | null): void {
    const db = this.db;
    const p = policyOf(table);
    // Local columns are kept on a row this device has; a new row starts without them.
    const exists = p.local.length > 0 && readRow(db, table, key) !== null;
    writeRow(db, table, row, null, exists ? p.local : []);
    this.#present.add(`${table}\u0000${JSON.stringify(key)}`);
    if (p.swept && !e) db.run('INSERT OR IGNORE INTO sync_remote(tbl, key) VALUES (?1, ?2)', [table, keyText(db, key)]);
    const threadId = threadOfRow(db, table, row);
    this.#announce(p.kind, threadId, noticeTarget(table, key));
    if (table === 'messages') {
      const id = Number(row['id']);
      if (threadId) {
        const m = { id, parent: row['parent_entry_id'] === null || row['parent_entry_id'] === undefined ? null : Number(row['parent_entry_id']) };
        const ids = this.#arrived.get(threadId);
        if (ids) ids.push(m);
        else this.#arrived.set(threadId, [m]);
      }
      // A message of this device's own site it does not remember writing (a rollback): never give its id out again.
      if (Math.floor(id / SITE_SIZE) === this.#device.site) db.run('UPDATE sync_device SET next_id = MAX(next_id, ?1)', [id + 1]);
    }
  }

  /** Deletes a row and what is under it, with every unpushed change of them. */
  #drop(root: RowRef): void {
    const db = this.db;
    const threadId = threadOfRow(db, root.table, readRow(db, root.table, root.key));
    this.#present.clear();
    const gone = deleteCascade(db, root);
    for (const r of gone) {
      const k = keyText(db, r.key);
      db.run('DELETE FROM sync_outbox WHERE tbl = ?1 AND key = ?2', [r.table, k]);
      db.run('DELETE FROM sync_remote WHERE tbl = ?1 AND key = ?2', [r.table, k]);
    }
    if (gone.length > 0) this.#announce(policyOf(root.table).kind, threadId, noticeTarget(root.table, root.key));
  }

  /** A rollback resync: a push the device no longer remembers carried this row, so its change from before the restore is already there. */
  #lost(e: Entry): Entry | null {
    if (!e.fresh) {
      this.db.run('DELETE FROM sync_outbox WHERE seq = ?1', [e.seq]);
      return null;
    }
    this.db.run('UPDATE sync_outbox SET o_cols = 0, o_tokens = 0, o_time = 0, o_cont = 0 WHERE seq = ?1', [e.seq]);
    return { ...e, oCols: 0, o: [0, 0, 0] };
  }

  /**
   * The last page of a full re-pull: every local row the server did not send is gone there, so it
   * goes here too, unless this device created it and has not pushed it yet.
   */
  #finishResync(): void {
    const db = this.db;
    let swept = 0;
    for (const table of [...ROW_TABLES].reverse()) {
      const key = policyOf(table).key.map(ident).join(', ');
      const stale = db.all(
        `SELECT ${key}, json_array(${key}) AS k FROM ${ident(table)} WHERE json_array(${key}) NOT IN (SELECT key FROM sync_seen WHERE tbl = ?1)`,
        [table],
      );
      for (const r of stale) {
        const e = entryOf(db, table, String(r['k']));
        if (e && union(e.cols, e.oCols) === -1) continue;
        const ref = { table, key: policyOf(table).key.map((c) => r[c] ?? null) };
        if (!readRow(db, table, ref.key)) continue;
        this.#drop(ref);
        swept++;
      }
    }
    db.run('DELETE FROM sync_seen');
    db.run('UPDATE sync_state SET resync = 0, resync_since = 0, resync_rollback = NULL');
    if (swept > 0) this.#announce('database', null, null);
  }
}

// --- rows of sync's own tables -------------------------------------------------------------------

function hasTrigger(db: SqlDriver): boolean {
  return db.all("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = 'sync_allocate_message_id'").length > 0;
}

function deviceRow(db: SqlDriver): DeviceRow | null {
  const r = db.all('SELECT device, site, next_id, cursor, push FROM sync_device')[0];
  return r ? { device: String(r['device']), site: Number(r['site']), nextId: Number(r['next_id']), cursor: Number(r['cursor']), push: Number(r['push']) } : null;
}

function stateRow(db: SqlDriver): StateRow | null {
  if (!hasTable(db, 'sync_state')) return null;
  const r = db.all('SELECT schema, secret, epoch, sent_seen, resync, resync_since, resync_rollback, batch_limit FROM sync_state')[0];
  if (!r) return null;
  return {
    schema: Number(r['schema']),
    secret: String(r['secret']),
    epoch: r['epoch'] === null ? null : String(r['epoch']),
    sentSeen: Number(r['sent_seen']),
    resync: Number(r['resync']) === 1,
    resyncSince: Number(r['resync_since']),
    resyncRollback: r['resync_rollback'] === null ? null : Number(r['resync_rollback']),
    batchLimit: r['batch_limit'] === null ? null : Number(r['batch_limit']),
  };
}

const ENTRY_COLUMNS = 'seq, tbl, key, version, fresh, cols, o_cols, d_tokens, d_time, d_cont, o_tokens, o_time, o_cont, stash, sent_push, sent_version, sent_json';

function toEntry(r: SqlRow): Entry {
  const n = (c: string) => Number(r[c]);
  const nOrNull = (c: string) => (r[c] === null ? null : Number(r[c]));
  return {
    seq: n('seq'),
    tbl: String(r['tbl']) as SyncTable,
    key: String(r['key']),
    version: n('version'),
    fresh: n('fresh') === 1,
    cols: n('cols'),
    oCols: n('o_cols'),
    d: [n('d_tokens'), n('d_time'), n('d_cont')],
    o: [n('o_tokens'), n('o_time'), n('o_cont')],
    stash: r['stash'] === null ? null : String(r['stash']),
    sentPush: nOrNull('sent_push'),
    sentVersion: nOrNull('sent_version'),
    sentJson: r['sent_json'] === null ? null : String(r['sent_json']),
  };
}

function entries(db: SqlDriver, where: string, params: SqlValue[], limit: number): Entry[] {
  return db.all(`SELECT ${ENTRY_COLUMNS} FROM sync_outbox WHERE ${where} ORDER BY seq LIMIT ${limit}`, params).map(toEntry);
}

function entryOf(db: SqlDriver, table: SyncTable, key: string): Entry | null {
  return entries(db, 'tbl = ?1 AND key = ?2', [table, key], 1)[0] ?? null;
}

function inFlight(db: SqlDriver, push: number): Entry[] {
  return entries(db, 'sent_push = ?1', [push], 1_000_000);
}

/** A sent entry goes back to waiting, with what it carried added to what was recorded since. */
function unsend(db: SqlDriver, e: Entry): void {
  const sent = JSON.parse(e.sentJson!) as PushedChange;
  const table = sent.table;
  const mask = table === SESSION_INDEX || sent.row === null ? 0 : sent.cols === undefined ? -1 : maskOf(db, table, sent.cols);
  const add = sent.add ?? { tokens_used: 0, time_used_seconds: 0, continuation_count: 0 };
  db.run(
    `UPDATE sync_outbox SET sent_push = NULL, sent_version = NULL, sent_json = NULL,
       o_cols = CASE WHEN o_cols = -1 OR ?2 = -1 THEN -1 ELSE o_cols | ?2 END,
       o_tokens = o_tokens + ?3, o_time = o_time + ?4, o_cont = o_cont + ?5 WHERE seq = ?1`,
    [e.seq, mask, add.tokens_used, add.time_used_seconds, add.continuation_count],
  );
}

/** Moves an entry out of the outbox into the rows set aside, with why. */
function setAside(db: SqlDriver, e: Entry, code: string, message: string): void {
  db.run('INSERT OR REPLACE INTO sync_rejected(tbl, key, code, message) VALUES (?1, ?2, ?3, ?4)', [e.tbl, e.key, code, message.slice(0, 500)]);
  db.run('DELETE FROM sync_outbox WHERE seq = ?1', [e.seq]);
}

/** The welcome's fields, checked. */
function checkedWelcome(welcome: unknown): Welcome {
  const w = welcome as Partial<Welcome> | null;
  if (typeof w !== 'object' || w === null) throw bad('welcome must be an object', 'welcome');
  if (!Number.isSafeInteger(w.site) || w.site! < 1 || w.site! >= MAX_SITES || !Number.isSafeInteger(w.lastPush) || w.lastPush! < 0) {
    throw bad('welcome must carry an integer site and lastPush', 'welcome');
  }
  if (typeof w.epoch !== 'string' || w.epoch === '') throw bad('welcome.epoch must be a non-empty string', 'welcome.epoch');
  if (w.resync !== null && w.resync !== 'epoch' && w.resync !== 'floor' && w.resync !== 'rollback') throw bad('welcome.resync is not a known reason', 'welcome.resync');
  if (w.nextId !== undefined && !Number.isSafeInteger(w.nextId)) throw bad('welcome.nextId must be an integer', 'welcome.nextId');
  if (w.rejected !== undefined && !Array.isArray(w.rejected)) throw bad('welcome.rejected must be an array', 'welcome.rejected');
  return w as Welcome;
}

/** Gives messages new ids (they never left this device): the rows, their children, status, search index, leaf and outbox entries. */
function renumberMessages(db: SqlDriver, renamed: ReadonlyMap<number, number>): void {
  db.exec('PRAGMA defer_foreign_keys = ON');
  for (const [from, to] of renamed) {
    const row = db.all('SELECT content FROM messages WHERE id = ?1', [from])[0];
    if (!row) continue;
    db.run("INSERT INTO message_fts(message_fts, rowid, content) VALUES ('delete', ?1, ?2)", [from, row['content']!]);
    db.run('UPDATE messages SET id = ?2 WHERE id = ?1', [from, to]);
    db.run('INSERT INTO message_fts(rowid, content) VALUES (?1, ?2)', [to, row['content']!]);
    db.run('UPDATE messages SET parent_entry_id = ?2 WHERE parent_entry_id = ?1', [from, to]);
    db.run('UPDATE message_status SET message_id = ?2 WHERE message_id = ?1', [from, to]);
    db.run('UPDATE threads SET current_leaf_id = ?2 WHERE current_leaf_id = ?1', [from, to]);
    for (const t of ['sync_outbox', 'sync_rejected', 'sync_remote']) {
      db.run(`UPDATE ${t} SET key = json_array(?2) WHERE tbl IN ('messages', 'message_status') AND key = json_array(?1)`, [from, to]);
    }
  }
}

/** Moves a thread's leaf down the arrived messages that continue it, one generation at a time. */
function followLeaf(db: SqlDriver, threadId: string, arrived: readonly { id: number; parent: number | null }[]): void {
  fixLeaf(db, threadId);
  const row = db.all('SELECT current_leaf_id FROM threads WHERE id = ?1', [threadId])[0];
  if (!row) return;
  const children = new Map<number | null, number[]>();
  for (const m of arrived) children.set(m.parent, [...(children.get(m.parent) ?? []), m.id]);
  let leaf = row['current_leaf_id'] === null ? null : Number(row['current_leaf_id']);
  const start = leaf;
  // Only an unambiguous continuation moves the view: one arrived child of the leaf.
  for (let next = children.get(leaf); next?.length === 1; next = children.get(leaf)) leaf = next[0]!;
  if (leaf !== start) db.run('UPDATE threads SET current_leaf_id = ?1 WHERE id = ?2', [leaf, threadId]);
}


