import { expect, it } from 'vitest';
import { loadEdgeEngine, memoryDriver } from '../../src/cloudflare/engine.js';

it('loads sqlite-wasm inside workerd: create, write, serialize, deserialize', async () => {
  const sqlite3 = await loadEdgeEngine();
  expect((globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent).toBe('Cloudflare-Workers');
  const db = memoryDriver(sqlite3);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT, data BLOB); PRAGMA user_version = 7;");
  db.run('INSERT INTO t (body, data) VALUES (?, ?)', ['été 😀', new Uint8Array([0, 255])]);
  db.exec("CREATE VIRTUAL TABLE f USING fts5(body, tokenize='trigram'); INSERT INTO f VALUES ('hello zanzibar');");
  const bytes = db.serialize();
  expect(new TextDecoder().decode(bytes.subarray(0, 15))).toBe('SQLite format 3');
  const copy = db.openImage(bytes);
  expect(copy.all('SELECT body, data FROM t')).toEqual([{ body: 'été 😀', data: new Uint8Array([0, 255]) }]);
  expect(copy.all('PRAGMA user_version')).toEqual([{ user_version: 7 }]);
  expect(copy.all("SELECT count(*) AS n FROM f WHERE f MATCH 'zanz'")).toEqual([{ n: 1 }]);
  expect(copy.all('PRAGMA integrity_check')).toEqual([{ integrity_check: 'ok' }]);
  copy.close();
  db.close();
});
