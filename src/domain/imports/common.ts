import { type mongo, Types } from 'mongoose';
import type { Db } from '../../db/index.js';

/**
 * Shared pieces of the import planners: every planner validates the whole file against what the
 * school already has (loaded in a few queries, never per row), works out what would be created,
 * updated or left unchanged, and returns a `write` step that the caller runs only when the whole
 * file is good (all-or-nothing without transactions: nothing is written before validation ends).
 */

export interface RowError {
  /** Spreadsheet row number (header = 1); 1 also for whole-file problems. */
  row: number;
  /** Canonical column name (`last_name`), or '' for whole-file problems. */
  column: string;
  /** i18n key, `import.errors.*`. */
  key: string;
  vars?: Record<string, unknown>;
}

export interface EntityCounts {
  created: number;
  updated: number;
  unchanged: number;
  /** Links or slots the file replaced (guardianships, load, timetable), when any. */
  removed?: number;
}

export interface ValidRow<T> {
  rowNo: number;
  data: T;
}

export interface PlanContext {
  db: Db;
  schoolId: Types.ObjectId;
  /** Canonical columns present in the file: an absent column leaves stored values alone. */
  present: ReadonlySet<string>;
  /** The school's local date, YYYY-MM-DD (movement dates, timetable defaults). */
  today: string;
  /** The clock of this import: createdAt/updatedAt of what it writes. */
  now: Date;
  byPersonId?: Types.ObjectId;
}

export interface Plan {
  errors: RowError[];
  counts: Record<string, EntityCounts>;
  write(): Promise<void>;
}

export const newCounts = (): EntityCounts => ({ created: 0, updated: 0, unchanged: 0 });

export class ErrorList {
  readonly items: RowError[] = [];
  add(row: number, column: string, key: string, vars?: Record<string, unknown>): void {
    this.items.push(vars ? { row, column, key, vars } : { row, column, key });
  }
}

/** Values as stored vs as wanted: null/undefined/'' are "no value"; ids compare as strings. */
function normalize(value: unknown): unknown {
  if (value === null || value === undefined || value === '') return undefined;
  if (value instanceof Types.ObjectId) return value.toHexString();
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

export function sameValue(a: unknown, b: unknown): boolean {
  const x = normalize(a);
  const y = normalize(b);
  if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => sameValue(v, y[i]));
  return x === y;
}

/** Same elements, any order (roles, group members). */
export function sameSet(a: readonly unknown[] | null | undefined, b: readonly unknown[] | null | undefined): boolean {
  const x = new Set((a ?? []).map((v) => String(normalize(v))));
  const y = new Set((b ?? []).map((v) => String(normalize(v))));
  return x.size === y.size && [...x].every((v) => y.has(v));
}

function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export interface FieldDiff {
  set: Record<string, unknown>;
  unset: Record<string, ''>;
  changed: boolean;
}

/**
 * Wanted fields (dotted paths) against the stored document. `undefined` means "clear it";
 * fields that are not listed are not touched. Arrays listed in `asSets` compare ignoring order.
 */
export function diffFields(
  existing: unknown,
  wanted: Record<string, unknown>,
  asSets: readonly string[] = [],
): FieldDiff {
  const set: Record<string, unknown> = {};
  const unset: Record<string, ''> = {};
  let changed = false;
  for (const [path, value] of Object.entries(wanted)) {
    const current = existing ? getPath(existing, path) : undefined;
    const same = asSets.includes(path)
      ? sameSet(current as unknown[] | undefined, value as unknown[] | undefined)
      : sameValue(current, value);
    if (value === undefined || value === null || value === '') {
      if (!same) {
        unset[path] = '';
        changed = true;
      }
    } else {
      set[path] = value;
      if (!same) changed = true;
    }
  }
  return { set, unset, changed };
}

/**
 * Writes go through the driver (`Model.collection.bulkWrite`), not mongoose documents: every value
 * was validated and typed by the planner, and skipping per-document casting makes a 1,000-student
 * file several times faster. Timestamps are therefore set here, and only on documents that change,
 * so a re-import leaves every updatedAt alone.
 */
export type WriteOp = mongo.AnyBulkWriteOperation<mongo.Document>;

/** An upsert keyed by the natural key; `insertOnly` fields (and a pre-made _id) only on insert. */
export function upsertOp(
  filter: Record<string, unknown>,
  diff: FieldDiff,
  now: Date,
  insertOnly: Record<string, unknown> = {},
): WriteOp {
  const update: Record<string, unknown> = { $set: { ...diff.set, updatedAt: now } };
  if (Object.keys(diff.unset).length > 0) update['$unset'] = diff.unset;
  update['$setOnInsert'] = { ...insertOnly, createdAt: now };
  return { updateOne: { filter, update, upsert: true } };
}

/** Reports the second and later rows that repeat a key, pointing at the first. */
export function findDuplicates<T>(
  rows: ReadonlyArray<ValidRow<T>>,
  keyOf: (row: T) => string,
  column: string,
  errors: ErrorList,
  key = 'import.errors.duplicateId',
): Map<string, number> {
  const first = new Map<string, number>();
  for (const r of rows) {
    const k = keyOf(r.data);
    const seen = first.get(k);
    if (seen !== undefined) errors.add(r.rowNo, column, key, { id: k, row: seen });
    else first.set(k, r.rowNo);
  }
  return first;
}

/** Do two validity intervals [from, to] (to = null: open-ended) share a day? */
export function overlaps(aFrom: string, aTo: string | null | undefined, bFrom: string, bTo: string | null | undefined): boolean {
  return (!aTo || bFrom <= aTo) && (!bTo || aFrom <= bTo);
}
