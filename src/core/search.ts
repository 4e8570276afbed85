import type { SqlDriver, SqlValue } from '../driver/port.js';
import { StoreError, toStoreError } from './errors.js';
import { num, str } from './rows.js';
import type { SearchHit, SearchOptions } from './types.js';
import * as v from './validate.js';

/**
 * Full-text search over message content through `message_fts` (FTS5, trigram tokenizer; see
 * additive-migrations.ts). User input is never FTS5 syntax unless `advanced` is set: each
 * whitespace-separated word becomes a quoted literal, and all of them must match.
 */

const MARK_OPEN = '«';
const MARK_CLOSE = '»';
const ELLIPSIS = '…';
// snippet() counts tokens, and a trigram token is one character position: 64 is FTS5's maximum.
const SNIPPET_TOKENS = 64;
// The trigram tokenizer cannot index a term shorter than this; such terms are matched with LIKE.
const TRIGRAM = 3;

interface Plan {
  /** An FTS5 MATCH expression, or null when every term is too short for the index. */
  match: string | null;
  /** LIKE patterns for the terms the index cannot serve. */
  likes: string[];
  /** Every term, for the snippet of a LIKE-only hit. */
  terms: string[];
}

/** FTS5 string literal: double quotes, inner quotes doubled. Inside one, every character is literal. */
function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Turns user input into a plan that cannot be an FTS5 syntax error. */
function plainPlan(query: string): Plan {
  // NUL ends an FTS5 string literal early, so it separates terms like white space does.
  const terms = query.split(/[\s\u0000]+/u).filter((t) => t !== '');
  const long = terms.filter((t) => Array.from(t).length >= TRIGRAM);
  const short = terms.filter((t) => Array.from(t).length < TRIGRAM);
  return { match: long.length > 0 ? long.map(quote).join(' ') : null, likes: short.map(likePattern), terms };
}

function validate(query: unknown, options: SearchOptions | undefined) {
  const o = options === undefined ? {} : v.record(options, 'options');
  return {
    query: v.text(query, 'query'),
    threadId: o['threadId'] === undefined || o['threadId'] === null ? null : v.nonEmpty(o['threadId'], 'options.threadId'),
    limit: v.limit(o['limit'], 'options.limit', 20),
    includeArchived: o['includeArchived'] === undefined ? false : v.bool(o['includeArchived'], 'options.includeArchived'),
    advanced: o['advanced'] === undefined ? false : v.bool(o['advanced'], 'options.advanced'),
  };
}

/** Plain-text snippet for a hit the index did not rank: the first match with context, all matches marked. */
function likeSnippet(content: string, terms: string[]): string {
  const lower = content.toLowerCase();
  const needles = terms.map((t) => t.toLowerCase());
  const first = Math.min(...needles.map((n) => lower.indexOf(n)).filter((i) => i >= 0));
  const chars = Array.from(content);
  // Work in code points so that a cut never splits an emoji's surrogate pair.
  const firstChar = Number.isFinite(first) ? Array.from(content.slice(0, first)).length : 0;
  const start = Math.max(0, firstChar - 20);
  const end = Math.min(chars.length, start + SNIPPET_TOKENS);
  let window = chars.slice(start, end).join('');
  const lowerWindow = window.toLowerCase();
  const marks: Array<[number, number]> = [];
  for (const n of needles) {
    for (let i = lowerWindow.indexOf(n); i >= 0 && n.length > 0; i = lowerWindow.indexOf(n, i + n.length)) marks.push([i, i + n.length]);
  }
  // Merge overlapping ranges, then insert markers from the end so earlier offsets stay valid.
  marks.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const m of marks) {
    const last = merged[merged.length - 1];
    if (last && m[0] <= last[1]) last[1] = Math.max(last[1], m[1]);
    else merged.push([m[0], m[1]]);
  }
  for (const [a, b] of merged.reverse()) window = window.slice(0, a) + MARK_OPEN + window.slice(a, b) + MARK_CLOSE + window.slice(b);
  return (start > 0 ? ELLIPSIS : '') + window + (end < chars.length ? ELLIPSIS : '');
}

/** Runs a search; see StateStore.searchMessages. */
export function searchMessageRows(db: SqlDriver, query: unknown, options: SearchOptions | undefined): SearchHit[] {
  const o = validate(query, options);
  // Nothing to look for finds nothing, so a search box may call this on every keystroke, empty or not.
  if (o.query.trim() === '') return [];
  const plan: Plan = o.advanced ? { match: o.query, likes: [], terms: [] } : plainPlan(o.query);

  const params: SqlValue[] = [];
  const where: string[] = [];
  const bind = (value: SqlValue): string => {
    params.push(value);
    return `?${params.length}`;
  };
  if (plan.match !== null) where.push(`message_fts MATCH ${bind(plan.match)}`);
  for (const like of plan.likes) where.push(`m.content LIKE ${bind(like)} ESCAPE '\\'`);
  if (o.threadId !== null) where.push(`m.thread_id = ${bind(o.threadId)}`);
  if (!o.includeArchived) where.push('t.archived = 0');
  const limit = bind(o.limit);
  const marks = plan.match !== null ? [bind(MARK_OPEN), bind(MARK_CLOSE), bind(ELLIPSIS)].join(', ') : '';

  const sql =
    plan.match !== null
      ? `SELECT m.id, m.thread_id, m.role, m.created_at, message_fts.rank AS rank,
                snippet(message_fts, 0, ${marks}, ${SNIPPET_TOKENS}) AS snippet
         FROM message_fts
         JOIN messages m ON m.id = message_fts.rowid
         JOIN threads t ON t.id = m.thread_id
         WHERE ${where.join(' AND ')}
         ORDER BY message_fts.rank, m.id DESC
         LIMIT ${limit}`
      : `SELECT m.id, m.thread_id, m.role, m.created_at, 0 AS rank, m.content AS snippet
         FROM messages m
         JOIN threads t ON t.id = m.thread_id
         WHERE ${where.join(' AND ')}
         ORDER BY m.id DESC
         LIMIT ${limit}`;

  let rows;
  try {
    rows = db.all(sql, params);
  } catch (error) {
    const e = toStoreError(error, 'searchMessages');
    // In advanced mode the query is FTS5 syntax the caller wrote; SQLITE_ERROR from it is their syntax.
    if (o.advanced && e.code === 'STORAGE' && e.details?.['resultCode'] === 1) {
      throw new StoreError('INVALID_ARGUMENT', `query is not valid FTS5 syntax: ${e.message}`, { details: { field: 'query' }, cause: error });
    }
    throw e;
  }
  return rows.map((row) => ({
    threadId: str(row['thread_id']),
    messageId: num(row['id']),
    role: str(row['role']),
    snippet: plan.match !== null ? str(row['snippet']) : likeSnippet(str(row['snippet']), plan.terms),
    rank: num(row['rank']),
    createdAt: num(row['created_at']),
  }));
}
