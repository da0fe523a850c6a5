import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { activeYears, type AcademicYear, yearById } from '../school/academic-year.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { toObjectId } from '../school/people.js';
import { todayOf } from '../school/rules.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { STUDENT_OUTCOMES, STUDYING_STATUS, type StudentOutcomeKind, YEAR_CLOSING_STEPS, type YearClosingStep } from '../shared/vocabulary.js';
import { carryTimetableOver, createNextYear, freezeYear, moveClassesUp, nextYearName, type StepContext } from './rollover.js';

/**
 * Closing a school year (R5, R30), by the admin: first what is missing (year marks per class ×
 * subject, outcomes not recorded), then four steps — (a) the year becomes read-only, (b) the next
 * year is created from its calendar, (c) classes move up and students move by their outcomes,
 * (d) the timetable is carried over as drafts. A YearClosing document records each step done, so
 * a run killed halfway resumes where it stopped; each step is idempotent in itself (rollover.ts).
 */
type Id = Types.ObjectId;

export interface MissingYearMarks {
  className: string;
  groupName?: string;
  subjectName: string;
  students: number;
  missing: number;
}

export interface ClosingReport {
  year: { id: string; name: string; startsOn: string; endsOn: string };
  nextYearName: string;
  classes: number;
  students: number;
  missingYearMarks: MissingYearMarks[];
  outcomes: { recorded: number; notRecorded: number; counts: Record<StudentOutcomeKind, number> };
  /** Steps already done by an earlier run (resuming). */
  done: YearClosingStep[];
}

export interface CloseResult {
  report: ClosingReport;
  nextYearId: string;
  steps: Array<{ name: YearClosingStep; ran: boolean; detail?: Record<string, number> }>;
}

export interface CloseHooks {
  /** Called after each step is recorded (tests use it to stop a run halfway). */
  afterStep?: (step: YearClosingStep) => void | Promise<void>;
}

function assertAdmin(actor: Actor): void {
  if (!isAdmin(actor)) throw new AccessDenied();
}

/** The year to close: the one an unfinished run began, else the named one, else the current active year. */
export async function yearToClose(db: Db, actor: Actor, now: Date, name?: string): Promise<AcademicYear> {
  const unfinished = await db.models.YearClosing.findOne({ schoolId: actor.schoolId, finishedAt: null }, { yearId: 1 }).lean();
  const all = await activeYears(db, actor.schoolId, { archived: true });
  if (unfinished && (!name || all.find((y) => String(y.id) === String(unfinished.yearId))?.name === name)) {
    const y = await yearById(db, actor.schoolId, String(unfinished.yearId));
    if (y) return y;
  }
  if (name) {
    const y = all.find((x) => x.name === name);
    if (!y) throw new DomainError('yearEnd.noYear');
    if (y.status === 'archived') throw new DomainError('year.readOnly', { name: y.name });
    return y;
  }
  const school = await cachedSchool(db, actor.schoolId);
  const today = todayOf({ timezone: school?.timezone ?? 'UTC' }, now);
  const active = all.filter((y) => y.status === 'active' && y.startsOn <= today).sort((a, b) => b.startsOn.localeCompare(a.startsOn));
  const y = active.find((x) => x.endsOn <= today) ?? active[0];
  if (!y) throw new DomainError('yearEnd.noYear');
  return y;
}

