import type { TextFile } from '../driver/port.js';

/**
 * The JSONL session index: one `{"thread_id","thread_name","updated_at","rollout_path"}` line per
 * change, byte for byte the seed's format, the last line for an id winning. The file is read once at
 * open into a map that every later append updates, so no lookup re-reads it. Lines that are torn
 * (a crash mid-append) or not entries are skipped and counted instead of failing every lookup.
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

  /** Lines skipped as torn or invalid when the file was read. */
  get skippedLines(): number {
    return this.skipped;
  }

  /** How many threads have an entry. */
  get size(): number {
    return this.slots.size;
  }

  /** Appends a line (durably, through the file port), then updates the map. */
  append(entry: SessionIndexEntry): void {
    const line = encodeEntry(entry) + '\n';
    this.file.append(this.needsNewline ? '\n' + line : line);
    this.needsNewline = false;
    this.lines++;
    this.remember(entry);
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
