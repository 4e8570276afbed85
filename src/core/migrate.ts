import type { SqlDriver } from '../driver/port.js';
import { StoreError } from './errors.js';
import { additiveMigrations, branchWalkMigration } from './additive-migrations.js';
import { graphChannelsMigration } from './graph-channels.js';
import { graphMemoryMigration } from './graph-memory.js';
import { graphCheckpointsMigration } from './graph-checkpoints.js';
import { requestLogMigration } from './request-log.js';
import { seedMigrations } from './seed-migrations.js';
import { messageIdBlockMigration } from './message-ids.js';

/** One schema step: the SQL that takes the database from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * Every migration this code knows, in order. 1–4 are the Rust store's; ours start at 5 and are
 * additive only (new tables, indexes, triggers), so the seed's own SQL keeps working on our files.
 */
export const migrations: readonly Migration[] = [...seedMigrations, ...additiveMigrations, requestLogMigration, graphCheckpointsMigration, branchWalkMigration, messageIdBlockMigration,
  graphChannelsMigration, graphMemoryMigration];

/** The user_version this code writes. */
export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/** The schema version of the open database: PRAGMA user_version, or where the driver keeps it when the engine refuses that. */
export function readUserVersion(db: SqlDriver): number {
  if (db.readSchemaVersion) return db.readSchemaVersion();
  const row = db.all('PRAGMA user_version')[0];
  return Number(row?.['user_version'] ?? 0);
}

/** Runs one migration step and records its version, in one transaction. */
function applyStep(db: SqlDriver, step: Migration): void {
  if (db.transaction && db.writeSchemaVersion) {
    const write = db.writeSchemaVersion.bind(db);
    db.transaction(() => {
      db.exec(step.sql);
      write(step.version);
    });
    return;
  }
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(step.sql);
    db.exec(`PRAGMA user_version = ${step.version}`);
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction()) db.exec('ROLLBACK');
    throw error;
  }
}

/** Checks that the list is 1, 2, 3, … with no gap, so a database can never skip a step. */
export function assertMigrationOrder(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new StoreError('MIGRATION_FAILED', `migration list is out of order: "${m.name}" has version ${m.version}, expected ${i + 1}`);
    }
  });
}

/**
 * Brings the database to the latest version, one transaction per step. A database newer than this
 * code is refused with SCHEMA_TOO_NEW before anything is written. Returns the final version.
 */
export function migrate(db: SqlDriver, list: readonly Migration[] = migrations): number {
  assertMigrationOrder(list);
  const latest = list.length;
  const current = readUserVersion(db);
  if (!Number.isInteger(current) || current < 0) {
    // user_version is a signed 32-bit field; the Rust store reads it as u32 and refuses a negative one.
    throw new StoreError('MIGRATION_FAILED', `the database has an invalid schema version ${current}`, {
      details: { databaseVersion: current, supportedVersion: latest },
    });
  }
  if (current > latest) {
    throw new StoreError(
      'SCHEMA_TOO_NEW',
      `the database is at schema version ${current}, newer than this code knows (${latest}); open it with a newer agent-state-store`,
      { details: { databaseVersion: current, supportedVersion: latest } },
    );
  }
  for (const step of list.slice(current)) {
    try {
      applyStep(db, step);
    } catch (error) {
      throw new StoreError('MIGRATION_FAILED', `migration ${step.version} (${step.name}) failed: ${error instanceof Error ? error.message : String(error)}`, {
        details: { version: step.version },
        cause: error,
      });
    }
  }
  return readUserVersion(db);
}