/** What is missing before the year closes: year marks per class (or group) × subject, and outcomes. */
export async function closingReport(db: Db, actor: Actor, year: AcademicYear): Promise<ClosingReport> {
  assertAdmin(actor);
  const schoolId = actor.schoolId;
  const yearId = toObjectId(year.id);
  const closing = await db.models.YearClosing.findOne({ schoolId, yearId }, { steps: 1 }).lean();
  const done = (closing?.steps ?? []).map((s) => s.name as YearClosingStep);
  const frozen = done.includes('classes');
  // Once classes have moved, the year's roster is in its outcomes (each with the class of that year).
  const [classes, load, groups, subjects, outcomes, marks] = await Promise.all([
    db.models.SchoolClass.find(frozen ? { schoolId, 'history.yearId': yearId } : { schoolId, closedAt: null }, { name: 1, history: 1 }).lean(),
    db.models.TeachingLoad.find({ schoolId }, { classId: 1, groupId: 1, subjectId: 1 }).lean(),
    db.models.Group.find({ schoolId }, { name: 1, studentIds: 1 }).lean(),
    db.models.Subject.find({ schoolId }, { name: 1 }).lean(),
    db.models.StudentOutcome.find({ yearId }, { studentId: 1, classId: 1, outcome: 1, byDefault: 1 }).lean(),
    db.models.PeriodMark.find({ schoolId, yearId, periodCode: 'year' }, { studentId: 1, subjectId: 1 }).lean(),
  ]);
  const students = frozen
    ? outcomes.map((o) => ({ _id: o.studentId, student: { classId: o.classId } }))
    : await db.models.Person.find(
        { schoolId, roles: 'student', 'student.status': STUDYING_STATUS, 'student.classId': { $in: classes.map((k) => k._id) } },
        { student: 1 },
      ).lean();
  const rosterOf = new Map<string, string[]>();
  for (const s of students) {
    const k = String(s.student?.classId);
    rosterOf.set(k, [...(rosterOf.get(k) ?? []), String(s._id)]);
  }
  const nameOfClass = (k: (typeof classes)[number]) => k.history?.find((h) => String(h.yearId) === year.id)?.name ?? k.name;
  const classById = new Map(classes.map((k) => [String(k._id), k]));
  const groupById = new Map(groups.map((g) => [String(g._id), g]));
  const subjectName = new Map(subjects.map((s) => [String(s._id), s.name]));
  const have = new Set(marks.map((m) => `${m.studentId}|${m.subjectId}`));
  const missingYearMarks: MissingYearMarks[] = [];
  for (const l of load) {
    const k = classById.get(String(l.classId));
    if (!k) continue;
    const group = l.groupId ? groupById.get(String(l.groupId)) : undefined;
    const inGroup = group ? new Set(group.studentIds.map(String)) : undefined;
    const roster = (rosterOf.get(String(k._id)) ?? []).filter((id) => !inGroup || inGroup.has(id));
    const missing = roster.filter((id) => !have.has(`${id}|${l.subjectId}`)).length;
    if (missing === 0) continue;
    missingYearMarks.push({ className: nameOfClass(k), groupName: group?.name, subjectName: subjectName.get(String(l.subjectId)) ?? '?', students: roster.length, missing });
  }
  missingYearMarks.sort((a, b) => a.className.localeCompare(b.className, 'ru') || a.subjectName.localeCompare(b.subjectName, 'ru'));
  const recorded = outcomes.filter((o) => !o.byDefault);
  const counts = Object.fromEntries(STUDENT_OUTCOMES.map((k) => [k, 0])) as Record<StudentOutcomeKind, number>;
  for (const o of outcomes) counts[o.outcome as StudentOutcomeKind]++;
  return {
    year: { id: year.id, name: year.name, startsOn: year.startsOn, endsOn: year.endsOn },
    nextYearName: nextYearName(year),
    classes: classes.length,
    students: students.length,
    missingYearMarks,
    outcomes: { recorded: recorded.length, notRecorded: Math.max(0, students.length - recorded.length), counts },
    done,
  };
}

