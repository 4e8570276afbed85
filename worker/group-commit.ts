import type { SqlDriver } from '../src/driver/port.js';
import { StoreError, toStoreError } from '../src/core/errors.js';
import { batch as transaction } from '../src/core/transaction.js';

/**
 * Group commit. Calls are queued; the first one schedules a flush on the next macrotask, by which
 * time every call that arrived meanwhile is queued too. The flush runs them all in one transaction,
 * each in its own SAVEPOINT (the core's `atomically`), commits once, and only then settles their
 * promises. A call that fails rolls back only its own savepoint. If the commit itself fails, or
 * SQLite aborts the whole transaction mid-batch, the calls whose work was lost are rejected too.
 * An `exclusive` call (import, export) runs alone, between transactions.
 */

interface Pending {
  run: () => unknown;
  exclusive: boolean;
  /** Only reads: a batch of nothing else needs no transaction. */
  read: boolean;
  /** Called once the call's work is committed (not for a failed call). */
  committed?: (() => void) | undefined;
  /** Its commit is flushed even when the connection runs with synchronous = OFF (relaxed durability). */
  durable?: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly channel = new MessageChannel();
  /** Transactions committed that wrote something (a batch of reads only is not counted). */
  commits = 0;

  constructor(
    private readonly db: SqlDriver,
    /**
     * Runs after every commit. When it returns a promise (memory mode under `strict`: the commit's
     * write to IndexedDB), the commit's calls settle only once it has settled, and fail if it fails.
     */
    private readonly afterCommit: (durable: boolean) => Promise<void> | undefined | void,
    /** The connection's own setting: under `relaxed` (synchronous = OFF) a durable call's batch is flushed all the same. */
    private readonly durability: 'strict' | 'relaxed' = 'strict',
  ) {
    // A MessageChannel hop is a macrotask without setTimeout's clamping.
    this.channel.port1.onmessage = () => this.flush();
  }

  /** Queues a call; the promise settles after the transaction it ran in has committed. */
  submit<T>(run: () => T, committed?: () => void): Promise<T> {
    return this.enqueue(run, false, false, committed);
  }

  /**
   * Queues a call whose commit must reach the disk under any durability (sync's steps: a batch taken
   * or settled must not be forgotten after a crash, or the server would see a device go back in time).
   */
  submitDurable<T>(run: () => T, committed?: () => void): Promise<T> {
    return this.enqueue(run, false, false, committed, true);
  }

  /** Queues a call that only reads; it joins a batch like any other, but alone it runs without BEGIN/COMMIT. */
  read<T>(run: () => T): Promise<T> {
    return this.enqueue(run, false, true);
  }

  /** Queues a call that must run outside any transaction (it manages its own atomicity). */
  exclusive<T>(run: () => T, committed?: () => void): Promise<T> {
    return this.enqueue(run, true, false, committed);
  }

  private enqueue<T>(run: () => T, exclusive: boolean, read: boolean, committed?: () => void, durable = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, exclusive, read, committed, durable, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.channel.port2.postMessage(null);
      }
    });
  }

  /** Runs everything queued now (also used before close). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const exclusiveAt = this.queue.findIndex((p) => p.exclusive);
      if (exclusiveAt === 0) {
        this.runAlone(this.queue.shift()!);
      } else {
        const batch = exclusiveAt < 0 ? this.queue.splice(0) : this.queue.splice(0, exclusiveAt);
        if (batch.every((call) => call.read)) this.runReads(batch);
        else this.runBatch(batch);
      }
    }
  }

  /** Rows written on this connection so far, to tell a batch that wrote from one that only read. */
  private written(): number {
    return this.db.totalChanges();
  }

  private runAlone(call: Pending): void {
    let outcome: Outcome;
    try {
      const before = this.written();
      outcome = { ok: true, value: call.run() };
      if (this.written() > before) this.commits++;
      call.committed?.();
    } catch (error) {
      outcome = { ok: false, error };
    }
    const outcomes = [outcome];
    this.settleWhenDurable([call], outcomes, this.afterCommit(call.durable === true));
  }

  /** Settles a batch's calls, after `durable` when there is one: a failure there fails every call that had succeeded. */
  private settleWhenDurable(batch: Pending[], outcomes: Outcome[], durable: Promise<void> | undefined | void): void {
    const settle = () =>
      batch.forEach((call, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) call.resolve(outcome.value);
        else call.reject(outcome.error);
      });
    if (!durable) {
      settle();
      return;
    }
    durable.then(settle, (error: unknown) => {
      const failed = toStoreError(error, 'commit');
      for (let i = 0; i < outcomes.length; i++) if (outcomes[i]!.ok) outcomes[i] = { ok: false, error: failed };
      settle();
    });
  }

  /** Reads alone: each statement reads a committed state by itself, so no transaction is opened. */
  private runReads(batch: Pending[]): void {
    for (const call of batch) {
      try {
        call.resolve(call.run());
      } catch (error) {
        call.reject(error);
      }
    }
  }

  private runBatch(batch: Pending[]): void {
    const outcomes: Outcome[] = [];
    let lostFrom = 0;
    const before = this.written();
    // SQLite refuses to change the flag inside a transaction: it is set for this one before BEGIN.
    const flush = this.durability === 'relaxed' && batch.some((call) => call.durable);
    if (flush) this.db.exec('PRAGMA synchronous = FULL');
    transaction.begin(this.db);
    for (const call of batch) {
      try {
        outcomes.push({ ok: true, value: call.run() });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
      if (!this.db.inTransaction()) {
        // SQLite rolled everything back (a full disk, say): the earlier calls' work is gone.
        const cause = outcomes[outcomes.length - 1]!;
        const lost = cause.ok ? new StoreError('STORAGE', 'the transaction was rolled back') : toStoreError(cause.error, 'group commit');
        for (let i = lostFrom; i < outcomes.length; i++) if (outcomes[i]!.ok) outcomes[i] = { ok: false, error: lost };
        lostFrom = outcomes.length;
        transaction.begin(this.db);
      }
    }
    try {
      const wrote = this.written() > before;
      transaction.commit(this.db);
      if (wrote) this.commits++;
    } catch (error) {
      transaction.rollback(this.db);
      const failed = toStoreError(error, 'commit');
      for (let i = lostFrom; i < outcomes.length; i++) if (outcomes[i]!.ok) outcomes[i] = { ok: false, error: failed };
    } finally {
      if (flush) this.db.exec('PRAGMA synchronous = OFF');
    }
    batch.forEach((call, i) => {
      if (outcomes[i]!.ok) call.committed?.();
    });
    this.settleWhenDurable(batch, outcomes, this.afterCommit(flush));
  }

  /** Stops accepting the scheduler's wake-ups. */
  dispose(): void {
    this.channel.port1.close();
  }
}
