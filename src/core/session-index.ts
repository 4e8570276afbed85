import type { TextFile } from '../driver/port.js';

/**
 * The JSONL session index: one `{"thread_id","thread_name","updated_at","rollout_path"}` line per
 * change, byte for byte the seed's format, the last line for an id winning. The file is read once at
 * open into a map that every later append updates, so no lookup re-reads it. Lines that are torn
 * (a crash mid-append) or not entries are skipped and counted instead of failing every lookup.
 * The file is compacted on demand (compactSessionIndex) and automatically once dead lines outnumber
 * live ones by AUTO_COMPACT_FACTOR, so it stays proportional to the number of threads.
 */

/** One live entry of the index. */
export interface SessionIndexEntry {
  threadId: string;
  threadName: string | null;
  updatedAt: number;
  rolloutPath: string | null;
}

interface Slot {
  entry: SessionIndexEntry;
  /** Append order, so that equal `updatedAt` resolves to the line written last. */
  seq: number;
}

/** The seed matches names with `eq_ignore_ascii_case`: only A–Z fold, nothing else. */
function foldAscii(name: string): string {
  return name.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** Encodes an entry exactly as serde_json does the seed's struct (field order, escapes, no spaces). */
export function encodeEntry(e: SessionIndexEntry): string {
  return JSON.stringify({ thread_id: e.threadId, thread_name: e.threadName, updated_at: e.updatedAt, rollout_path: e.rolloutPath });
}

/** Parses one line as serde would: thread_id and an integer updated_at are required, Options may be missing. */
export function decodeEntry(line: string): SessionIndexEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const o = value as Record<string, unknown>;
  const name = o['thread_name'] ?? null;
  const path = o['rollout_path'] ?? null;
  if (typeof o['thread_id'] !== 'string' || !Number.isSafeInteger(o['updated_at'])) return null;
  if ((name !== null && typeof name !== 'string') || (path !== null && typeof path !== 'string')) return null;
  return { threadId: o['thread_id'], threadName: name, updatedAt: o['updated_at'] as number, rolloutPath: path };
}

/**
 * Automatic compaction: after an append, the file is compacted when it holds more than
 * AUTO_COMPACT_FACTOR lines per live entry and more than AUTO_COMPACT_MIN_LINES lines in all.
 *
 * Why 4: a compaction writes one line per live entry. Right after one, the file has L = live lines;
 * the next can come only once lines > 4 × live, and live only grows between compactions (an append
 * never removes an entry), so at least 3 × L appends come in between while it writes at most
 * lines / 4 lines. Each append thus pays for under 1/3 of a line of rewriting, amortized O(1), and the
 * file never keeps more than max(4 × live, 64) lines after an append. A smaller factor
 * rewrites more often for little saving; a larger one lets the file grow further.
 *
 * Why 64: a compaction also has a fixed cost (the OPFS side file, three flushes), which the per-line
 * bound does not cover. With one or two live threads, factor 4 alone would compact every few
 * appends; up to 64 lines the file is a few KiB, so it is left to grow. With one thread, the 65th
 * line brings it back to one.
 */
export const AUTO_COMPACT_FACTOR = 4;
export const AUTO_COMPACT_MIN_LINES = 64;

/** The session index over a text file. */
export class SessionIndex {
  private readonly slots = new Map<string, Slot>();
  /** Folded name → ids whose current entry has that name. */
  private readonly byName = new Map<string, Set<string>>();
  private seq = 0;
  private skipped = 0;
  /** Non-blank lines in the file, so compaction can say what it saved without re-reading. */
  private lines = 0;
  /** The file ends without a newline (a torn last line); the next append must start a fresh line. */
  private needsNewline = false;
  /** After a failed automatic compaction, no other is tried before the file has this many lines. */
  private retryAt = 0;

  /** Reads the file once and builds the map. */
  constructor(private readonly file: TextFile) {
    const content = file.read();
    this.needsNewline = content.length > 0 && !content.endsWith('\n');
    for (const raw of content.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      this.lines++;
      const entry = decodeEntry(line);
      if (entry) this.remember(entry);
      else this.skipped++;
    }
  }

