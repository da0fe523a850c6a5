import type { Db } from '../../db/index.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { AccessDenied } from '../shared/errors.js';
import { localDate } from '../shared/calendar.js';
import type { EntityCounts, Plan, PlanContext, RowError, ValidRow } from './common.js';
import { COLUMNS, DEPUTY_KINDS, guessKind, IMPORT_KINDS, type ImportKind, mapHeaders } from './kinds.js';
import { ROW_SCHEMAS, type RowOf } from './rows.js';
import { type ParsedSheet, parseSpreadsheet, SpreadsheetError } from './parse.js';
import { planLoad, planTimetable } from './schedule.js';
import { planStaff } from './staff.js';
import { planClasses, planGroups, planSubjects } from './structure.js';
import { planStudents } from './students.js';

/**
 * Loading a school from spreadsheets (R5, R7): students with parents, staff, subjects, classes,
 * groups, teaching load, timetable — from CSV or XLSX.
 *
 * All-or-nothing per file, without transactions: every row is validated (cell by cell, then
 * across rows and against what the school already has) before anything is written; a file with
 * any bad row writes nothing and the report names every bad row, column and reason. Rows are
 * keyed by the school's own codes, so the same file imported again changes nothing and a
 * corrected file updates in place.
 */

export { IMPORT_KINDS, IMPORT_ORDER, type ImportKind, guessKind, kindFromWord } from './kinds.js';
export type { EntityCounts, RowError } from './common.js';

export interface ImportInput {
  kind: ImportKind;
  data: Buffer;
  filename: string;
  /** Validate and count only; write nothing. */
  dryRun?: boolean;
  now: Date;
}

export interface ImportReport {
  kind: ImportKind;
  /** true: the file is good (and, unless dryRun, was written). */
  ok: boolean;
  dryRun: boolean;
  /** Data rows in the file (empty rows not counted). */
  rows: number;
  counts: Record<string, EntityCounts>;
  errors: RowError[];
}

/** R5: admin and secretary load everything; R7: the deputy loads the curriculum side. */
export function canImport(actor: Actor, kind: ImportKind): boolean {
  if (actor.roles.has('admin') || actor.roles.has('secretary')) return true;
  return actor.roles.has('deputy') && DEPUTY_KINDS.includes(kind);
}

export function importableKinds(actor: Actor): ImportKind[] {
  return IMPORT_KINDS.filter((k) => canImport(actor, k));
}

/** Reads only the header row: the bot guesses the kind of a file sent without a caption. */
export async function detectKind(data: Buffer, filename: string): Promise<ImportKind | undefined> {
  try {
    const sheet = await parseSpreadsheet(data, filename);
    return guessKind(sheet.headers);
  } catch (error) {
    if (error instanceof SpreadsheetError) return undefined;
    throw error;
  }
}

type Planner<K extends ImportKind> = (ctx: PlanContext, rows: ReadonlyArray<ValidRow<RowOf<K>>>) => Promise<Plan>;
const PLANNERS: { [K in ImportKind]: Planner<K> } = {
  students: planStudents,
  staff: planStaff,
  subjects: planSubjects,
  classes: planClasses,
  groups: planGroups,
  load: planLoad,
  timetable: planTimetable,
};

export async function importFile(db: Db, actor: Actor, input: ImportInput): Promise<ImportReport> {
  const { kind, now } = input;
  const dryRun = input.dryRun ?? false;
  if (!IMPORT_KINDS.includes(kind) || !canImport(actor, kind)) throw new AccessDenied();
  const school = await db.models.School.findById(actor.schoolId, { timezone: 1 }).lean();
  if (!school) throw new AccessDenied();
  const report = (rows: number, errors: RowError[], counts: Record<string, EntityCounts> = {}): ImportReport => ({
    kind,
    ok: errors.length === 0,
    dryRun,
    rows,
    counts,
    errors,
  });

  let sheet: ParsedSheet;
  try {
    sheet = await parseSpreadsheet(input.data, input.filename);
  } catch (error) {
    if (error instanceof SpreadsheetError) {
      const vars = Object.keys(error.vars).length > 0 ? { vars: error.vars } : {};
      return report(0, [{ row: 1, column: '', key: error.key, ...vars }]);
    }
    throw error;
  }
  const headers = mapHeaders(kind, sheet.headers);
  if (headers.errors.length > 0) return report(sheet.rows.length, headers.errors.map((e) => ({ row: 1, ...e })));
  if (sheet.rows.length === 0) return report(0, [{ row: 2, column: '', key: 'import.errors.noRows' }]);

  // 1. Each row on its own.
  const errors: RowError[] = [];
  const valid: Array<ValidRow<RowOf<typeof kind>>> = [];
  const schema = ROW_SCHEMAS[kind];
  for (const { rowNo, cells } of sheet.rows) {
    const row: Record<string, string> = {};
    for (const [header, value] of Object.entries(cells)) {
      const name = headers.columns.get(header);
      if (name) row[name] = value;
    }
    const parsed = schema.safeParse(row);
    if (parsed.success) {
      valid.push({ rowNo, data: parsed.data });
      continue;
    }
    for (const issue of parsed.error.issues) {
      const column = String(issue.path[0] ?? '');
      const key = issue.message.startsWith('import.') ? issue.message : 'import.errors.invalid';
      const vars = issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
      errors.push(vars && Object.keys(vars).length > 0 ? { row: rowNo, column, key, vars } : { row: rowNo, column, key });
    }
  }

  // 2. Across rows and against the school's data (on the rows that passed step 1).
  const ctx: PlanContext = {
    db,
    schoolId: actor.schoolId,
    present: headers.present,
    today: localDate(now, school.timezone),
    now,
    byPersonId: actor.personId,
  };
  const planner = PLANNERS[kind] as Planner<typeof kind>;
  const plan = await planner(ctx, valid);
  errors.push(...plan.errors);
  if (errors.length > 0) return report(sheet.rows.length, sortErrors(kind, errors));

  // 3. Write, only now that every row is known to be good.
  if (!dryRun) {
    await plan.write();
    await recordAudit(db, actor, kind, input, sheet.rows.length, plan.counts);
  }
  return report(sheet.rows.length, [], plan.counts);
}

function sortErrors(kind: ImportKind, errors: RowError[]): RowError[] {
  const order = new Map(COLUMNS[kind].map((c, i) => [c.name, i]));
  return errors.sort((a, b) => a.row - b.row || (order.get(a.column) ?? -1) - (order.get(b.column) ?? -1));
}

/** R31: one append-only audit entry per import that wrote (via 'cli' from the CLI, else 'import'). */
async function recordAudit(
  db: Db,
  actor: Actor,
  kind: ImportKind,
  input: ImportInput,
  rows: number,
  counts: Record<string, EntityCounts>,
): Promise<void> {
  const via = actor.via === 'cli' ? 'cli' : 'import';
  await appendAudit(db, { ...actor, via }, input.now, {
    action: `import.${kind}`,
    entity: { type: 'import' },
    after: { counts, rows, filename: input.filename.slice(0, 200) },
  });
}
