import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { cachedSchool } from '../../db/school-cache.js';
import { currentYear } from '../school/academic-year.js';
import type { Actor } from '../school/actor.js';
import { appendAudit } from '../school/audit.js';
import { studentsOfClass, toObjectId } from '../school/people.js';
import { todayOf } from '../school/rules.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { STUDENT_OUTCOMES, type StudentOutcomeKind } from '../shared/vocabulary.js';

/**
 * Students' outcomes at the end of the year (R5): the secretary (or the admin) records for each
 * student promoted (default), conditionally promoted with the subjects to retake, repeating the
 * year, expelled, or graduated (the default in the last grade). Closing the year (close.ts) acts
 * on them. Every change is audited (R31).
 */
type Id = Types.ObjectId;

export const LAST_GRADE = 11;

export interface StudentOutcome {
  studentId: string;
  name: string;
  outcome: StudentOutcomeKind;
  retakeSubjectIds: string[];
  note?: string;
  /** Nobody decided yet: the default applies. */
  isDefault: boolean;
}

export interface ClassOutcomes {
  yearId: string;
  yearName: string;
  classId: string;
  className: string;
  grade: number;
  students: StudentOutcome[];
  /** The subjects of the class (its teaching load), for the retake choice. */
  subjects: Array<{ id: string; name: string }>;
}

export const defaultOutcome = (grade: number): StudentOutcomeKind => (grade >= LAST_GRADE ? 'graduated' : 'promoted');

/** One tap's order: in the last grade nobody is promoted; graduation after grade 9 is possible. */
export function outcomeCycle(grade: number): StudentOutcomeKind[] {
  return grade >= LAST_GRADE ? ['graduated', 'repeating', 'expelled'] : ['promoted', 'conditional', 'repeating', 'expelled', 'graduated'];
}

/** R5: the secretary records outcomes; the admin may too. */
export function assertCanSetOutcomes(actor: Actor): void {
  if (!actor.roles.has('secretary') && !actor.roles.has('admin')) throw new AccessDenied();
}

/** The year outcomes are recorded for: the school's current one, refused once it is closed. */
export async function outcomeYear(db: Db, schoolId: Id, now: Date): Promise<{ id: string; name: string }> {
  const school = await cachedSchool(db, schoolId);
  if (!school) throw new AccessDenied();
  const year = await currentYear(db, schoolId, todayOf({ timezone: school.timezone }, now));
  if (!year) throw new DomainError('yearEnd.noYear');
  return { id: year.id, name: year.name };
}

async function classOf(db: Db, schoolId: Id, classId: string) {
  const cls = await db.models.SchoolClass.findOne({ _id: toObjectId(classId), schoolId, closedAt: null }, { name: 1, grade: 1 }).lean();
  if (!cls) throw new AccessDenied();
  return cls;
}

/** The class list with each student's outcome (promoted by default). */
export async function classOutcomes(db: Db, actor: Actor, classId: string, now: Date): Promise<ClassOutcomes> {
  assertCanSetOutcomes(actor);
  const cls = await classOf(db, actor.schoolId, classId);
  const year = await outcomeYear(db, actor.schoolId, now);
  const students = await studentsOfClass(db, actor.schoolId, cls._id);
  const [saved, load] = await Promise.all([
    db.models.StudentOutcome.find({ yearId: toObjectId(year.id), studentId: { $in: students.map((s) => toObjectId(s.studentId)) } }).lean(),
    db.models.TeachingLoad.find({ schoolId: actor.schoolId, classId: cls._id }, { subjectId: 1 }).lean(),
  ]);
  const subjects = await db.models.Subject.find({ _id: { $in: [...new Set(load.map((l) => String(l.subjectId)))] } }, { name: 1 }).lean();
  const byStudent = new Map(saved.map((o) => [String(o.studentId), o]));
  return {
    yearId: year.id,
    yearName: year.name,
    classId: String(cls._id),
    className: cls.name,
    grade: cls.grade,
    students: students.map((s) => {
      const o = byStudent.get(s.studentId);
      return {
        studentId: s.studentId,
        name: s.fullName,
        outcome: (o?.outcome as StudentOutcomeKind | undefined) ?? defaultOutcome(cls.grade),
        retakeSubjectIds: (o?.retakeSubjectIds ?? []).map(String),
        note: o?.note ?? undefined,
        isDefault: !o || Boolean(o.byDefault),
      };
    }),
    subjects: subjects.map((s) => ({ id: String(s._id), name: s.name })).sort((a, b) => a.name.localeCompare(b.name, 'ru')),
  };
}

export interface OutcomeInput {
  studentId: string;
  outcome: StudentOutcomeKind;
  retakeSubjectIds?: string[];
  note?: string;
}

interface Checked {
  studentId: Id;
  classId: Id;
  outcome: StudentOutcomeKind;
  retakeSubjectIds: Id[];
  note?: string;
}

