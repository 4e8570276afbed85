import type { SqlDriver, SqlRow } from '../driver/port.js';
import { StoreError } from './errors.js';
import { num, str, strOrNull } from './rows.js';
import type { DynamicToolRecord } from './types.js';
import * as v from './validate.js';

/** The `thread_dynamic_tools` table: the tools registered for a thread, by position. */

/** Maps a `thread_dynamic_tools` row. */
export function toTool(row: SqlRow): DynamicToolRecord {
  return {
    position: num(row['position']),
    name: str(row['name']),
    description: strOrNull(row['description']),
    inputSchema: v.parseStoredJson(row['input_schema']),
  };
}

/** A tool ready to insert: its schema serialized. */
export interface ToolRow {
  position: number;
  name: string;
  description: string | null;
  inputSchemaJson: string;
}

/** Validates persistDynamicTools' list; two tools at one position are refused before anything is deleted. */
export function validateTools(input: unknown): ToolRow[] {
  const seen = new Set<number>();
  return v.list(input, 'tools').map((item, i) => {
    const t = v.record(item, `tools[${i}]`);
    if (t['inputSchema'] === undefined) {
      throw new StoreError('INVALID_ARGUMENT', `tools[${i}].inputSchema is required`, { details: { field: `tools[${i}].inputSchema` } });
    }
    const position = v.integer(t['position'], `tools[${i}].position`);
    if (seen.has(position)) {
      throw new StoreError('INVALID_ARGUMENT', `tools[${i}].position ${position} is used twice`, { details: { field: `tools[${i}].position` } });
    }
    seen.add(position);
    return {
      position,
      name: v.nonEmpty(t['name'], `tools[${i}].name`),
      description: v.optionalText(t['description'], `tools[${i}].description`),
      inputSchemaJson: v.json(t['inputSchema'], `tools[${i}].inputSchema`),
    };
  });
}

/** Replaces a thread's tools: the seed's delete-all then insert-each, inside the caller's transaction. */
export function replaceToolRows(db: SqlDriver, threadId: string, tools: readonly ToolRow[]): void {
  db.run('DELETE FROM thread_dynamic_tools WHERE thread_id = ?1', [threadId]);
  for (const t of tools) {
    db.run('INSERT INTO thread_dynamic_tools(thread_id, position, name, description, input_schema) VALUES (?1, ?2, ?3, ?4, ?5)', [
      threadId, t.position, t.name, t.description, t.inputSchemaJson,
    ]);
  }
}

/** A thread's tools by position. */
export function listToolRows(db: SqlDriver, threadId: string): DynamicToolRecord[] {
  return db
    .all('SELECT position, name, description, input_schema FROM thread_dynamic_tools WHERE thread_id = ?1 ORDER BY position ASC', [threadId])
    .map(toTool);
}