  /** Lines skipped as torn or invalid when the file was read and still in it (a compaction drops them). */
  get skippedLines(): number {
    return this.skipped;
  }

  /** How many threads have an entry. */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Appends a line (durably, through the file port), then updates the map, then compacts the file
   * when dead lines have piled up (see AUTO_COMPACT_FACTOR).
   */
  append(entry: SessionIndexEntry): void {
    this.onAppend?.(entry.threadId);
    const line = encodeEntry(entry) + '\n';
    this.file.append(this.needsNewline ? '\n' + line : line);
    this.needsNewline = false;
    this.lines++;
    this.remember(entry);
    this.compactIfBloated();
  }

  /** Called before each append with its thread id (sync records the change in its outbox). */
  onAppend: ((threadId: string) => void) | undefined;

  /** The ids of every thread with an entry, in write order. */
  threadIds(): string[] {
    return [...this.slots.values()].sort((a, b) => a.seq - b.seq).map((s) => s.entry.threadId);
  }

  /** The live entry of a thread. */
  get(threadId: string): SessionIndexEntry | undefined {
    return this.slots.get(threadId)?.entry;
  }

  /** The entry whose name matches (ASCII case-insensitive) with the newest updatedAt; ties go to the last written. */
  findByName(name: string): SessionIndexEntry | undefined {
    let best: Slot | undefined;
    for (const id of this.byName.get(foldAscii(name)) ?? []) {
      const slot = this.slots.get(id)!;
      if (!best || slot.entry.updatedAt > best.entry.updatedAt || (slot.entry.updatedAt === best.entry.updatedAt && slot.seq > best.seq)) {
        best = slot;
      }
    }
    return best?.entry;
  }

  /** Rewrites the file with one line per live entry, in write order, and says how many lines there were before and after. */
  compact(keep: (threadId: string) => boolean = () => true): { before: number; after: number } {
    const live = [...this.slots.values()].filter((s) => keep(s.entry.threadId)).sort((a, b) => a.seq - b.seq);
    const before = this.lines;
    this.file.replace(live.map((s) => encodeEntry(s.entry) + '\n').join(''));
    for (const id of [...this.slots.keys()]) if (!keep(id)) this.forget(id);
    this.needsNewline = false;
    this.skipped = 0;
    this.lines = live.length;
    return { before, after: live.length };
  }

  /**
   * Compacts when the file holds more than AUTO_COMPACT_FACTOR lines per live entry (torn and garbage
   * lines count as dead) and more than AUTO_COMPACT_MIN_LINES lines. It is maintenance only: the
   * append before it is already durable and in the map, so a failure (a full disk) is not the
   * caller's. TextFile.replace is crash-atomic, so a failed or interrupted compaction leaves the old
   * file, whose lookups are the same; the next try waits until the file has doubled, so a full disk does not
   * cost a rewrite attempt on every append.
   */
  private compactIfBloated(): void {
    if (this.lines <= AUTO_COMPACT_MIN_LINES || this.lines <= AUTO_COMPACT_FACTOR * this.slots.size || this.lines < this.retryAt) return;
    try {
      this.compact();
      this.retryAt = 0;
    } catch {
      this.retryAt = this.lines * 2;
    }
  }

  private remember(entry: SessionIndexEntry): void {
    this.forget(entry.threadId);
    this.slots.set(entry.threadId, { entry, seq: this.seq++ });
    if (entry.threadName !== null) {
      const key = foldAscii(entry.threadName);
      let ids = this.byName.get(key);
      if (!ids) this.byName.set(key, (ids = new Set()));
      ids.add(entry.threadId);
    }
  }

  private forget(threadId: string): void {
    const old = this.slots.get(threadId);
    if (!old) return;
    this.slots.delete(threadId);
    if (old.entry.threadName !== null) {
      const key = foldAscii(old.entry.threadName);
      const ids = this.byName.get(key);
      ids?.delete(threadId);
      if (ids?.size === 0) this.byName.delete(key);
    }
  }
}