/** Validates one outcome against the student's class and the school's subjects; a DomainError says what is wrong. */
async function check(db: Db, schoolId: Id, input: OutcomeInput): Promise<Checked> {
  if (!STUDENT_OUTCOMES.includes(input.outcome)) throw new DomainError('yearEnd.badOutcome', { value: String(input.outcome) });
  const student = await db.models.Person.findOne({ _id: toObjectId(input.studentId), schoolId, roles: 'student' }, { student: 1 }).lean();
  const classId = student?.student?.classId;
  if (!student || !classId) throw new AccessDenied();
  const cls = await db.models.SchoolClass.findOne({ _id: classId, schoolId }, { grade: 1 }).lean();
  if (!cls || !outcomeCycle(cls.grade).includes(input.outcome)) {
    throw new DomainError('yearEnd.outcomeNotForGrade', { outcome: input.outcome, grade: cls?.grade ?? '?' });
  }
  const retake = [...new Set(input.retakeSubjectIds ?? [])].map((id) => toObjectId(id));
  if (input.outcome === 'conditional' && retake.length > 0) {
    const found = await db.models.Subject.countDocuments({ _id: { $in: retake }, schoolId });
    if (found !== retake.length) throw new AccessDenied();
  }
  const note = input.note?.trim();
  if (note && note.length > 300) throw new DomainError('common.tooLong', { max: 300 });
  return { studentId: student._id, classId, outcome: input.outcome, retakeSubjectIds: input.outcome === 'conditional' ? retake : [], note: note || undefined };
}

async function write(db: Db, actor: Actor, yearId: Id, list: Checked[], now: Date): Promise<number> {
  const before = await db.models.StudentOutcome.find({ yearId, studentId: { $in: list.map((c) => c.studentId) } }).lean();
  const prev = new Map(before.map((o) => [String(o.studentId), o]));
  const changed = list.filter((c) => {
    const p = prev.get(String(c.studentId));
    return !p || p.byDefault || p.outcome !== c.outcome || p.retakeSubjectIds.map(String).join() !== c.retakeSubjectIds.map(String).join() || (p.note ?? undefined) !== c.note;
  });
  if (changed.length === 0) return 0;
  await db.models.StudentOutcome.bulkWrite(
    changed.map((c) => ({
      updateOne: {
        filter: { yearId, studentId: c.studentId },
        update: {
          $set: {
            classId: c.classId,
            outcome: c.outcome,
            retakeSubjectIds: c.retakeSubjectIds,
            setBy: actor.personId ?? null,
            byDefault: false,
            note: c.note ?? null,
          },
          $setOnInsert: { schoolId: actor.schoolId },
        },
        upsert: true,
      },
    })),
    { ordered: false },
  );
  await appendAudit(
    db,
    actor,
    now,
    changed.map((c) => {
      const p = prev.get(String(c.studentId));
      return {
        action: 'outcome.set',
        entity: { type: 'studentOutcome' },
        studentId: c.studentId,
        before: p ? { outcome: p.outcome, retake: p.retakeSubjectIds.map(String) } : null,
        after: { outcome: c.outcome, retake: c.retakeSubjectIds.map(String), yearId: String(yearId) },
      };
    }),
  );
  return changed.length;
}

/** Records one student's outcome for the current year. */
export async function setOutcome(db: Db, actor: Actor, input: OutcomeInput, now: Date): Promise<void> {
  assertCanSetOutcomes(actor);
  const year = await outcomeYear(db, actor.schoolId, now);
  await write(db, actor, toObjectId(year.id), [await check(db, actor.schoolId, input)], now);
}

/** One tap on a student: the next outcome in the cycle; conditional keeps the subjects chosen so far. */
export async function cycleOutcome(db: Db, actor: Actor, classId: string, studentId: string, now: Date): Promise<StudentOutcome> {
  const view = await classOutcomes(db, actor, classId, now);
  const s = view.students.find((x) => x.studentId === studentId);
  if (!s) throw new DomainError('yearEnd.stale');
  const cycle = outcomeCycle(view.grade);
  const next = cycle[(cycle.indexOf(s.outcome) + 1) % cycle.length] ?? defaultOutcome(view.grade);
  await setOutcome(db, actor, { studentId, outcome: next, retakeSubjectIds: s.retakeSubjectIds, note: s.note }, now);
  return { ...s, outcome: next, isDefault: false };
}

