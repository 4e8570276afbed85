import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/core.js';
import type { MemoryStore, TextFile } from '../../src/core.js';
import { AUTO_COMPACT_FACTOR, AUTO_COMPACT_MIN_LINES } from '../../src/core/session-index.js';
import { StateStore } from '../../src/core/store.js';
import type { Oo1Database, Oo1Engine } from '../../src/driver/oo1.js';
import { oo1Driver } from '../../src/driver/oo1.js';

/**
 * The session index as a file: the seed's serde_json byte format, last-line-wins, tolerance of torn
 * and garbage lines, compaction, and lookups served from memory. Node only: it reads the file text.
 */

/** A line exactly as the seed's serde_json writes it, newline included. */
function line(threadId: string, threadName: string | null, updatedAt: number, rolloutPath: string | null): string {
  return `{"thread_id":${JSON.stringify(threadId)},"thread_name":${threadName === null ? 'null' : JSON.stringify(threadName)},"updated_at":${updatedAt},"rollout_path":${rolloutPath === null ? 'null' : JSON.stringify(rolloutPath)}}\n`;
}

const opened: MemoryStore[] = [];

async function open(sessionIndex = ''): Promise<MemoryStore> {
  const store = await createMemoryStore({ sessionIndex });
  opened.push(store);
  return store;
}

/** Reopens a store on the session index text another store left behind. */
function reopen(store: MemoryStore): Promise<MemoryStore> {
  return open(store.sessionIndexText());
}

const thread = (id: string, over: Record<string, unknown> = {}) => ({
  id, preview: '', ephemeral: false, modelProvider: 'p', createdAt: 1, updatedAt: 1, status: 'idle' as const, cwd: '/', cliVersion: '1', source: 'api' as const, ...over,
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});


