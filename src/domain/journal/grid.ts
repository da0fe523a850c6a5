import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { currentYear, periodsOf } from '../school/academic-year.js';
import { isAdmin, readsWholeSchool } from '../school/access.js';
import { type Actor, pairKey } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { loadSchoolRules, todayOf } from '../school/rules.js';
import { addDays, isoWeekday, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { type AbsenceCode, MARK_VALUES } from '../shared/vocabulary.js';
import { lessonRights } from './lesson-access.js';
import { materializeSlotDays } from './lessons.js';
import { isLocked } from './locks.js';
import { periodMarkSheetWithFacts } from './period-marks.js';

/**
 * The journal as a table (issue 15, the Mini App's grid): a class or group × subject for one
 * period — students down, the period's lessons up to today across, marks and absences in the
 * cells, the period column (average, suggested and set period mark: R15–R17).
 *
 * Access as in the bot: the subject's teacher of the class/group, a substitute with an active
 * grant (R7), the class teacher, deputy, secretary and admin read (R26, R4); a substitute for
 * single lessons (a substitution, R7) sees those lessons only — their columns, no period column —
 * as the bot opens them those lessons and nothing else; `canEdit` per lesson
 * is the bot's lesson rights (R7) and the lock (R14). Marks are written through marks.ts only.
 * The period's timetable lessons are made in one bulk operation, so the grid is complete: a class
 * of 30 × a quarter is a handful of queries, not one per cell or per day.
 */
type Id = Types.ObjectId;

export interface GridInput {
  classId: string;
  subjectId: string;
  groupId?: string;
  /** A period code of the current year; default: the period containing today. */
  period?: string;
}

export interface GridMarkView {
  id: string;
  value: number;
  workKind: string;
  weight: number;
  comment: string | null;
}

export interface Grid {
  className: string;
  groupName?: string;
  subjectName: string;
  period: { code: string; from: LocalDate; to: LocalDate; windowOpen: boolean };
  periods: string[];
  students: Array<{ id: string; name: string }>;
  lessons: Array<{ id: string; date: LocalDate; lessonNo: number | null; topic: string | null; locked: boolean; canEdit: boolean }>;
  cells: Record<string, Record<string, { marks: GridMarkView[]; absence?: AbsenceCode }>>;
  periodColumn: Record<string, { average: number | null; suggested: string | null; periodMark: string | null }>;
  /** False for a substitute for single lessons: the period's figures are the subject teacher's (the column is empty). */
  periodFigures: boolean;
  workKinds: Array<{ code: string; name: { ru: string; en: string }; weight: number }>;
  markValues: number[];
}

const isId = (v: string | undefined) => v === undefined || /^[0-9a-f]{24}$/i.test(v);

/** R7: a substitute's grant for the class (and this subject, or every subject) covering some day of the span. */
function grantFor(db: Db, actor: Actor, classId: Id, subjectId: Id, from: LocalDate, to: LocalDate) {
  if (!actor.personId || !actor.roles.has('teacher')) return null;
  return db.models.AccessGrant.exists({
    schoolId: actor.schoolId,
    teacherId: actor.personId,
    classId,
    from: { $lte: to },
    to: { $gte: from },
    revokedAt: null,
    $or: [{ subjectId: null }, { subjectId }],
  });
}

/** R7: the substitutions this teacher holds in the span for lessons of this class (group) × subject: `slotId|date`. */
async function substitutionsFor(
  db: Db,
  actor: Actor,
  ref: { classId: Id; groupId: Id | null; subjectId: Id },
  from: LocalDate,
  to: LocalDate,
): Promise<Set<string>> {
  if (!actor.personId || !actor.roles.has('teacher')) return new Set();
  const subs = await db.models.Substitution.find(
    { schoolId: actor.schoolId, substituteId: actor.personId, date: { $gte: from, $lte: to } },
    { slotId: 1, date: 1 },
  ).lean();
  if (subs.length === 0) return new Set();
  const slots = await db.models.TimetableSlot.find(
    { _id: { $in: subs.map((x) => x.slotId) }, schoolId: actor.schoolId, classId: ref.classId, subjectId: ref.subjectId, groupId: ref.groupId },
    { _id: 1 },
  ).lean();
  const mine = new Set(slots.map((x) => String(x._id)));
  return new Set(subs.filter((x) => mine.has(String(x.slotId))).map((x) => `${x.slotId}|${x.date}`));
}

export async function journalGrid(db: Db, actor: Actor, input: GridInput, now: Date): Promise<Grid> {
  if (![input.classId, input.subjectId, input.groupId].every(isId)) throw new AccessDenied();
  const schoolId = actor.schoolId;
  const classId = toObjectId(input.classId);
  const subjectId = toObjectId(input.subjectId);
  const groupId = input.groupId ? toObjectId(input.groupId) : null;
  const rules = await loadSchoolRules(db, schoolId);
  const today = todayOf(rules, now);
  const [cls, year] = await Promise.all([
    db.models.SchoolClass.findOne({ _id: classId, schoolId }, { grade: 1 }).lean(),
    currentYear(db, schoolId, today, { orUpcoming: true }),
  ]);
  if (!cls) throw new AccessDenied();
  if (!year) throw new DomainError('marks.badPeriod');
  const periods = periodsOf(year, cls.grade);
  const period = input.period
    ? periods.find((p) => p.code === input.period)
    : (periods.find((p) => p.startsOn <= today && today <= p.endsOn) ??
      [...periods].reverse().find((p) => p.endsOn < today) ??
      periods[0]);
  if (!period) throw new DomainError('marks.badPeriod');

  // Who reads, checked before anything is made: as periodMarkSheet decides (the teacher of the
  // pair, the class teacher, the office) and a substitute with a grant for what it covers (R7), as
  // the bot lets them open its lessons.
  const pair = pairKey(groupId ?? classId, subjectId);
  let reader = actor;
  /** A substitute for single lessons: only these (`slotId|date`) are shown. */
  let onlyLessons: Set<string> | undefined;
  let yearSubstitutions = new Set<string>();
  /** `slotId|date` falls inside the period. */
  const inSpan = (key: string, p: { startsOn: LocalDate; endsOn: LocalDate }) => {
    const d = key.split('|')[1] ?? '';
    return p.startsOn <= d && d <= p.endsOn;
  };
  if (!actor.teachesPairs.has(pair) && !readsWholeSchool(actor) && !actor.classTeacherOf.has(input.classId)) {
    if (!(await grantFor(db, actor, classId, subjectId, period.startsOn, period.endsOn))) {
      // One read for the year: this period's substituted lessons, and the periods that hold any.
      const first = periods[0]?.startsOn ?? period.startsOn;
      const last = periods.reduce((to, p) => (p.endsOn > to ? p.endsOn : to), period.endsOn);
      yearSubstitutions = await substitutionsFor(db, actor, { classId, groupId, subjectId }, first, last);
      onlyLessons = new Set([...yearSubstitutions].filter((key) => inSpan(key, period)));
      if (onlyLessons.size === 0) throw new AccessDenied();
    }
    reader = { ...actor, teachesPairs: new Set([...actor.teachesPairs, pair]) };
  }
  const until: LocalDate = period.endsOn < today ? period.endsOn : today;
  await materializePeriod(db, { schoolId, classId, groupId, subjectId }, period.startsOn, until, year.holidays);
  // The sheet reads the period's lessons, marks and absences once; the grid shows the same ones.
  const { sheet, facts } = await periodMarkSheetWithFacts(
    db,
    reader,
    { classId: input.classId, groupId: input.groupId ?? null, subjectId: input.subjectId, yearId: year.id, periodCode: period.code },
    now,
  );
  // A class's grid: its whole-class lessons (a group's lessons are in the group's grid).
  const lessons = facts.lessonDocs.filter(
    (l) => String(l.groupId ?? '') === String(groupId ?? '') && (!onlyLessons || onlyLessons.has(`${l.slotId}|${l.date}`)),
  );
  const inGrid = new Set(lessons.map((l) => String(l._id)));
  const marks = facts.marks
    .filter((m) => inGrid.has(String(m.lessonId)))
    .sort((a, b) => +(a.createdAt ?? 0) - +(b.createdAt ?? 0));
  const absences = facts.absences.filter((a) => inGrid.has(String(a.lessonId)));

  const cells: Grid['cells'] = {};
  const cellOf = (studentId: Id, lessonId: Id) => {
    cells[String(studentId)] ??= {};
    const row = cells[String(studentId)] as Grid['cells'][string];
    row[String(lessonId)] ??= { marks: [] };
    return row[String(lessonId)] as Grid['cells'][string][string];
  };
  const onRoster = new Set(sheet.rows.map((r) => r.studentId));
  for (const m of marks) {
    if (!onRoster.has(String(m.studentId))) continue;
    cellOf(m.studentId, m.lessonId).marks.push({
      id: String(m._id),
      value: m.value,
      workKind: m.workKind,
      weight: m.weight,
      comment: m.comment ?? null,
    });
  }
  for (const a of absences) if (onRoster.has(String(a.studentId))) cellOf(a.studentId, a.lessonId).absence = a.code as AbsenceCode;

  // A substitute for single lessons switches only between the periods holding some of them.
  const switchable = onlyLessons ? periods.filter((p) => p.code === period.code || [...yearSubstitutions].some((key) => inSpan(key, p))) : periods;
  const me = actor.personId ? String(actor.personId) : undefined;
  const canEdit = async (l: (typeof lessons)[number]) => {
    const locked = isLocked(l, rules, today);
    if (year.status === 'archived' || l.date > today || (locked && !isAdmin(actor))) return false;
    // The lesson's own teacher or substitute and the admin need no query; others as the bot decides (R7).
    if (isAdmin(actor) || (me && (String(l.teacherId) === me || String(l.substituteId ?? '') === me))) return true;
    return actor.roles.has('teacher') ? (await lessonRights(db, actor, l)).edit : false;
  };
  const editable = await Promise.all(lessons.map(canEdit));

  return {
    className: sheet.className,
    groupName: sheet.groupName,
    subjectName: sheet.subjectName,
    period: { code: period.code, from: period.startsOn, to: period.endsOn, windowOpen: sheet.window.state === 'open' },
    periods: switchable.map((p) => p.code),
    students: sheet.rows.map((r) => ({ id: r.studentId, name: r.name })),
    lessons: lessons.map((l, i) => ({
      id: String(l._id),
      date: l.date,
      lessonNo: l.lessonNo ?? null,
      topic: l.topic ?? null,
      locked: isLocked(l, rules, today),
      canEdit: editable[i] ?? false,
    })),
    cells,
    // The period's figures are the subject teacher's; a substitute for single lessons has none.
    periodColumn: onlyLessons
      ? {}
      : Object.fromEntries(
          sheet.rows.map((r) => [
            r.studentId,
            {
              average: r.average === undefined ? null : Math.round(r.average * 100) / 100,
              suggested: r.suggested ?? null,
              periodMark: r.value ?? null,
            },
          ]),
        ),
    periodFigures: !onlyLessons,
    workKinds: rules.workKinds.map((k) => ({ code: k.code, name: k.name, weight: k.weight })),
    markValues: [...MARK_VALUES],
  };
}

/**
 * The period's timetable days of this class (group) × subject up to `until`, made into lessons at
 * once (the bot makes a day's lessons when the day is opened): holidays have none (as isSchoolDay).
 */
async function materializePeriod(
  db: Db,
  ref: { schoolId: Id; classId: Id; groupId: Id | null; subjectId: Id },
  from: LocalDate,
  until: LocalDate,
  holidays: ReadonlyArray<{ startsOn: LocalDate; endsOn: LocalDate }>,
): Promise<void> {
  if (until < from) return;
  const slots = await db.models.TimetableSlot.find({
    ...ref,
    validFrom: { $lte: until },
    $or: [{ validTo: null }, { validTo: { $gte: from } }],
  }).lean();
  if (slots.length === 0) return;
  const days: Array<{ date: LocalDate; slot: (typeof slots)[number] }> = [];
  for (let date = from; date <= until; date = addDays(date, 1)) {
    if (holidays.some((h) => h.startsOn <= date && date <= h.endsOn)) continue;
    const weekday = isoWeekday(date);
    for (const slot of slots) {
      if (slot.weekday === weekday && slot.validFrom <= date && (!slot.validTo || slot.validTo >= date)) days.push({ date, slot });
    }
  }
  await materializeSlotDays(db, days);
}