/** Conditional promotion: adds or removes one subject to retake. */
export async function toggleRetake(db: Db, actor: Actor, classId: string, studentId: string, subjectId: string, now: Date): Promise<StudentOutcome> {
  const view = await classOutcomes(db, actor, classId, now);
  const s = view.students.find((x) => x.studentId === studentId);
  if (!s || s.outcome !== 'conditional') throw new DomainError('yearEnd.stale');
  if (!view.subjects.some((x) => x.id === subjectId)) throw new AccessDenied();
  const retake = s.retakeSubjectIds.includes(subjectId) ? s.retakeSubjectIds.filter((x) => x !== subjectId) : [...s.retakeSubjectIds, subjectId];
  await setOutcome(db, actor, { studentId, outcome: 'conditional', retakeSubjectIds: retake, note: s.note }, now);
  return { ...s, retakeSubjectIds: retake, isDefault: false };
}

// ───────────── from a file (CSV: student code, outcome, subjects to retake, note) ─────────────

const WORDS: Record<string, StudentOutcomeKind> = {
  promoted: 'promoted',
  переведен: 'promoted',
  переведён: 'promoted',
  conditional: 'conditional',
  условно: 'conditional',
  'условно переведен': 'conditional',
  'условно переведён': 'conditional',
  repeating: 'repeating',
  'оставлен на повторное обучение': 'repeating',
  повтор: 'repeating',
  expelled: 'expelled',
  отчислен: 'expelled',
  graduated: 'graduated',
  выпущен: 'graduated',
  выпускник: 'graduated',
};

const COLUMNS = {
  student: ['student_id', 'student', 'код ученика', 'ученик', 'код'],
  outcome: ['outcome', 'решение', 'итог'],
  retake: ['retake', 'пересдача', 'предметы', 'задолженность'],
  note: ['note', 'примечание', 'комментарий'],
} as const;

export interface RowError {
  row: number;
  key: string;
  vars: Record<string, unknown>;
}

/**
 * Loads outcomes from rows (a CSV read with headers): all or nothing. Students by their school
 * code, subjects to retake by code or name, separated by ";" or ",". Returns the row errors and
 * writes nothing when there is any.
 */
export async function importOutcomes(
  db: Db,
  actor: Actor,
  rows: Array<Record<string, string>>,
  now: Date,
  opts: { dryRun?: boolean } = {},
): Promise<{ errors: RowError[]; written: number; rows: number }> {
  assertCanSetOutcomes(actor);
  const year = await outcomeYear(db, actor.schoolId, now);
  const header = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const col = (names: readonly string[]) => header.find((h) => names.includes(h.trim().toLowerCase()));
  const [studentCol, outcomeCol, retakeCol, noteCol] = [col(COLUMNS.student), col(COLUMNS.outcome), col(COLUMNS.retake), col(COLUMNS.note)];
  if (!studentCol || !outcomeCol) return { errors: [{ row: 1, key: 'yearEnd.file.columns', vars: {} }], written: 0, rows: rows.length };
  const [people, subjects] = await Promise.all([
    db.models.Person.find({ schoolId: actor.schoolId, roles: 'student' }, { externalId: 1 }).lean(),
    db.models.Subject.find({ schoolId: actor.schoolId }, { externalId: 1, name: 1 }).lean(),
  ]);
  const studentByCode = new Map(people.map((p) => [p.externalId, String(p._id)]));
  const subjectBy = new Map(subjects.flatMap((s) => [[s.externalId.toLowerCase(), String(s._id)] as const, [s.name.toLowerCase(), String(s._id)] as const]));
  const errors: RowError[] = [];
  const checked: Checked[] = [];
  const seen = new Set<string>();
  for (const [i, r] of rows.entries()) {
    const row = i + 2; // the header is row 1
    const code = (r[studentCol] ?? '').trim();
    const studentId = studentByCode.get(code);
    const outcome = WORDS[(r[outcomeCol] ?? '').trim().toLowerCase().replace(/\s+/g, ' ')];
    const retakeNames = retakeCol ? (r[retakeCol] ?? '').split(/[;,]/).map((x) => x.trim().toLowerCase()).filter(Boolean) : [];
    const unknown = retakeNames.find((n) => !subjectBy.has(n));
    if (!studentId) errors.push({ row, key: 'yearEnd.file.unknownStudent', vars: { code } });
    else if (seen.has(studentId)) errors.push({ row, key: 'yearEnd.file.duplicate', vars: { code } });
    else if (!outcome) errors.push({ row, key: 'yearEnd.badOutcome', vars: { value: r[outcomeCol] ?? '' } });
    else if (unknown) errors.push({ row, key: 'yearEnd.file.unknownSubject', vars: { name: unknown } });
    else {
      seen.add(studentId);
      const retake = retakeNames.map((n) => subjectBy.get(n) as string);
      try {
        checked.push(await check(db, actor.schoolId, { studentId, outcome, retakeSubjectIds: retake, note: noteCol ? r[noteCol] : undefined }));
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        errors.push({ row, key: e.key, vars: e.vars });
      }
    }
  }
  if (errors.length > 0 || opts.dryRun) return { errors, written: 0, rows: rows.length };
  return { errors, written: await write(db, actor, toObjectId(year.id), checked, now), rows: rows.length };
}
