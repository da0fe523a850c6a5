import { randomBytes } from 'node:crypto';
import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { MARK_VALUES } from '../shared/vocabulary.js';
import { announceEvent } from '../notices/intents.js';
import { isAdmin } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import type { LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { assertCanEditLesson, assertCanReadLesson, helpers } from './lesson-access.js';
import { exemptOn } from './exemptions.js';
import { briefOf, type LessonBundle, loadLessonBundle } from './lesson-bundle.js';
import { isInLesson, type LessonBrief, lessonForEdit, loadLesson, rosterLabels, rosterVersion } from './lessons.js';
import { loadSchoolRules, type SchoolRules, todayOf, type WorkKind, workKindOf } from '../school/rules.js';
import { isLocked } from './locks.js';
import { toObjectId } from '../school/people.js';

/**
 * Current marks (R11–R13, R18). A mark is exactly one of 2, 3, 4, 5; it records the kind of work
 * (with the kind's weight at the time); several per lesson are allowed; a correction or deletion
 * keeps the old value in the audit trail (R31); `clientKey` makes a double-pressed button or a
 * replayed conversation step save once.
 */
type Id = Types.ObjectId;
export type MarkValue = (typeof MARK_VALUES)[number];

const COMMENT_MAX = 300;

/**
 * R11: the whole input must be one digit 2–5. "5+", "4-", "1", "6", ".", "" and the like are
 * refused with an answer that says what is accepted.
 */
export function parseMarkValue(input: unknown): MarkValue {
  const text = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : '';
  if (/^[2-5]$/.test(text)) return Number(text) as MarkValue;
  const shown = typeof input === 'string' || typeof input === 'number' ? String(input).trim().slice(0, 12) : '';
  throw new DomainError(shown ? 'marks.invalid' : 'marks.empty', { input: shown });
}

export function newClientKey(): string {
  return randomBytes(9).toString('base64url');
}

function kindOrThrow(rules: SchoolRules, code: string): WorkKind {
  const kind = workKindOf(rules, code);
  if (!kind) throw new DomainError('marks.unknownKind');
  return kind;
}

function cleanComment(comment: string | undefined): string | undefined {
  const c = comment?.trim();
  if (!c) return undefined;
  if (c.length > COMMENT_MAX) throw new DomainError('common.tooLong', { max: COMMENT_MAX });
  return c;
}

export interface MarkInput {
  lessonId: string;
  studentId: string;
  value: unknown;
  workKind: string;
  comment?: string;
  /** Same key twice → one mark. Omitted: a fresh key (every mark has one; see the index note). */
  clientKey?: string;
  reason?: string;
}

export interface MarkView {
  id: string;
  studentId: string;
  value: MarkValue;
  workKind: string;
  weight: number;
  comment?: string;
  date: LocalDate;
  lessonId: string;
}

function viewOf(m: {
  _id: Id;
  studentId: Id;
  value: number;
  workKind: string;
  weight: number;
  comment?: string | null;
  date: string;
  lessonId: Id;
}): MarkView {
  return {
    id: String(m._id),
    studentId: String(m.studentId),
    value: m.value as MarkValue,
    workKind: m.workKind,
    weight: m.weight,
    comment: m.comment ?? undefined,
    date: m.date,
    lessonId: String(m.lessonId),
  };
}

/**
 * Who may mark this student in this lesson: the lesson's editors (R7); for a student taught at home
 * also the class teacher, weekly (R18); for a student in hospital only the admin, from the
 * hospital's report (R18).
 */
/** A saved mark answering a replayed key: only for the same lesson and student (else refused). */
function replayOf(m: Parameters<typeof viewOf>[0], lessonId: Id, studentId: Id): MarkView {
  if (String(m.lessonId) !== String(lessonId) || String(m.studentId) !== String(studentId)) throw new AccessDenied();
  return viewOf(m);
}

async function studentRule(db: Db, actor: Actor, lesson: Awaited<ReturnType<typeof loadLesson>>, studentId: Id, bundle?: LessonBundle) {
  // On the roster just read (studying, of the lesson's class or group), else asked as before.
  const listed = bundle?.roster.find((s) => s.id === String(studentId));
  const student = listed ? { form: listed.form } : await isInLesson(db, lesson, studentId);
  if (!student) throw new DomainError('marks.notInLesson');
  if (student.form === 'hospital' && !isAdmin(actor)) {
    throw new DomainError('marks.hospital', { helpers: await helpers(db, actor.schoolId, 'admin') });
  }
  return { homeStudentOfClassTeacher: student.form === 'home' && actor.classTeacherOf.has(String(lesson.classId)) };
}

/**
 * `read`: the lesson as the marks screen just read it in this update (roster, marks, absences and
 * access facts, lesson-bundle.ts) — used instead of reading them again; every rule is checked alike.
 */
export async function recordMark(
  db: Db,
  actor: Actor,
  input: MarkInput,
  now: Date,
  read?: LessonBundle,
): Promise<{ mark: MarkView; duplicate: boolean; absentCode?: string }> {
  const value = parseMarkValue(input.value);
  const bundle = read && String(read.lesson._id) === String(input.lessonId) ? read : undefined;
  const lesson = bundle?.lesson ?? (await loadLesson(db, actor, input.lessonId));
  const studentId = toObjectId(input.studentId);
  const rules = await loadSchoolRules(db, actor.schoolId);
  const kind = kindOrThrow(rules, input.workKind);
  const comment = cleanComment(input.comment);
  const { Mark } = db.models;
  const clientKey = input.clientKey ?? newClientKey();
  // A replay of a saved mark answers with the mark, before any rule that time may have changed.
  // (With the bundle, a key used in another lesson shows up as a duplicate key on insert below.)
  const earlier = bundle
    ? (bundle.marks.find((m) => m.clientKey === clientKey) as Parameters<typeof viewOf>[0] | undefined)
    : await Mark.findOne({ schoolId: actor.schoolId, clientKey }).lean();
  if (earlier) {
    const mark = replayOf(earlier, lesson._id, studentId);
    await assertCanReadLesson(db, actor, lesson, bundle?.facts);
    return { mark, duplicate: true };
  }
  const rule = await studentRule(db, actor, lesson, studentId, bundle);
  const check = await assertCanEditLesson(db, actor, lesson, {
    what: 'marks',
    rules,
    today: todayOf(rules, now),
    reason: input.reason,
    newMarkKind: kind,
    homeStudentOfClassTeacher: rule.homeStudentOfClassTeacher,
    facts: bundle?.facts,
  });
  let doc: InstanceType<typeof Mark>;
  try {
    doc = await new Mark({
      schoolId: actor.schoolId,
      lessonId: lesson._id,
      studentId,
      subjectId: lesson.subjectId,
      classId: lesson.classId,
      date: lesson.date,
      value,
      workKind: kind.code,
      weight: kind.weight,
      comment,
      teacherId: actor.personId ?? lesson.teacherId,
      clientKey,
    }).save();
  } catch (e) {
    if ((e as { code?: number }).code !== 11000) throw e;
    // The same button pressed twice at once: the other press saved it.
    const same = await Mark.findOne({ schoolId: actor.schoolId, clientKey }).lean();
    if (!same) throw e;
    return { mark: replayOf(same, lesson._id, studentId), duplicate: true };
  }
  const mark = viewOf(doc.toObject());
  await appendAudit(db, actor, now, {
    action: 'mark.created',
    entity: { type: 'mark', id: doc._id },
    lessonId: lesson._id,
    studentId,
    before: null,
    after: { value, workKind: kind.code, weight: kind.weight, comment: comment ?? null },
    reason: check.lockedOverride ? input.reason?.trim() : undefined,
  });
  await announceEvent(db, { kind: 'mark.created', schoolId: actor.schoolId, studentId, markId: doc._id, lessonId: lesson._id, at: now });
  // Allowed (a mark for work handed in, R19 does not forbid it), but the teacher is told: often a slip.
  const absence = bundle
    ? bundle.absences.find((a) => String(a.studentId) === String(studentId))
    : await db.models.Absence.findOne({ lessonId: lesson._id, studentId }, { code: 1 }).lean();
  return { mark, duplicate: false, absentCode: absence?.code ?? undefined };
}

async function loadMarkForEdit(db: Db, actor: Actor, markId: string, now: Date, reason?: string) {
  const mark = await db.models.Mark.findOne({ _id: toObjectId(markId), schoolId: actor.schoolId, deletedAt: null }).lean();
  if (!mark) throw new DomainError('marks.gone');
  const lesson = await loadLesson(db, actor, mark.lessonId);
  const rules = await loadSchoolRules(db, actor.schoolId);
  const rule = await studentRule(db, actor, lesson, mark.studentId);
  const check = await assertCanEditLesson(db, actor, lesson, {
    what: 'marks',
    rules,
    today: todayOf(rules, now),
    reason,
    homeStudentOfClassTeacher: rule.homeStudentOfClassTeacher,
  });
  return { mark, lesson, rules, check };
}

/** Corrects a mark's value, kind or comment; the audit keeps before and after (R31). */
export async function changeMark(
  db: Db,
  actor: Actor,
  input: { markId: string; value?: unknown; workKind?: string; comment?: string | null; reason?: string },
  now: Date,
): Promise<MarkView> {
  const value = input.value === undefined ? undefined : parseMarkValue(input.value);
  const { mark, rules, check } = await loadMarkForEdit(db, actor, input.markId, now, input.reason);
  const kind = input.workKind ? kindOrThrow(rules, input.workKind) : undefined;
  const set: Record<string, unknown> = {};
  if (value !== undefined && value !== mark.value) set.value = value;
  if (kind && kind.code !== mark.workKind) {
    set.workKind = kind.code;
    set.weight = kind.weight;
  }
  if (input.comment !== undefined) {
    const comment = input.comment === null ? undefined : cleanComment(input.comment);
    if ((comment ?? null) !== (mark.comment ?? null)) set.comment = comment ?? null;
  }
  if (Object.keys(set).length === 0) return viewOf(mark);
  // Conditional on the value read: two corrections at once cannot both claim the same "before".
  const updated = await db.models.Mark.findOneAndUpdate(
    { _id: mark._id, deletedAt: null, value: mark.value, workKind: mark.workKind },
    { $set: set },
    { returnDocument: 'after' },
  ).lean();
  if (!updated) throw new DomainError('marks.gone');
  const pick = (m: { value: number; workKind: string; weight: number; comment?: string | null }) => ({
    value: m.value,
    workKind: m.workKind,
    weight: m.weight,
    comment: m.comment ?? null,
  });
  await appendAudit(db, actor, now, {
    action: 'mark.changed',
    entity: { type: 'mark', id: mark._id },
    lessonId: mark.lessonId,
    studentId: mark.studentId,
    before: pick(mark),
    after: pick(updated),
    reason: check.lockedOverride ? input.reason?.trim() : undefined,
  });
  await announceEvent(db, { kind: 'mark.changed', schoolId: actor.schoolId, studentId: mark.studentId, markId: mark._id, lessonId: mark.lessonId, at: now });
  return viewOf(updated);
}

/** Deletes a mark (soft: `deletedAt`); the audit keeps the old value (R31). */
export async function deleteMark(db: Db, actor: Actor, input: { markId: string; reason?: string }, now: Date): Promise<void> {
  const { mark, check } = await loadMarkForEdit(db, actor, input.markId, now, input.reason);
  const res = await db.models.Mark.updateOne({ _id: mark._id, deletedAt: null }, { $set: { deletedAt: now } });
  if (res.modifiedCount === 0) return;
  await appendAudit(db, actor, now, {
    action: 'mark.deleted',
    entity: { type: 'mark', id: mark._id },
    lessonId: mark.lessonId,
    studentId: mark.studentId,
    before: { value: mark.value, workKind: mark.workKind, weight: mark.weight, comment: mark.comment ?? null },
    after: null,
    reason: check.lockedOverride ? input.reason?.trim() : undefined,
  });
  await announceEvent(db, { kind: 'mark.deleted', schoolId: actor.schoolId, studentId: mark.studentId, markId: mark._id, lessonId: mark.lessonId, at: now });
}

/** Early check for a marking session (bulk entry): the lesson is the actor's and not locked for them. */
export async function assertCanMarkLesson(db: Db, actor: Actor, lessonId: string, now: Date): Promise<void> {
  await lessonForEdit(db, actor, lessonId, now, { what: 'marks', draft: true });
}

export interface MarksSheet {
  lessonId: string;
  lesson: LessonBrief;
  /** R14: the lesson is locked (for the screen; every change checks again). */
  locked: boolean;
  /** Roster version: buttons carry an index into `students` plus this (see attendance). */
  version: string;
  /** `exempt`: R21, exempt from PE on the lesson's date (marked as such on the screen). */
  students: Array<{ idx: number; id: string; label: string; form?: string; exempt?: boolean; marks: MarkView[] }>;
  kinds: WorkKind[];
}

/** The roster of a lesson with each student's marks in it (read rights). */
export async function lessonMarksSheet(db: Db, actor: Actor, lessonId: string, now: Date): Promise<MarksSheet> {
  return (await marksSheetBundle(db, actor, lessonId, now)).sheet;
}

/**
 * The sheet and what it was read from: the lesson with its access facts, roster, marks and absences
 * in one round trip (lesson-bundle.ts), which `recordMark` takes instead of reading them again.
 */
async function marksSheetBundle(db: Db, actor: Actor, lessonId: string, now: Date): Promise<{ sheet: MarksSheet; bundle: LessonBundle }> {
  const [bundle, rules] = await Promise.all([
    loadLessonBundle(db, actor, lessonId, { roster: true, marks: true, absences: true }),
    loadSchoolRules(db, actor.schoolId),
  ]);
  const { lesson, roster } = bundle;
  await assertCanReadLesson(db, actor, lesson, bundle.facts);
  const brief = briefOf(bundle, rules);
  const marks = bundle.marks
    .filter((m) => !m.deletedAt)
    .sort((a, b) => Number(a.createdAt ?? 0) - Number(b.createdAt ?? 0) || String(a._id).localeCompare(String(b._id)));
  const labels = rosterLabels(roster);
  const exempt = bundle.names.pe ? await exemptOn(db, lesson.schoolId, roster.map((s) => s.id), lesson.date) : new Set<string>();
  const byStudent = new Map<string, MarkView[]>();
  for (const m of marks) {
    const list = byStudent.get(String(m.studentId)) ?? [];
    list.push(viewOf(m as unknown as Parameters<typeof viewOf>[0]));
    byStudent.set(String(m.studentId), list);
  }
  const sheet: MarksSheet = {
    lessonId: String(lesson._id),
    lesson: brief,
    locked: isLocked(lesson, rules, todayOf(rules, now)),
    version: rosterVersion(roster.map((s) => s.id)),
    students: roster.map((s, idx) => ({
      idx,
      id: s.id,
      label: labels[idx] ?? '?',
      form: s.form,
      ...(exempt.has(s.id) ? { exempt: true } : {}),
      marks: byStudent.get(s.id) ?? [],
    })),
    kinds: rules.workKinds,
  };
  return { sheet, bundle };
}

/** The student at `idx` of the lesson's current roster, refused when the roster changed meanwhile. */
export async function rosterStudentAt(db: Db, actor: Actor, lessonId: string, version: string, idx: number, now: Date): Promise<{ id: string; label: string; fullName: string; marks: MarkView[]; sheet: MarksSheet }> {
  const entry = await rosterEntryAt(db, actor, lessonId, version, idx, now);
  const p = entry.bundle.roster[idx];
  return { ...entry, fullName: p ? `${p.lastName} ${p.firstName}` : entry.label };
}

/** As `rosterStudentAt`, without the full name (one query less where only the label is shown). */
type RosterEntry = { id: string; label: string; marks: MarkView[]; sheet: MarksSheet; bundle: LessonBundle };
export async function rosterEntryAt(db: Db, actor: Actor, lessonId: string, version: string, idx: number, now: Date): Promise<RosterEntry> {
  const { sheet, bundle } = await marksSheetBundle(db, actor, lessonId, now);
  const s = sheet.students[idx];
  if (sheet.version !== version || !s) throw new DomainError('attendance.stale');
  return { id: s.id, label: s.label, marks: s.marks, sheet, bundle };
}

export async function getMark(db: Db, actor: Actor, markId: string): Promise<MarkView> {
  const mark = await db.models.Mark.findOne({ _id: toObjectId(markId), schoolId: actor.schoolId, deletedAt: null }).lean();
  if (!mark) throw new DomainError('marks.gone');
  const lesson = await loadLesson(db, actor, mark.lessonId);
  await assertCanReadLesson(db, actor, lesson);
  return viewOf(mark);
}