/** Runs (or resumes) the closing of `year`. Only the admin (and the operator's CLI); audited. */
export async function closeYear(db: Db, actor: Actor, year: AcademicYear, now: Date, hooks: CloseHooks = {}): Promise<CloseResult> {
  assertAdmin(actor);
  const schoolId = actor.schoolId;
  const yearId = toObjectId(year.id);
  const report = await closingReport(db, actor, year);
  const began = await db.models.YearClosing.updateOne(
    { schoolId, yearId },
    { $setOnInsert: { startedAt: now, startedBy: actor.personId } },
    { upsert: true },
  );
  if (began.upsertedCount) {
    await appendAudit(db, actor, now, { action: 'year.closing.started', entity: { type: 'academicYear', id: yearId }, after: { name: year.name, missing: report.missingYearMarks.length } });
  }
  const c: StepContext = { db, schoolId, year, yearId, now, actorId: actor.personId };
  const steps: CloseResult['steps'] = [];
  let nextYearId: Id | undefined;
  for (const name of YEAR_CLOSING_STEPS) {
    const doc = await db.models.YearClosing.findOne({ schoolId, yearId }).lean();
    if (doc?.steps.some((s) => s.name === name)) {
      steps.push({ name, ran: false });
      continue;
    }
    nextYearId ??= doc?.nextYearId ?? undefined;
    const { counts, next } = await runStep(c, name, doc?.classIds ?? undefined, nextYearId);
    if (next) nextYearId = next;
    await db.models.YearClosing.updateOne(
      { schoolId, yearId, 'steps.name': { $ne: name } },
      { $push: { steps: { name, doneAt: now } }, ...(name === 'nextYear' ? { $set: { nextYearId } } : {}) },
    );
    await appendAudit(db, actor, now, { action: `year.closing.${name}`, entity: { type: 'academicYear', id: yearId }, after: counts });
    steps.push({ name, ran: true, detail: counts });
    await hooks.afterStep?.(name);
  }
  nextYearId ??= (await db.models.YearClosing.findOne({ schoolId, yearId }, { nextYearId: 1 }).lean())?.nextYearId ?? undefined;
  const fin = await db.models.YearClosing.updateOne({ schoolId, yearId, finishedAt: null }, { $set: { finishedAt: now } });
  if (fin.modifiedCount) await appendAudit(db, actor, now, { action: 'year.closed', entity: { type: 'academicYear', id: yearId }, after: { name: year.name, next: report.nextYearName } });
  if (!nextYearId) throw new Error('next year missing');
  return { report, nextYearId: String(nextYearId), steps };
}

type StepOutput = { counts: Record<string, number>; next?: Id };

async function runStep(c: StepContext, name: YearClosingStep, snapshot: Id[] | undefined, nextYearId: Id | undefined): Promise<StepOutput> {
  const { db, schoolId, yearId } = c;
  switch (name) {
    case 'readOnly':
      return { counts: await freezeYear(c) };
    case 'nextYear':
      return { counts: {}, next: await createNextYear(c) };
    case 'classes': {
      let classIds = snapshot;
      if (!classIds) {
        // The classes of the year, fixed once: a resumed run never moves a class this step created.
        const ids = (await db.models.SchoolClass.find({ schoolId, closedAt: null }, { _id: 1 }).lean()).map((k) => k._id);
        await db.models.YearClosing.updateOne({ schoolId, yearId, classIds: null }, { $set: { classIds: ids } });
        classIds = (await db.models.YearClosing.findOne({ schoolId, yearId }, { classIds: 1 }).lean())?.classIds ?? ids;
      }
      return { counts: await moveClassesUp(c, classIds) };
    }
    case 'carryOver': {
      const next = nextYearId ? await db.models.AcademicYear.findById(nextYearId, { startsOn: 1 }).lean() : null;
      if (!next) throw new Error('next year missing');
      return { counts: await carryTimetableOver(c, next) };
    }
  }
}

// ───────────── the deputy confirms the carried-over timetable (R7) ─────────────

export async function draftTimetable(db: Db, actor: Actor): Promise<{ drafts: number; validFrom?: string }> {
  if (!isAdmin(actor) && !actor.roles.has('deputy')) throw new AccessDenied();
  const first = await db.models.TimetableSlot.findOne({ schoolId: actor.schoolId, draft: true }, { validFrom: 1 }).lean();
  const drafts = await db.models.TimetableSlot.countDocuments({ schoolId: actor.schoolId, draft: true });
  return { drafts, validFrom: first?.validFrom };
}

/** From now on lessons are made from the carried-over timetable; audited. */
export async function confirmTimetable(db: Db, actor: Actor, now: Date): Promise<{ confirmed: number }> {
  if (!isAdmin(actor) && !actor.roles.has('deputy')) throw new AccessDenied();
  const res = await db.models.TimetableSlot.updateMany({ schoolId: actor.schoolId, draft: true }, { $set: { draft: false } });
  if (res.modifiedCount === 0) return { confirmed: 0 };
  await db.models.YearClosing.updateMany({ schoolId: actor.schoolId, timetableConfirmedAt: null, finishedAt: { $ne: null } }, { $set: { timetableConfirmedAt: now } });
  await appendAudit(db, actor, now, { action: 'timetable.confirmed', entity: { type: 'timetable' }, after: { slots: res.modifiedCount } });
  return { confirmed: res.modifiedCount };
}
