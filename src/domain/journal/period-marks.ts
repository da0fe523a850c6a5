import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { isAdmin, readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { pairKey } from '../school/actor.js';
import { markWindowOf, type MarkWindow, type WindowState, windowState } from '../school/mark-windows.js';
import { studentsOfClass, toObjectId } from '../school/people.js';
import { settingsOf, todayOf } from '../school/rules.js';
import { fullDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import {
  type AbsenceCounts,
  type Assessment,
  type AssessmentRule,
  DEFAULT_ASSESSMENT,
  meanOfPeriodMarks,
  type PeriodValue,
  parsePeriodValue,
  suggestPeriodMark,
  suggestYearMark,
} from './assessment.js';
import { weightedAverage } from './averages.js';
import { helpers } from './lesson-access.js';
import { storePeriodMark } from './period-mark-store.js';

/**
 * Period and year marks (R15–R17, R7). A teacher sets them for a class or group × subject while
 * the period's window is open; the screen shows each student's weighted average of the period,
 * the number of marks and absences, and the mark the school's assessment rule suggests. After the
 * window closes the deputy may set a missing mark, with a reason (R7); the admin may change any,
 * with a reason once the window has closed. Every change is audited (R31) and families are told.
 */
type Id = Types.ObjectId;

export interface PeriodRef {
  classId: string;
  /** A group inside the class (an English group): its students only. */
  groupId?: string | null;
  subjectId: string;
  yearId: string;
  periodCode: string;
}

export interface SheetRow {
  studentId: string;
  name: string;
  /** A period: the weighted average of its current marks; the year: the mean of the period marks. */
  average?: number;
  marks: number;
  absences: AbsenceCounts;
  lessons: number;
  /** The year: the student's period marks in order. */
  periodValues?: string[];
  suggested?: PeriodValue;
  value?: PeriodValue;
  source?: string;
}

export type EditRight = 'teacher' | 'deputy' | 'admin' | 'none';

export interface PeriodSheet {
  ref: PeriodRef;
  yearName: string;
  period: { code: string; kind: string; startsOn: LocalDate; endsOn: LocalDate };
  className: string;
  groupName?: string;
  subjectName: string;
  assessment: Assessment;
  window: MarkWindow & { state: WindowState };
  /** What the actor may do today: enter (teacher, window open), set missing with a reason (deputy), anything (admin). */
  edit: EditRight;
  /** A reason is required for this actor today (R7 deputy after the window; admin after it). */
  reasonRequired: boolean;
  rows: SheetRow[];
}

export async function assessmentRuleOf(db: Db, schoolId: Id): Promise<AssessmentRule> {
  const school = await cachedSchool(db, schoolId);
  return school ? settingsOf(school).assessment : DEFAULT_ASSESSMENT;
}

interface Context {
  actor: Actor;
  ref: PeriodRef;
  today: LocalDate;
  year: { _id: Id; name: string; status?: string | null; periods: Array<{ code: string; kind: string; startsOn: string; endsOn: string; grades?: number[] | null }> };
  period: { code: string; kind: string; startsOn: string; endsOn: string; grades?: number[] | null };
  cls: { _id: Id; name: string; grade: number };
  group?: { _id: Id; name: string; studentIds: Id[] };
  subject: { _id: Id; name: string; assessment?: string | null };
  window: MarkWindow & { state: WindowState };
  rule: AssessmentRule;
  edit: EditRight;
  reasonRequired: boolean;
}

/** Loads and checks everything a period-mark use case needs; refuses a forged or foreign reference (R4). */
async function contextOf(db: Db, actor: Actor, ref: PeriodRef, now: Date): Promise<Context> {
  const ids = [ref.classId, ref.subjectId, ref.yearId, ...(ref.groupId ? [ref.groupId] : [])];
  if (!ids.every((id) => /^[0-9a-f]{24}$/i.test(id))) throw new AccessDenied();
  const schoolId = actor.schoolId;
  const [school, year, cls, subject, group] = await Promise.all([
    cachedSchool(db, schoolId),
    db.models.AcademicYear.findOne({ _id: toObjectId(ref.yearId), schoolId }).lean(),
    db.models.SchoolClass.findOne({ _id: toObjectId(ref.classId), schoolId }, { name: 1, grade: 1 }).lean(),
    db.models.Subject.findOne({ _id: toObjectId(ref.subjectId), schoolId }, { name: 1, assessment: 1 }).lean(),
    ref.groupId
      ? db.models.Group.findOne({ _id: toObjectId(ref.groupId), schoolId, classId: toObjectId(ref.classId) }, { name: 1, studentIds: 1 }).lean()
      : undefined,
  ]);
  if (!school || !year || !cls || !subject || (ref.groupId && !group)) throw new AccessDenied();
  const period = year.periods.find((p) => p.code === ref.periodCode);
  if (!period || (period.grades?.length && !period.grades.includes(cls.grade))) throw new DomainError('marks.badPeriod');
  const settings = settingsOf(school);
  const today = todayOf({ timezone: school.timezone }, now);
  const w = markWindowOf(period, settings.finalMarkWindowDays, ref.classId);
  const window = { ...w, state: windowState(w, today) };
  const teaches = actor.teachesPairs.has(pairKey(ref.groupId ?? ref.classId, ref.subjectId));
  const readable = teaches || readsWholeSchool(actor) || actor.classTeacherOf.has(ref.classId);
  if (!readable) throw new AccessDenied();
  let edit: EditRight = 'none';
  let reasonRequired = false;
  if (year.status === 'archived') edit = 'none';
  else if (isAdmin(actor)) {
    edit = 'admin';
    reasonRequired = window.state === 'closed';
  } else if (teaches && window.state === 'open') edit = 'teacher';
  else if (actor.roles.has('deputy') && window.state === 'closed') {
    edit = 'deputy';
    reasonRequired = true;
  }
  return {
    actor,
    ref,
    today,
    year,
    period,
    cls,
    group: group ?? undefined,
    subject,
    window,
    rule: await assessmentRuleOf(db, schoolId),
    edit,
    reasonRequired,
  };
}

/** The students the sheet lists: the group's, or the class's still at the school. */
async function rosterOf(db: Db, c: Context): Promise<Array<{ id: Id; name: string }>> {
  const all = await studentsOfClass(db, c.actor.schoolId, c.cls._id);
  const inGroup = c.group ? new Set(c.group.studentIds.map(String)) : undefined;
  return all.filter((s) => !inGroup || inGroup.has(s.studentId)).map((s) => ({ id: toObjectId(s.studentId), name: s.fullName }));
}

async function periodFacts(db: Db, c: Context, studentIds: Id[], span: { startsOn: string; endsOn: string }) {
  const schoolId = c.actor.schoolId;
  const until = span.endsOn < c.today ? span.endsOn : c.today;
  const lessonFilter = {
    schoolId,
    classId: c.cls._id,
    subjectId: c.subject._id,
    ...(c.group ? { groupId: c.group._id } : {}),
    date: { $gte: span.startsOn, $lte: until },
    status: 'scheduled' as const,
  };
  // Whole lesson documents: the Mini App's grid shows them (periodMarkSheetWithFacts).
  const lessonDocs = await db.models.Lesson.find(lessonFilter).sort({ date: 1, lessonNo: 1 }).lean();
  const lessonIds = lessonDocs.map((l) => l._id);
  const [marks, absences] = await Promise.all([
    db.models.Mark.find(
      { schoolId, subjectId: c.subject._id, studentId: { $in: studentIds }, date: { $gte: span.startsOn, $lte: span.endsOn }, deletedAt: null },
      { studentId: 1, value: 1, weight: 1, lessonId: 1, workKind: 1, comment: 1, createdAt: 1 },
    ).lean(),
    lessonIds.length
      ? db.models.Absence.find({ lessonId: { $in: lessonIds }, studentId: { $in: studentIds } }, { studentId: 1, code: 1, lessonId: 1 }).lean()
      : [],
  ]);
  return { lessons: lessonDocs.length, lessonDocs, marks, absences };
}

export type PeriodFacts = Awaited<ReturnType<typeof periodFacts>>;

/** The teacher's period-mark screen for a class or group × subject (R17). */
export async function periodMarkSheet(db: Db, actor: Actor, ref: PeriodRef, now: Date): Promise<PeriodSheet> {
  return (await sheetOf(db, await contextOf(db, actor, ref, now))).sheet;
}

/**
 * The sheet and what it was computed from: the period's lessons up to today, the marks and the
 * absences — the Mini App's grid (domain/journal/grid.ts) shows them, so they are read once.
 */
export async function periodMarkSheetWithFacts(
  db: Db,
  actor: Actor,
  ref: PeriodRef,
  now: Date,
): Promise<{ sheet: PeriodSheet; facts: PeriodFacts }> {
  return sheetOf(db, await contextOf(db, actor, ref, now));
}

async function sheetOf(db: Db, c: Context): Promise<{ sheet: PeriodSheet; facts: PeriodFacts }> {
  const { ref } = c;
  const roster = await rosterOf(db, c);
  const ids = roster.map((s) => s.id);
  const isYear = c.period.kind === 'year';
  const facts = await periodFacts(db, c, ids, c.period);
  const saved = await db.models.PeriodMark.find(
    { studentId: { $in: ids }, subjectId: c.subject._id, yearId: c.year._id, periodCode: ref.periodCode },
    { studentId: 1, value: 1, source: 1 },
  ).lean();
  const savedBy = new Map(saved.map((p) => [String(p.studentId), p]));
  const terms = isYear
    ? c.year.periods
        .filter((p) => p.kind !== 'year' && (!p.grades?.length || p.grades.includes(c.cls.grade)))
        .sort((a, b) => a.startsOn.localeCompare(b.startsOn))
    : [];
  const termMarks = isYear
    ? await db.models.PeriodMark.find(
        { studentId: { $in: ids }, subjectId: c.subject._id, yearId: c.year._id, periodCode: { $in: terms.map((t) => t.code) } },
        { studentId: 1, value: 1, periodCode: 1 },
      ).lean()
    : [];
  const assessment: Assessment = c.subject.assessment === 'passfail' ? 'passfail' : 'marks';
  const rows: SheetRow[] = roster.map((s) => {
    const sid = String(s.id);
    const own = facts.marks.filter((m) => String(m.studentId) === sid);
    const absences: AbsenceCounts = { Н: 0, Б: 0, У: 0 };
    for (const a of facts.absences) if (String(a.studentId) === sid) absences[a.code as keyof AbsenceCounts] += 1;
    const row: SheetRow = { studentId: sid, name: s.name, marks: own.length, absences, lessons: facts.lessons };
    if (isYear) {
      const byCode = new Map(termMarks.filter((t) => String(t.studentId) === sid).map((t) => [t.periodCode, t.value]));
      row.periodValues = terms.map((t) => byCode.get(t.code) ?? '—');
      const values = terms.flatMap((t) => (byCode.has(t.code) ? [byCode.get(t.code) as string] : []));
      row.average = meanOfPeriodMarks(values);
      row.suggested = suggestYearMark(values, assessment, c.rule);
    } else {
      row.average = weightedAverage(own.map((m) => ({ value: m.value, weight: m.weight })));
      row.suggested = suggestPeriodMark({ assessment, average: row.average, marks: own.length, absences, lessons: facts.lessons }, c.rule);
    }
    const mark = savedBy.get(sid);
    if (mark) {
      row.value = mark.value as PeriodValue;
      row.source = mark.source ?? 'teacher';
    }
    return row;
  });
  const sheet: PeriodSheet = {
    ref,
    yearName: c.year.name,
    period: { code: c.period.code, kind: c.period.kind, startsOn: c.period.startsOn, endsOn: c.period.endsOn },
    className: c.cls.name,
    groupName: c.group?.name,
    subjectName: c.subject.name,
    assessment,
    window: c.window,
    edit: c.edit,
    reasonRequired: c.reasonRequired,
    rows,
  };
  return { sheet, facts };
}

export interface PeriodMarkEntry {
  studentId: string;
  value: string;
}

/**
 * Sets period (or year) marks (R15–R17, R7). Refused outside the window with who can help; a
 * deputy only fills missing marks after the window, with a reason; values are checked against the
 * subject (R16); the system's average at this moment is stored with each mark.
 */
export async function setPeriodMarks(
  db: Db,
  actor: Actor,
  ref: PeriodRef,
  entries: readonly PeriodMarkEntry[],
  opts: { reason?: string },
  now: Date,
): Promise<{ saved: number; unchanged: number }> {
  const c = await contextOf(db, actor, ref, now);
  if (c.year.status === 'archived') throw new DomainError('year.readOnly', { name: c.year.name });
  if (c.edit === 'none') {
    const key = c.window.state === 'before' ? 'periodMarks.notYetOpen' : 'periodMarks.windowClosed';
    throw new DomainError(key, {
      from: fullDate(c.window.opensOn),
      to: fullDate(c.window.closesOn),
      helpers: await helpers(db, actor.schoolId, c.window.state === 'before' ? 'admin' : 'deputy'),
    });
  }
  const reason = opts.reason?.trim().slice(0, 300);
  if (c.reasonRequired && !reason) throw new DomainError('periodMarks.reasonRequired');
  const assessment: Assessment = c.subject.assessment === 'passfail' ? 'passfail' : 'marks';
  const parsed = entries.map((e) => ({ studentId: e.studentId, value: parsePeriodValue(e.value, assessment) }));
  // The same context: the sheet is not read and checked a second time.
  const { sheet } = await sheetOf(db, c);
  const rowOf = new Map(sheet.rows.map((r) => [r.studentId, r]));
  for (const e of parsed) if (!rowOf.has(e.studentId)) throw new AccessDenied();
  if (c.edit === 'deputy' && parsed.some((e) => rowOf.get(e.studentId)?.value !== undefined)) {
    throw new DomainError('periodMarks.deputyOnlyMissing');
  }
  const source = c.edit === 'teacher' ? 'teacher' : c.edit === 'deputy' ? 'deputy' : 'admin';
  let saved = 0;
  for (const e of parsed) {
    const row = rowOf.get(e.studentId) as SheetRow;
    if (row.value === e.value) continue;
    const stored = await storePeriodMark(
      db,
      actor,
      {
        studentId: toObjectId(e.studentId),
        subjectId: c.subject._id,
        yearId: c.year._id,
        periodCode: ref.periodCode,
        value: e.value,
        source,
        average: row.average,
        suggested: row.suggested,
        before: row.value ? { value: row.value, source: row.source } : null,
        reason,
      },
      now,
    );
    if (stored) saved++;
  }
  return { saved, unchanged: parsed.length - saved };
}

/** One tap: every suggestion that differs from what is saved (students without a suggestion are left for the teacher). */
export async function acceptSuggestions(
  db: Db,
  actor: Actor,
  ref: PeriodRef,
  opts: { reason?: string },
  now: Date,
): Promise<{ saved: number; unchanged: number; withoutSuggestion: number }> {
  const sheet = await periodMarkSheet(db, actor, ref, now);
  const entries = sheet.rows.flatMap((r) => (r.suggested && !r.value ? [{ studentId: r.studentId, value: r.suggested }] : []));
  const withoutSuggestion = sheet.rows.filter((r) => !r.suggested && !r.value).length;
  if (entries.length === 0) return { saved: 0, unchanged: 0, withoutSuggestion };
  return { ...(await setPeriodMarks(db, actor, ref, entries, opts, now)), withoutSuggestion };
}
