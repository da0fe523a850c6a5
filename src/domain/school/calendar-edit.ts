import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { fullDate, isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { isAdmin } from './access.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { toObjectId } from './people.js';

/**
 * The admin edits the school's calendar (R5, R15): the periods with their dates and the grade
 * levels they are for (quarters for 1–9, halves for 10–11 is common), and the holidays. Every
 * change is validated as a whole (inside the year, no two periods of one grade overlapping, the
 * year period spanning the year) and audited with before and after (R31). Nothing is written when
 * anything is wrong.
 */

const date = z.string().refine(isLocalDate, 'date');
export const PERIOD_CODES = /^(q[1-4]|h[12]|t[1-3]|year)$/;
const KIND_OF: Record<string, 'quarter' | 'half' | 'trimester' | 'year'> = { q: 'quarter', h: 'half', t: 'trimester', y: 'year' };
const grades = z.array(z.number().int().min(1).max(11)).max(11);

export const calendarChange = z.discriminatedUnion('op', [
  z.object({ op: z.literal('period'), code: z.string().regex(PERIOD_CODES), startsOn: date, endsOn: date, grades: grades.optional() }),
  z.object({ op: z.literal('removePeriod'), code: z.string().regex(PERIOD_CODES) }),
  z.object({ op: z.literal('holiday'), name: z.string().trim().min(1).max(60), startsOn: date, endsOn: date }),
  z.object({ op: z.literal('removeHoliday'), startsOn: date }),
  z.object({ op: z.literal('year'), startsOn: date, endsOn: date }),
]);
export type CalendarChange = z.infer<typeof calendarChange>;

interface EditablePeriod {
  code: string;
  kind: string;
  startsOn: string;
  endsOn: string;
  grades?: number[];
  markWindow?: unknown;
  classWindows?: unknown[];
}
interface EditableYear {
  startsOn: string;
  endsOn: string;
  periods: EditablePeriod[];
  holidays: Array<{ name?: string | null; startsOn: string; endsOn: string }>;
}

const overlaps = (a: { startsOn: string; endsOn: string }, b: { startsOn: string; endsOn: string }) =>
  a.startsOn <= b.endsOn && b.startsOn <= a.endsOn;
const appliesTo = (p: EditablePeriod, grade: number) => !p.grades?.length || p.grades.includes(grade);

/** Every problem of a calendar, as localized errors' keys and vars (empty: valid). */
export function calendarProblems(y: EditableYear): Array<{ key: string; vars: Record<string, string> }> {
  const out: Array<{ key: string; vars: Record<string, string> }> = [];
  const span = (s: { startsOn: string; endsOn: string }) => ({ from: fullDate(s.startsOn), to: fullDate(s.endsOn) });
  if (y.endsOn <= y.startsOn) out.push({ key: 'year.backwards', vars: span(y) });
  for (const p of y.periods) {
    if (p.endsOn < p.startsOn) out.push({ key: 'year.periodBackwards', vars: { code: p.code, ...span(p) } });
    if (p.startsOn < y.startsOn || p.endsOn > y.endsOn) out.push({ key: 'year.periodOutside', vars: { code: p.code, ...span(p) } });
  }
  const terms = y.periods.filter((p) => p.kind !== 'year');
  for (let grade = 1; grade <= 11; grade++) {
    const mine = terms.filter((p) => appliesTo(p, grade)).sort((a, b) => a.startsOn.localeCompare(b.startsOn));
    for (let i = 1; i < mine.length; i++) {
      const [a, b] = [mine[i - 1] as EditablePeriod, mine[i] as EditablePeriod];
      if (overlaps(a, b)) out.push({ key: 'year.periodsOverlap', vars: { a: a.code, b: b.code, grade: String(grade) } });
    }
  }
  for (const h of y.holidays) {
    if (h.endsOn < h.startsOn || h.startsOn < y.startsOn || h.endsOn > y.endsOn) {
      out.push({ key: 'year.holidayOutside', vars: { name: h.name ?? '', ...span(h) } });
    }
  }
  const unique = new Map(out.map((p) => [`${p.key}|${JSON.stringify(p.vars)}`, p]));
  return [...unique.values()];
}

function applyChange(y: EditableYear, c: CalendarChange): EditableYear {
  const next: EditableYear = { ...y, periods: [...y.periods], holidays: [...y.holidays] };
  switch (c.op) {
    case 'period': {
      const kind = KIND_OF[c.code[0] as string] as string;
      const before = next.periods.find((p) => p.code === c.code);
      const grades = kind === 'year' ? [] : (c.grades ?? before?.grades ?? []);
      const period = { ...(before ?? {}), code: c.code, kind, startsOn: c.startsOn, endsOn: c.endsOn, grades };
      next.periods = [...next.periods.filter((p) => p.code !== c.code), period];
      break;
    }
    case 'removePeriod':
      if (c.code === 'year') throw new DomainError('year.cannotRemoveYear');
      next.periods = next.periods.filter((p) => p.code !== c.code);
      break;
    case 'holiday':
      next.holidays = [...next.holidays.filter((h) => h.startsOn !== c.startsOn), { name: c.name, startsOn: c.startsOn, endsOn: c.endsOn }];
      break;
    case 'removeHoliday':
      next.holidays = next.holidays.filter((h) => h.startsOn !== c.startsOn);
      break;
    case 'year': {
      next.startsOn = c.startsOn;
      next.endsOn = c.endsOn;
      // The year period follows the year.
      next.periods = next.periods.map((p) => (p.kind === 'year' ? { ...p, startsOn: c.startsOn, endsOn: c.endsOn } : p));
    }
  }
  next.periods.sort((a, b) => a.startsOn.localeCompare(b.startsOn) || a.code.localeCompare(b.code));
  next.holidays.sort((a, b) => a.startsOn.localeCompare(b.startsOn));
  return next;
}

/**
 * Applies calendar changes to one year, all or nothing (admin only). Throws the first problem as a
 * DomainError (`problems` lists them all for a file); returns the number of changes.
 */
export async function editCalendar(
  db: Db,
  actor: Actor,
  input: { yearId: string; changes: CalendarChange[] },
  now: Date,
): Promise<{ changed: number }> {
  if (!isAdmin(actor)) throw new AccessDenied();
  if (!/^[0-9a-f]{24}$/i.test(input.yearId)) throw new AccessDenied();
  const changes = input.changes.map((c) => calendarChange.parse(c));
  const doc = await db.models.AcademicYear.findOne({ _id: toObjectId(input.yearId), schoolId: actor.schoolId }).lean();
  if (!doc) throw new AccessDenied();
  if (doc.status === 'archived') throw new DomainError('year.readOnly', { name: doc.name });
  const before: EditableYear = {
    startsOn: doc.startsOn,
    endsOn: doc.endsOn,
    periods: doc.periods.map((p) => ({ ...p, grades: p.grades ?? [] })) as EditablePeriod[],
    holidays: doc.holidays.map((h) => ({ name: h.name, startsOn: h.startsOn, endsOn: h.endsOn })),
  };
  const after = changes.reduce(applyChange, before);
  const problems = calendarProblems(after);
  if (problems.length > 0) {
    const first = problems[0] as { key: string; vars: Record<string, string> };
    throw new CalendarInvalid(first.key, first.vars, problems);
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return { changed: 0 };
  await db.models.AcademicYear.updateOne(
    { _id: doc._id },
    { $set: { startsOn: after.startsOn, endsOn: after.endsOn, periods: after.periods, holidays: after.holidays } },
  );
  await appendAudit(db, actor, now, {
    action: 'year.calendar',
    entity: { type: 'AcademicYear', id: doc._id },
    before: summary(before),
    after: summary(after),
  });
  return { changed: changes.length };
}

const summary = (y: EditableYear) => ({
  startsOn: y.startsOn,
  endsOn: y.endsOn,
  periods: y.periods.map((p) => ({ code: p.code, startsOn: p.startsOn, endsOn: p.endsOn, grades: p.grades ?? [] })),
  holidays: y.holidays,
});

export class CalendarInvalid extends DomainError {
  constructor(
    key: string,
    vars: Record<string, string>,
    readonly problems: Array<{ key: string; vars: Record<string, string> }>,
  ) {
    super(key, vars);
    this.name = 'CalendarInvalid';
  }
}

/**
 * A calendar file (CSV, one row a period or holiday): `type,code,name,starts_on,ends_on,grades`
 * with type `period` or `holiday`, dates YYYY-MM-DD or DD.MM.YYYY, grades like `1-9` or `10,11`.
 * Returns the changes, or every bad row with its number.
 */
export function parseCalendarRows(rows: ReadonlyArray<Record<string, string>>): { changes: CalendarChange[]; errors: Array<{ row: number; message: string }> } {
  const changes: CalendarChange[] = [];
  const errors: Array<{ row: number; message: string }> = [];
  rows.forEach((r, i) => {
    const row = i + 2; // the header is row 1
    const problem = rowProblem(r, changes);
    if (problem) errors.push({ row, message: problem });
  });
  return { changes, errors };
}

/** Adds the row's change, or says what is wrong with it. */
function rowProblem(r: Record<string, string>, changes: CalendarChange[]): string | undefined {
  const type = (r.type ?? '').trim().toLowerCase();
  const startsOn = toIsoDate(r.starts_on);
  const endsOn = toIsoDate(r.ends_on);
  if (!startsOn || !endsOn) return 'starts_on/ends_on: expected YYYY-MM-DD or DD.MM.YYYY';
  if (type === 'period') {
    const code = (r.code ?? '').trim().toLowerCase();
    if (!PERIOD_CODES.test(code)) return 'code: expected q1–q4, h1–h2, t1–t3 or year';
    const g = parseGrades(r.grades ?? '');
    if (!g) return 'grades: expected e.g. 1-9 or 10,11';
    changes.push({ op: 'period', code, startsOn, endsOn, grades: g });
    return undefined;
  }
  if (type === 'holiday') {
    const name = (r.name ?? '').trim();
    if (!name) return 'name: required for a holiday';
    changes.push({ op: 'holiday', name: name.slice(0, 60), startsOn, endsOn });
    return undefined;
  }
  return 'type: expected period or holiday';
}

export function toIsoDate(raw: string | undefined): LocalDate | undefined {
  const v = (raw ?? '').trim();
  const ru = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(v);
  const iso = ru ? `${ru[3]}-${ru[2]}-${ru[1]}` : v;
  return isLocalDate(iso) ? iso : undefined;
}

/** "1-9", "10,11", "5" or empty (every grade). */
export function parseGrades(raw: string): number[] | undefined {
  const out = new Set<number>();
  for (const part of raw.split(/[,; ]+/).filter(Boolean)) {
    const m = /^(\d{1,2})(?:-(\d{1,2}))?$/.exec(part);
    if (!m) return undefined;
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (a < 1 || b > 11 || a > b) return undefined;
    for (let g = a; g <= b; g++) out.add(g);
  }
  return [...out].sort((x, y) => x - y);
}
