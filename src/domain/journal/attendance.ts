import { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { ABSENCE_CODES, type AbsenceCode } from '../shared/vocabulary.js';
import { lessonIntent } from '../notices/intents.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { setAbsenceCode } from './absence-reason.js';
import { assertCanEditLesson } from './lesson-access.js';
import { type LessonBrief, lessonRoster, loadLesson, rosterLabels, rosterVersion } from './lessons.js';
import { type AttendanceDraftLean, bundleForEdit, type LessonBundle } from './lesson-bundle.js';
import { loadSchoolRules, type SchoolRules, todayOf } from '../school/rules.js';
import { toObjectId } from '../school/people.js';
import { exemptOn } from './exemptions.js';

/**
 * Attendance (R19, R20). A teacher toggles present↔absent in a draft kept in MongoDB, then Save
 * writes only what changed: an absence is a document (code Н by default), presence is its absence.
 * Reasons (Н/Б/У) are set by the class teacher or the deputy from the day's list of the class.
 */
type Id = Types.ObjectId;

export interface SheetStudent {
  idx: number;
  id: string;
  label: string;
  absent: boolean;
  /** Saved code of an absence (Б, У set by the class teacher stay when the teacher saves again). */
  code?: AbsenceCode;
  /** R21: exempt from PE on the lesson's date; never marked absent in it. */
  exempt?: boolean;
}

export interface AttendanceSheet {
  lessonId: string;
  lesson: LessonBrief;
  version: string;
  students: SheetStudent[];
  absentCount: number;
  /** The draft differs from what is saved. */
  dirty: boolean;
  savedAt?: Date;
}

const editorOf = (actor: Actor): Id => actor.personId ?? actor.schoolId;

/**
 * The editor's draft unless it was saved: Save records the draft's `rev` on the lesson
 * (`attendanceSaved`) rather than deleting it, so a saved draft counts as none.
 */
function liveDraft(bundle: LessonBundle, actor: Actor): AttendanceDraftLean | undefined {
  const draft = bundle.draft;
  if (!draft?.rev) return draft;
  const saved = (bundle.lesson as { attendanceSaved?: Record<string, unknown> | null }).attendanceSaved?.[String(editorOf(actor))];
  return saved !== undefined && saved !== null && String(saved) === String(draft.rev) ? undefined : draft;
}

/**
 * The lesson, its access check (R7, R13, R14, R30), its names, the actor's draft and the saved
 * absences in one round trip (lesson-bundle.ts); R21 exemptions are read only for a PE lesson.
 */
async function checkEdit(db: Db, actor: Actor, lessonId: string, now: Date, opts: { reason?: string; draft?: boolean; reports?: boolean } = {}) {
  const { bundle, lesson, rules, check, brief } = await bundleForEdit(
    db,
    actor,
    lessonId,
    now,
    { what: 'attendance', reason: opts.reason, draft: opts.draft ?? true },
    { draft: true, absences: true, reports: opts.reports },
  );
  return { bundle, lesson, rules, check, brief, saved: bundle.absences };
}

/** R21: of these students, those exempt in this lesson (none unless its subject is PE: no query then). */
function exemptIn(db: Db, bundle: LessonBundle, ids: ReadonlyArray<Id | string>): Promise<Set<string>> {
  return bundle.names.pe ? exemptOn(db, bundle.lesson.schoolId, ids, bundle.lesson.date) : Promise.resolve(new Set());
}

function sheetOf(
  brief: LessonBrief,
  lesson: { _id: Id; attendanceTakenAt?: Date | null },
  draft: { rosterVersion: string; roster: Id[]; labels: string[]; absent: number[] },
  saved: Array<{ studentId: Id; code?: string | null }>,
  exempt: ReadonlySet<string> = new Set(),
): AttendanceSheet {
  const absent = new Set(draft.absent);
  const savedBy = new Map(saved.map((a) => [String(a.studentId), (a.code ?? 'Н') as AbsenceCode]));
  const students = draft.roster.map((id, idx) => ({
    idx,
    id: String(id),
    label: draft.labels[idx] ?? '?',
    absent: absent.has(idx),
    code: savedBy.get(String(id)),
    ...(exempt.has(String(id)) ? { exempt: true } : {}),
  }));
  const dirty =
    !lesson.attendanceTakenAt || students.some((s) => s.absent !== savedBy.has(s.id));
  return {
    lessonId: String(lesson._id),
    lesson: brief,
    version: draft.rosterVersion,
    students,
    absentCount: absent.size,
    dirty,
    savedAt: lesson.attendanceTakenAt ?? undefined,
  };
}

/**
 * Opens the sheet: the editor's unsaved draft if there is one for the current roster, else a new
 * draft from what is saved (everyone present when attendance was never taken).
 */
export async function openAttendance(db: Db, actor: Actor, lessonId: string, now: Date): Promise<AttendanceSheet> {
  const { bundle, lesson, brief, saved } = await checkEdit(db, actor, lessonId, now);
  const { AttendanceDraft } = db.models;
  const roster = await lessonRoster(db, lesson);
  const ids = roster.map((s) => s.id);
  const exempt = await exemptIn(db, bundle, ids);
  const version = rosterVersion(ids);
  const existing = liveDraft(bundle, actor);
  if (existing && existing.rosterVersion === version) {
    const rebased = rebaseDraft(existing, saved);
    if (rebased) {
      await AttendanceDraft.updateOne({ _id: existing._id }, { $set: rebased });
      return sheetOf(brief, lesson, { ...existing, ...rebased }, saved, exempt);
    }
    return sheetOf(brief, lesson, existing, saved, exempt);
  }
  // A new draft (or the roster changed): start from the saved state, keeping a stale draft's marks
  // for students who are still on the roster.
  const absentIds = new Set(
    existing
      ? existing.absent.map((i) => String(existing.roster[i]))
      : saved.map((a) => String(a.studentId)),
  );
  const draft = {
    schoolId: actor.schoolId,
    lessonId: lesson._id,
    editorId: editorOf(actor),
    rosterVersion: version,
    roster: roster.map((s) => toObjectId(s.id)),
    labels: rosterLabels(roster),
    absent: ids.flatMap((id, i) => (absentIds.has(id) && !exempt.has(id) ? [i] : [])),
    baseAbsent: existing?.baseAbsent ?? saved.map((a) => a.studentId),
    rev: new Types.ObjectId(),
  };
  await AttendanceDraft.updateOne(
    { lessonId: lesson._id, editorId: editorOf(actor) },
    { $set: draft },
    { upsert: true },
  );
  return sheetOf(brief, lesson, draft, saved, exempt);
}

/**
 * Re-opening a draft after someone else saved the sheet: the draft is moved onto the saved state,
 * keeping this editor's own changes (what differs from the draft's base), so the screen shows the
 * other editor's marks too. Undefined when nothing was saved meanwhile.
 */
function rebaseDraft(
  draft: { roster: Id[]; absent: number[]; baseAbsent?: Id[] | null },
  saved: Array<{ studentId: Id }>,
): { absent: number[]; baseAbsent: Id[] } | undefined {
  if (!draft.baseAbsent) return undefined;
  const base = new Set(draft.baseAbsent.map(String));
  const now = new Set(saved.map((a) => String(a.studentId)));
  if (base.size === now.size && [...base].every((id) => now.has(id))) return undefined;
  const mine = new Set(draft.absent.map((i) => String(draft.roster[i])));
  const absent = draft.roster.flatMap((id, i) => {
    const key = String(id);
    const changedByMe = mine.has(key) !== base.has(key);
    return (changedByMe ? mine.has(key) : now.has(key)) ? [i] : [];
  });
  return { absent, baseAbsent: saved.map((a) => a.studentId) };
}

function currentDraft(bundle: LessonBundle, actor: Actor, version: string): AttendanceDraftLean {
  const draft = liveDraft(bundle, actor);
  // A button from an older roster (or a draft saved meanwhile): make the teacher look again.
  if (!draft || draft.rosterVersion !== version) throw new DomainError('attendance.stale');
  return draft;
}

/** One tap: present ↔ absent for the student at `idx` of the draft's roster. */
export async function toggleAttendance(
  db: Db,
  actor: Actor,
  lessonId: string,
  version: string,
  idx: number,
  now: Date,
): Promise<AttendanceSheet> {
  const { bundle, lesson, brief, saved } = await checkEdit(db, actor, lessonId, now);
  const draft = currentDraft(bundle, actor, version);
  if (!Number.isInteger(idx) || idx < 0 || idx >= draft.roster.length) throw new DomainError('attendance.stale');
  const exempt = await exemptIn(db, bundle, draft.roster);
  if (exempt.has(String(draft.roster[idx]))) throw new DomainError('pe.exemptNoAbsence');
  const absent = new Set(draft.absent);
  if (absent.has(idx)) absent.delete(idx);
  else absent.add(idx);
  const next = [...absent].sort((a, b) => a - b);
  await db.models.AttendanceDraft.updateOne({ _id: draft._id }, { $set: { absent: next } });
  return sheetOf(brief, lesson, { ...draft, absent: next }, saved, exempt);
}

/** "Everyone present": clears the draft's absences. */
export async function everyonePresent(
  db: Db,
  actor: Actor,
  lessonId: string,
  version: string,
  now: Date,
): Promise<AttendanceSheet> {
  const { bundle, lesson, brief, saved } = await checkEdit(db, actor, lessonId, now);
  const draft = currentDraft(bundle, actor, version);
  const exempt = await exemptIn(db, bundle, draft.roster);
  await db.models.AttendanceDraft.updateOne({ _id: draft._id }, { $set: { absent: [] } });
  return sheetOf(brief, lesson, { ...draft, absent: [] }, saved, exempt);
}

export interface SaveResult {
  sheet: AttendanceSheet;
  marked: number;
  cleared: number;
}

/** Save: writes only the differences (R19), records each in the audit (R31), tells families (R23). */
export async function saveAttendance(
  db: Db,
  actor: Actor,
  lessonId: string,
  version: string,
  now: Date,
  reason?: string,
): Promise<SaveResult> {
  const { bundle, lesson, check, brief, saved } = await checkEdit(db, actor, lessonId, now, { reason, draft: false, reports: true });
  const draft = currentDraft(bundle, actor, version);
  const exempt = await exemptIn(db, bundle, draft.roster);
  const { Absence, Lesson, AttendanceDraft } = db.models;
  const savedBy = new Map(saved.map((a) => [String(a.studentId), a]));
  const absentIds = new Set(draft.absent.map((i) => String(draft.roster[i])));
  const rosterIds = new Set(draft.roster.map(String));
  // Only what this editor changed since opening the draft is written: a student another editor
  // marked (or cleared) meanwhile, and this one did not touch, keeps the other's change.
  const base = new Set((draft.baseAbsent ?? saved.map((a) => a.studentId)).map(String));
  // R21: an exempt student's missed PE is no absence (a draft made before the exemption included).
  const toMark = [...absentIds].filter((id) => !savedBy.has(id) && !base.has(id) && !exempt.has(id));
  const toClear = saved.filter(
    (a) => rosterIds.has(String(a.studentId)) && !absentIds.has(String(a.studentId)) && base.has(String(a.studentId)),
  );
  // A parent's absence report the class teacher confirmed gives the reason at once (Б or У, R20).
  // (The confirmed reports covering the lesson's date came with the lesson: reportedReason's query.)
  const reported = new Map(bundle.reports.map((r) => [String(r.studentId), r.code as AbsenceCode | null | undefined]));
  const codeOf = new Map<string, AbsenceCode>();
  for (const id of toMark) codeOf.set(id, reported.get(id) ?? 'Н');
  const ops: Parameters<typeof Absence.bulkWrite>[0] = [
    ...toMark.map((id) => ({
      updateOne: {
        filter: { lessonId: lesson._id, studentId: toObjectId(id) },
        update: {
          $setOnInsert: {
            schoolId: lesson.schoolId,
            classId: lesson.classId,
            date: lesson.date,
            code: codeOf.get(id) ?? 'Н',
            markedBy: actor.personId,
          },
        },
        upsert: true,
      },
    })),
    ...toClear.map((a) => ({ deleteOne: { filter: { _id: a._id } } })),
  ];
  if (ops.length) await Absence.bulkWrite(ops, { ordered: false });
  // R23: the families of every changed student, as one notice intent riding on the lesson's write
  // (fanned out after the answer: domain/notices/intents.ts).
  const intent = lessonIntent(db, lesson._id, [
    ...toMark.map((id) => ({ kind: 'absence.marked' as const, schoolId: lesson.schoolId, studentId: toObjectId(id), lessonId: lesson._id, at: now })),
    ...toClear.map((a) => ({ kind: 'absence.cleared' as const, schoolId: lesson.schoolId, studentId: a.studentId, lessonId: lesson._id, at: now })),
  ]);
  // The draft is spent: recorded on the lesson in the same write (a draft from before revs is deleted).
  const spent = draft.rev ? { [`attendanceSaved.${String(editorOf(actor))}`]: draft.rev } : {};
  await Lesson.updateOne({ _id: lesson._id }, { $set: { attendanceTakenAt: now, ...spent }, ...intent.update });
  const why = check.lockedOverride ? reason?.trim() : undefined;
  await appendAudit(db, actor, now, [
    ...toMark.map((id) => ({
      action: 'absence.marked',
      entity: { type: 'absence' },
      lessonId: lesson._id,
      studentId: toObjectId(id),
      before: null,
      after: { code: codeOf.get(id) ?? 'Н' },
      reason: why,
    })),
    ...toClear.map((a) => ({
      action: 'absence.cleared',
      entity: { type: 'absence', id: a._id },
      lessonId: lesson._id,
      studentId: a.studentId,
      before: { code: a.code ?? 'Н' },
      after: null,
      reason: why,
    })),
  ]);
  if (!draft.rev) await AttendanceDraft.deleteOne({ _id: draft._id });
  intent.written();
  // What is saved now, from what was read and written (no read after the write).
  const cleared = new Set(toClear.map((a) => String(a._id)));
  const after = [
    ...saved.filter((a) => !cleared.has(String(a._id))),
    ...toMark.map((id) => ({ studentId: toObjectId(id), code: codeOf.get(id) ?? 'Н' })),
  ];
  // The sheet as saved now, with other editors' changes merged in.
  const afterIds = new Set(after.map((a) => String(a.studentId)));
  const merged = { ...draft, absent: draft.roster.flatMap((id, i) => (afterIds.has(String(id)) ? [i] : [])) };
  const sheet = sheetOf(brief, { ...lesson, attendanceTakenAt: now }, merged, after, exempt);
  return { sheet: { ...sheet, dirty: false }, marked: toMark.length, cleared: toClear.length };
}

// ─────────────── reasons: the class teacher's daily list (R20) ───────────────

export interface DayAbsence {
  absenceId: string;
  studentId: string;
  studentName: string;
  lessonId: string;
  lessonNo?: number;
  subjectName: string;
  code: AbsenceCode;
}

function assertReasonsForClass(actor: Actor, classId: string): void {
  if (isAdmin(actor) || actor.roles.has('deputy') || actor.classTeacherOf.has(classId)) return;
  throw new AccessDenied();
}

/** The class's absences of one day, by student then lesson. */
export async function classAbsencesOfDay(db: Db, actor: Actor, classId: string, date: LocalDate): Promise<DayAbsence[]> {
  if (!isLocalDate(date)) throw new DomainError('journal.badDate');
  const id = toObjectId(classId);
  const cls = await db.models.SchoolClass.exists({ _id: id, schoolId: actor.schoolId });
  if (!cls) throw new AccessDenied();
  assertReasonsForClass(actor, classId);
  const absences = await db.models.Absence.find({ classId: id, date }).lean();
  if (absences.length === 0) return [];
  const [students, lessons] = await Promise.all([
    db.models.Person.find({ _id: { $in: absences.map((a) => a.studentId) } }, { firstName: 1, lastName: 1 }).lean(),
    db.models.Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { lessonNo: 1, subjectId: 1 }).lean(),
  ]);
  const subjects = await db.models.Subject.find({ _id: { $in: lessons.map((l) => l.subjectId) } }, { name: 1 }).lean();
  const student = new Map(students.map((s) => [String(s._id), s]));
  const lesson = new Map(lessons.map((l) => [String(l._id), l]));
  const subject = new Map(subjects.map((s) => [String(s._id), s.name]));
  return absences
    .map((a) => {
      const s = student.get(String(a.studentId));
      const l = lesson.get(String(a.lessonId));
      return {
        absenceId: String(a._id),
        studentId: String(a.studentId),
        studentName: s ? `${s.lastName} ${s.firstName}` : '?',
        lessonId: String(a.lessonId),
        lessonNo: l?.lessonNo ?? undefined,
        subjectName: l ? (subject.get(String(l.subjectId)) ?? '?') : '?',
        code: (a.code ?? 'Н') as AbsenceCode,
      };
    })
    .sort((a, b) => a.studentName.localeCompare(b.studentName, 'ru') || (a.lessonNo ?? 0) - (b.lessonNo ?? 0));
}