describe('the session index byte format', () => {
  it('is serde_json\'s: fixed field order, no spaces, one line per append', async () => {
    const store = await open();
    store.appendThreadName('t', null, 5, null);
    expect(store.sessionIndexText()).toBe('{"thread_id":"t","thread_name":null,"updated_at":5,"rollout_path":null}\n');
    store.appendThreadName('u', 'Name', -3, '/r/u.jsonl');
    store.appendThreadName('v', '', 9007199254740991, '');
    expect(store.sessionIndexText()).toBe(
      '{"thread_id":"t","thread_name":null,"updated_at":5,"rollout_path":null}\n' +
        '{"thread_id":"u","thread_name":"Name","updated_at":-3,"rollout_path":"/r/u.jsonl"}\n' +
        '{"thread_id":"v","thread_name":"","updated_at":9007199254740991,"rollout_path":""}\n',
    );
  });

  it('escapes quotes, backslashes and control characters as serde_json does and leaves non-ASCII as it is', async () => {
    const store = await open();
    const name = 'q"b\\c\n\t\r\b\f\u0000\u0001\u001f\u007f/ é 漢字 😀 \u2028\u2029';
    store.appendThreadName('id "1"', name, 1, 'C:\\Users\\me\\rollout.jsonl');
    // serde_json: \" \\ \n \t \r \b \f, other C0 controls as lowercase \u00xx; DEL, '/', U+2028/9 and non-ASCII raw.
    const escapedName = String.raw`q\"b\\c\n\t\r\b\f\u0000\u0001\u001f` + '\u007f/ é 漢字 😀 \u2028\u2029';
    expect(store.sessionIndexText()).toBe(
      String.raw`{"thread_id":"id \"1\"","thread_name":"` + escapedName + String.raw`","updated_at":1,"rollout_path":"C:\\Users\\me\\rollout.jsonl"}` + '\n',
    );
    const again = await reopen(store);
    expect(again.findThreadNameById('id "1"')).toBe(name);
    expect(again.findThreadPathByName(name.replace(/[a-z]/g, (c) => c.toUpperCase()))).toBe('C:\\Users\\me\\rollout.jsonl');
  });

  it('upsertThread appends its id, name, updatedAt and rolloutPath in the same format', async () => {
    const store = await open();
    store.upsertThread(thread('t1', { name: 'First', updatedAt: 7, rolloutPath: '/r/t1.jsonl' }));
    store.upsertThread(thread('t2', { updatedAt: 8 }));
    expect(store.sessionIndexText()).toBe(line('t1', 'First', 7, '/r/t1.jsonl') + line('t2', null, 8, null));
  });

  it('an invalid upsertThread or appendThreadName writes no line', async () => {
    const store = await open();
    store.appendThreadName('t', 'kept', 1, null);
    const before = store.sessionIndexText();
    expect(() => store.upsertThread(thread('t', { status: 'bogus' }) as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => store.upsertThread(thread('t', { name: '\uD800' }) as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => store.appendThreadName('t', 'x', 1.5, null)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(store.sessionIndexText()).toBe(before);
  });
});

describe('reading the session index', () => {
  it('takes the last line for an id', async () => {
    const store = await open(line('a', 'one', 1, '/1') + line('b', 'B', 1, '/b') + line('a', 'two', 2, '/2') + line('a', 'three', 0, '/3'));
    expect(store.findThreadNameById('a')).toBe('three');
    expect(store.findThreadPathByName('three')).toBe('/3');
    expect(store.findThreadPathByName('two')).toBeNull();
    expect(store.info().sessionIndexEntries).toBe(2);
    expect(store.info().sessionIndexSkippedLines).toBe(0);
  });

  it('skips and counts torn and garbage lines while valid lines still work', async () => {
    const garbage = [
      '{"thread_id":"b","thread_na', // truncated JSON
      'not json at all',
      '[1,2,3]',
      '"just a string"',
      '42',
      'null',
      '{"thread_id":5,"thread_name":"x","updated_at":1,"rollout_path":null}',
      '{"thread_id":"c","thread_name":5,"updated_at":1,"rollout_path":null}',
      '{"thread_id":"d","thread_name":"D","updated_at":"1","rollout_path":null}',
      '{"thread_id":"e","thread_name":"E","updated_at":1.5,"rollout_path":null}',
      '{"thread_name":"F","updated_at":1,"rollout_path":null}',
      '{"thread_id":"g","thread_name":"G","rollout_path":null}',
      '{"thread_id":"h","thread_name":"H","updated_at":1,"rollout_path":true}',
      '{"thread_id":"a","thread_name":["not","a","string"],"updated_at":9,"rollout_path":null}',
    ];
    const text = line('a', 'A', 1, '/a') + garbage.join('\n') + '\n\n   \n' + line('i', 'I', 2, '/i');
    const store = await open(text);
    expect(store.info().sessionIndexSkippedLines).toBe(garbage.length);
    expect(store.info().sessionIndexEntries).toBe(2);
    expect(store.findThreadNamesByIds(['a', 'b', 'c', 'd', 'e', 'g', 'h', 'i'])).toEqual({
      a: 'A', b: null, c: null, d: null, e: null, g: null, h: null, i: 'I',
    });
    expect(store.findThreadPathByName('a')).toBe('/a');
    expect(store.findThreadPathByName('i')).toBe('/i');
    for (const name of ['x', 'D', 'E', 'F', 'G', 'H']) expect(store.findThreadPathByName(name)).toBeNull();
    store.appendThreadName('j', 'J', 3, '/j');
    expect(store.findThreadNameById('j')).toBe('J');
  });

  it('appends after a torn last line on a fresh line, so the new entry survives a reopen', async () => {
    const torn = line('a', 'A', 1, '/a') + '{"thread_id":"b","thread_name":"B","upd';
    const store = await open(torn);
    expect(store.info().sessionIndexSkippedLines).toBe(1);
    store.appendThreadName('c', 'C', 3, '/c');
    expect(store.sessionIndexText()).toBe(torn + '\n' + line('c', 'C', 3, '/c'));
    store.upsertThread(thread('d', { name: 'D', updatedAt: 4 }));
    const again = await reopen(store);
    expect(again.findThreadNamesByIds(['a', 'b', 'c', 'd'])).toEqual({ a: 'A', b: null, c: 'C', d: 'D' });
    expect(again.findThreadPathByName('c')).toBe('/c');
    expect(again.info().sessionIndexSkippedLines).toBe(1);
    expect(again.info().sessionIndexEntries).toBe(3);
  });

  it('appends after a complete last line that lacks its newline on a fresh line', async () => {
    const noNewline = line('a', 'A', 1, '/a').trimEnd();
    const store = await open(noNewline);
    expect(store.findThreadNameById('a')).toBe('A');
    store.appendThreadName('b', 'B', 2, '/b');
    const again = await reopen(store);
    expect(again.findThreadNamesByIds(['a', 'b'])).toEqual({ a: 'A', b: 'B' });
    expect(again.info().sessionIndexSkippedLines).toBe(0);
  });

  it('reads missing thread_name and rollout_path as null, as serde reads a missing Option', async () => {
    const store = await open('{"thread_id":"m","updated_at":3}\n{"thread_id":"n","thread_name":"N","updated_at":4}\n{"thread_id":"p","updated_at":5,"rollout_path":"/p"}\n');
    expect(store.info().sessionIndexSkippedLines).toBe(0);
    expect(store.info().sessionIndexEntries).toBe(3);
    expect(store.findThreadNamesByIds(['m', 'n', 'p'])).toEqual({ m: null, n: 'N', p: null });
    expect(store.findThreadPathByName('n')).toBeNull();
  });

  it('ignores unknown fields, as serde does by default', async () => {
    const store = await open('{"thread_id":"x","thread_name":"X","updated_at":1,"rollout_path":"/x","extra":{"a":1}}\n');
    expect(store.info().sessionIndexSkippedLines).toBe(0);
    expect(store.findThreadPathByName('x')).toBe('/x');
  });

  it('reads CRLF line endings', async () => {
    const store = await open(line('a', 'A', 1, '/a').replace('\n', '\r\n') + line('b', 'B', 1, '/b').replace('\n', '\r\n'));
    expect(store.info().sessionIndexSkippedLines).toBe(0);
    expect(store.findThreadNamesByIds(['a', 'b'])).toEqual({ a: 'A', b: 'B' });
  });
});

describe('compactSessionIndex', () => {
  it('keeps the last line of each id, returns the line counts, and lookups answer the same after a reopen', async () => {
    const text =
      line('a', 'old a', 1, '/a1') +
      line('b', 'Shared', 5, '/b') +
      'garbage\n' +
      line('a', 'A', 2, '/a2') +
      line('c', 'shared', 5, '/c') +
      line('b', 'Shared', 5, '/b2');
    const store = await open(text);
    const ids = ['a', 'b', 'c', 'missing'];
    const lookups = (s: MemoryStore) => ({
      names: s.findThreadNamesByIds(ids),
      shared: s.findThreadPathByName('SHARED'),
      a: s.findThreadPathByName('a'),
      oldA: s.findThreadPathByName('old a'),
    });
    const before = lookups(store);
    expect(before).toEqual({ names: { a: 'A', b: 'Shared', c: 'shared', missing: null }, shared: '/b2', a: '/a2', oldA: null });

    expect(store.compactSessionIndex()).toEqual({ before: 6, after: 3 });
    expect(store.sessionIndexText()).toBe(line('a', 'A', 2, '/a2') + line('c', 'shared', 5, '/c') + line('b', 'Shared', 5, '/b2'));
    expect(lookups(store)).toEqual(before);

    const again = await reopen(store);
    expect(lookups(again)).toEqual(before);
    expect(again.info().sessionIndexSkippedLines).toBe(0);
    expect(again.info().sessionIndexEntries).toBe(3);
  });

  it('leaves a clean file after a torn tail, so the next append needs no repair', async () => {
    const store = await open(line('a', 'A', 1, null) + '{"thread_id":"to');
    expect(store.compactSessionIndex()).toEqual({ before: 2, after: 1 });
    store.appendThreadName('b', 'B', 2, null);
    expect(store.sessionIndexText()).toBe(line('a', 'A', 1, null) + line('b', 'B', 2, null));
  });
});

/** Non-blank lines of a session index text. */
function lineCount(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

/** A store over a TextFile of the test's own, on a fresh in-memory database. */
async function storeOn(file: TextFile): Promise<StateStore> {
  type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
  const sqlite3 = await (sqlite3InitModule as unknown as (config: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} });
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  return StateStore.open({ db: oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database), sessionIndex: file });
}

describe('automatic compaction', () => {
  it('keeps the file of one thread upserted 1,000 times at most AUTO_COMPACT_MIN_LINES lines', async () => {
    const store = await open();
    let most = 0;
    for (let i = 1; i <= 1000; i++) {
      store.upsertThread(thread('t1', { name: `Name ${i}`, updatedAt: i, rolloutPath: `/r/${i}.jsonl` }));
      most = Math.max(most, lineCount(store.sessionIndexText()));
    }
    expect(most).toBeLessThanOrEqual(AUTO_COMPACT_MIN_LINES);
    expect(store.findThreadNameById('t1')).toBe('Name 1000');
    expect(store.findThreadPathByName('name 1000')).toBe('/r/1000.jsonl');
    expect(store.info().sessionIndexEntries).toBe(1);
  });

  it('keeps the file within AUTO_COMPACT_FACTOR lines per live thread once past the minimum', async () => {
    const store = await open();
    for (let i = 0; i < 3000; i++) {
      const id = `t${i % 50}`;
      store.appendThreadName(id, `${id} v${i}`, i, `/r/${id}`);
      const live = Math.min(i + 1, 50);
      expect(lineCount(store.sessionIndexText())).toBeLessThanOrEqual(Math.max(AUTO_COMPACT_FACTOR * live, AUTO_COMPACT_MIN_LINES));
    }
    expect(store.info().sessionIndexEntries).toBe(50);
  });

  it('does not compact a file whose lines are mostly live', async () => {
    const store = await open();
    let expected = '';
    for (let i = 0; i < 200; i++) {
      store.appendThreadName(`t${i}`, `N${i}`, i, null);
      expected += line(`t${i}`, `N${i}`, i, null);
    }
    expect(store.sessionIndexText()).toBe(expected);
  });

  it('leaves lookups as they were, with each live line byte for byte as it was appended', async () => {
    const store = await open();
    let everything = '';
    // 12 ids, names that collide case-insensitively across ids, equal updatedAt, and names cleared.
    for (let i = 0; i < 500; i++) {
      const id = `id-${(i * 7) % 12}`;
      const name = i % 11 === 0 ? null : i % 3 === 0 ? `Shared ${i % 4}` : `${id} é ${i}`;
      const updatedAt = Math.floor(i / 5);
      const path = i % 5 === 0 ? null : `/r/${id}/${i}`;
      store.appendThreadName(id, name, updatedAt, path);
      everything += line(id, name, updatedAt, path);
    }
    const compacted = store.sessionIndexText();
    expect(lineCount(compacted)).toBeLessThan(lineCount(everything));
    const appended = new Set(everything.split('\n'));
    for (const l of compacted.split('\n')) expect(appended.has(l)).toBe(true);

    const reference = await open(everything); // never compacted: opening does not compact
    const ids = Array.from({ length: 13 }, (_, i) => `id-${i}`);
    const names = ['shared 0', 'SHARED 1', 'Shared 2', 'shared 3', ...ids.map((id) => `${id} é 499`), 'id-7 é 497'];
    const lookups = (s: MemoryStore) => ({
      names: s.findThreadNamesByIds(ids),
      paths: names.map((n) => s.findThreadPathByName(n)),
      entries: s.info().sessionIndexEntries,
    });
    expect(lookups(store)).toEqual(lookups(reference));
    expect(lookups(await reopen(store))).toEqual(lookups(reference));
  });

  it('compacts a file with torn and garbage lines: they count as dead, go, and are no longer counted as skipped', async () => {
    const torn = line('a', 'A', 1, '/a') + 'garbage\n' + '{"thread_id":"b","thread_na\n' + line('b', 'B', 2, '/b') + '{"thread_id":"c","thread_name":"C","upd';
    const store = await open(torn);
    expect(store.info().sessionIndexSkippedLines).toBe(3);
    let i = 0;
    while (lineCount(store.sessionIndexText()) > 3) {
      store.appendThreadName('c', `C${i}`, 10 + i, '/c');
      i++;
      expect(i).toBeLessThanOrEqual(AUTO_COMPACT_MIN_LINES);
    }
    expect(store.sessionIndexText()).toBe(line('a', 'A', 1, '/a') + line('b', 'B', 2, '/b') + line('c', `C${i - 1}`, 9 + i, '/c'));
    expect(store.info().sessionIndexSkippedLines).toBe(0);
    expect(store.info().sessionIndexEntries).toBe(3);
    expect(store.findThreadNamesByIds(['a', 'b', 'c'])).toEqual({ a: 'A', b: 'B', c: `C${i - 1}` });
    const again = await reopen(store);
    expect(again.findThreadPathByName('b')).toBe('/b');
    expect(again.info().sessionIndexSkippedLines).toBe(0);
  });

  it('a compaction that fails leaves the append done and the old file, and is tried again once the file has doubled', async () => {
    let content = '';
    let failing = true;
    let replaces = 0;
    const file: TextFile = {
      read: () => content,
      append: (text) => {
        content += text;
      },
      replace: (text) => {
        replaces++;
        if (failing) throw new Error('QuotaExceededError');
        content = text;
      },
    };
    const store = await storeOn(file);
    try {
      for (let i = 0; i <= AUTO_COMPACT_MIN_LINES; i++) store.appendThreadName('t', `N${i}`, i, '/t');
      expect(replaces).toBe(1);
      expect(lineCount(content)).toBe(AUTO_COMPACT_MIN_LINES + 1);
      expect(store.findThreadNameById('t')).toBe(`N${AUTO_COMPACT_MIN_LINES}`);
      for (let i = 0; i < 10; i++) store.appendThreadName('t', `M${i}`, 100 + i, '/t');
      expect(replaces).toBe(1); // no retry on every append
      failing = false;
      while (replaces === 1) store.appendThreadName('t', 'Last', 200, '/t');
      expect(lineCount(content)).toBe(1);
      expect(content).toBe(line('t', 'Last', 200, '/t'));
      expect(store.info().sessionIndexEntries).toBe(1);
    } finally {
      store.close();
    }
  });
});

describe('findThreadPathByName', () => {
  it('folds ASCII letters only', async () => {
    const store = await open(
      line('h', 'Hello', 1, '/hello') + line('e', 'école', 1, '/ecole') + line('s', 's', 1, '/s') + line('k', 'k', 1, '/k') + line('i', 'i', 1, '/i'),
    );
    expect(store.findThreadPathByName('hELLO')).toBe('/hello');
    expect(store.findThreadPathByName('HELLO')).toBe('/hello');
    expect(store.findThreadPathByName('ÉCOLE')).toBeNull();
    expect(store.findThreadPathByName('éCOLE')).toBe('/ecole');
    expect(store.findThreadPathByName('S')).toBe('/s');
    // Unicode case mapping would fold these into ASCII letters; eq_ignore_ascii_case does not.
    expect(store.findThreadPathByName('\u017F')).toBeNull(); // ſ, LATIN SMALL LETTER LONG S, upper-cases to S
    expect(store.findThreadPathByName('\u212A')).toBeNull(); // K, KELVIN SIGN, lower-cases to k
    expect(store.findThreadPathByName('\u0130')).toBeNull(); // İ, lower-cases to i + combining dot
  });

  it('picks the highest updatedAt, and breaks a tie by the line written last in the file', async () => {
    const zFirst = await open(line('z', 'Same', 5, '/z') + line('a', 'same', 5, '/a') + line('old', 'SAME', 4, '/old'));
    expect(zFirst.findThreadPathByName('same')).toBe('/a');
    const aFirst = await open(line('a', 'same', 5, '/a') + line('z', 'Same', 5, '/z') + line('old', 'SAME', 4, '/old'));
    expect(aFirst.findThreadPathByName('same')).toBe('/z');
    const newest = await open(line('new', 'same', 9, '/new') + line('a', 'same', 5, '/a') + line('z', 'same', 5, '/z'));
    expect(newest.findThreadPathByName('same')).toBe('/new');
  });
});

describe('lookups', () => {
  it('are served from memory: the file is read once at open and never again', async () => {
    type Sqlite3 = Awaited<ReturnType<typeof sqlite3InitModule>>;
    const sqlite3 = await (sqlite3InitModule as unknown as (config: object) => Promise<Sqlite3>)({ print: () => {}, printErr: () => {} });
    const db = new sqlite3.oo1.DB(':memory:', 'c');
    const driver = oo1Driver(sqlite3 as unknown as Oo1Engine, db as unknown as Oo1Database);
    let content = line('a', 'A', 1, '/a') + line('b', 'B', 2, '/b');
    let reads = 0;
    const file: TextFile = {
      read: () => {
        reads++;
        return content;
      },
      append: (text) => {
        content += text;
      },
      replace: (text) => {
        content = text;
      },
    };
    const store = StateStore.open({ db: driver, sessionIndex: file });
    try {
      expect(reads).toBe(1);
      // The file changes behind the store's back; the store keeps answering from what it read.
      content = line('a', 'changed', 9, '/changed');
      expect(store.findThreadNameById('a')).toBe('A');
      expect(store.findThreadNamesByIds(['a', 'b'])).toEqual({ a: 'A', b: 'B' });
      expect(store.findThreadPathByName('a')).toBe('/a');
      expect(store.findThreadPathByName('changed')).toBeNull();
      store.appendThreadName('c', 'C', 3, '/c');
      store.upsertThread(thread('d', { name: 'D' }));
      expect(store.findThreadNamesByIds(['a', 'b', 'c', 'd'])).toEqual({ a: 'A', b: 'B', c: 'C', d: 'D' });
      expect(store.info().sessionIndexEntries).toBe(4);
      expect(reads).toBe(1);
      expect(content).toBe(line('a', 'changed', 9, '/changed') + line('c', 'C', 3, '/c') + line('d', 'D', 1, null));
    } finally {
      store.close();
    }
  });
});