/** One absence, for the reason picker (the class teacher, deputy, admin). */
export async function getAbsence(db: Db, actor: Actor, absenceId: string): Promise<DayAbsence & { classId: string; date: LocalDate }> {
  const a = await db.models.Absence.findOne({ _id: toObjectId(absenceId), schoolId: actor.schoolId }).lean();
  if (!a) throw new AccessDenied();
  assertReasonsForClass(actor, String(a.classId));
  const list = await classAbsencesOfDay(db, actor, String(a.classId), a.date);
  const found = list.find((x) => x.absenceId === absenceId);
  if (!found) throw new AccessDenied();
  return { ...found, classId: String(a.classId), date: a.date };
}

/**
 * Sets the reason of one absence, or (wholeDay) of all that student's absences that day.
 * Locked lessons (R14): only the admin, with a reason.
 */
export async function setAbsenceReason(
  db: Db,
  actor: Actor,
  absenceId: string,
  code: string,
  now: Date,
  opts: { wholeDay?: boolean; reason?: string } = {},
): Promise<{ changed: number }> {
  if (!(ABSENCE_CODES as readonly string[]).includes(code)) throw new DomainError('attendance.badCode');
  const { Absence } = db.models;
  const first = await Absence.findOne({ _id: toObjectId(absenceId), schoolId: actor.schoolId }).lean();
  if (!first) throw new AccessDenied();
  assertReasonsForClass(actor, String(first.classId));
  const targets = opts.wholeDay
    ? await Absence.find({ schoolId: actor.schoolId, studentId: first.studentId, date: first.date, classId: first.classId }).lean()
    : [first];
  const rules: SchoolRules = await loadSchoolRules(db, actor.schoolId);
  const today = todayOf(rules, now);
  let changed = 0;
  for (const a of targets) {
    if (a.code === code) continue;
    const lesson = await loadLesson(db, actor, a.lessonId);
    const check = await assertCanEditLesson(db, actor, lesson, { what: 'reasons', rules, today, reason: opts.reason });
    const reason = check.lockedOverride ? opts.reason?.trim() : undefined;
    if (await setAbsenceCode(db, actor, now, a, code as AbsenceCode, reason)) changed++;
  }
  return { changed };
}
