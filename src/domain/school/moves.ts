import { Types } from 'mongoose';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { isLocalDate, type LocalDate } from '../shared/calendar.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { STUDYING_STATUS } from '../shared/vocabulary.js';
import { assertDateWritable } from '../year/read-only.js';
import type { Actor } from './actor.js';
import { appendAudit } from './audit.js';
import { fullName, toObjectId } from './people.js';
import { todayOf } from './rules.js';
import { cachedSchool } from '../../db/school-cache.js';

/**
 * R5: moving one student during the year — the secretary's (and the deputy's, the admin's) screen
 * for what the students' import does for a whole file (imports/students.ts):
 * - arrival: a new student into a class (enrolled on the date), or one who had left coming back;
 * - transfer: to another class of the school; the old class's subject groups drop them;
 * - withdrawal: leaving the school on a date (status 'withdrawn'; the class stays as their last one).
 * Marks, absences and period marks reference the student, not the class, so they stay with them; the
 * family (Guardianship) is never touched: parents keep the child's history. Each move is a
 * StudentMovement (the history the reports' rosters read) and an audit entry (R31).
 */
type Id = Types.ObjectId;

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const date = z.string().refine(isLocalDate, 'date');
const name = z.string().trim().min(1).max(60);
const note = z.string().trim().max(200).optional();

export const arrivalInput = z.union([
  z.object({
    classId: id,
    date,
    lastName: name,
    firstName: name,
    middleName: z.string().trim().max(60).optional(),
    birthDate: date.optional(),
    /** The school's own code for the student (what a later import file will carry); generated when absent. */
    externalId: z.string().trim().min(1).max(40).optional(),
    note,
  }),
  z.object({ studentId: id, classId: id, date, note }),
]);
export const transferInput = z.object({ studentId: id, toClassId: id, date, note });
export const withdrawalInput = z.object({ studentId: id, date, note });

/** R5: the secretary moves students; the deputy and the admin may too. */
export const canMoveStudents = (actor: Actor) => actor.roles.has('secretary') || actor.roles.has('deputy') || actor.roles.has('admin');

function assertCanMove(actor: Actor): void {
  if (!canMoveStudents(actor)) throw new AccessDenied();
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new DomainError('office.moves.invalid');
  return parsed.data;
}

/** A move is dated today or earlier (it records what happened), and not inside a closed year (R30). */
async function assertMoveDate(db: Db, actor: Actor, day: LocalDate, now: Date): Promise<void> {
  const school = await cachedSchool(db, actor.schoolId);
  if (!school) throw new AccessDenied();
  if (day > todayOf({ timezone: school.timezone }, now)) throw new DomainError('office.moves.future');
  await assertDateWritable(db, actor.schoolId, day);
}

async function openClass(db: Db, actor: Actor, classId: string) {
  const cls = await db.models.SchoolClass.findOne({ _id: toObjectId(classId), schoolId: actor.schoolId, closedAt: null }, { name: 1 }).lean();
  if (!cls) throw new AccessDenied();
  return cls;
}

async function studentOf(db: Db, actor: Actor, studentId: string) {
  const s = await db.models.Person.findOne(
    { _id: toObjectId(studentId), schoolId: actor.schoolId, roles: 'student' },
    { lastName: 1, firstName: 1, middleName: 1, student: 1, active: 1 },
  ).lean();
  if (!s) throw new AccessDenied();
  return s;
}

const studying = (s: { student?: { status?: string | null } | null; active?: boolean | null }) =>
  s.active !== false && !(STUDYING_STATUS.$nin as readonly string[]).includes(s.student?.status ?? '');

export interface MoveResult {
  studentId: string;
  name: string;
  kind: 'arrival' | 'transfer' | 'withdrawal';
  date: LocalDate;
  fromClass?: string;
  toClass?: string;
}

async function record(
  db: Db,
  actor: Actor,
  now: Date,
  m: { studentId: Id; kind: MoveResult['kind']; date: LocalDate; from?: Id; to?: Id; note?: string },
  before: unknown,
  after: unknown,
): Promise<void> {
  await db.models.StudentMovement.create({
    schoolId: actor.schoolId,
    studentId: m.studentId,
    kind: m.kind,
    ...(m.from ? { fromClassId: m.from } : {}),
    ...(m.to ? { toClassId: m.to } : {}),
    date: m.date,
    ...(m.note ? { note: m.note } : {}),
    ...(actor.personId ? { byPersonId: actor.personId } : {}),
  });
  await appendAudit(db, actor, now, { action: `student.${m.kind}`, entity: { type: 'Person', id: m.studentId }, studentId: m.studentId, before, after, reason: m.note });
}

/** R5 arrival: a new student enrolled into a class on `date`, or a student who had left coming back. */
export async function arriveStudent(db: Db, actor: Actor, input: unknown, now: Date): Promise<MoveResult> {
  assertCanMove(actor);
  const a = parse(arrivalInput, input);
  await assertMoveDate(db, actor, a.date, now);
  const cls = await openClass(db, actor, a.classId);
  let studentId: Id;
  let name: string;
  let before: unknown = null;
  if ('studentId' in a) {
    const s = await studentOf(db, actor, a.studentId);
    if (studying(s)) throw new DomainError('office.moves.alreadyStudying', { name: fullName(s) });
    studentId = s._id;
    name = fullName(s);
    before = { status: s.student?.status ?? null, classId: s.student?.classId ? String(s.student.classId) : null };
    await db.models.Person.updateOne(
      { _id: s._id },
      { $set: { active: true, 'student.status': 'studying', 'student.classId': cls._id, 'student.enrolledOn': a.date } },
    );
  } else {
    const externalId = a.externalId ?? `moved-${new Types.ObjectId().toHexString()}`;
    if (await db.models.Person.exists({ schoolId: actor.schoolId, externalId })) throw new DomainError('office.moves.codeTaken', { code: externalId });
    const doc = await db.models.Person.create({
      schoolId: actor.schoolId,
      externalId,
      lastName: a.lastName,
      firstName: a.firstName,
      ...(a.middleName ? { middleName: a.middleName } : {}),
      roles: ['student'],
      student: { classId: cls._id, status: 'studying', form: 'regular', enrolledOn: a.date, ...(a.birthDate ? { birthDate: a.birthDate } : {}) },
    });
    studentId = doc._id;
    name = fullName(doc);
  }
  await record(db, actor, now, { studentId, kind: 'arrival', date: a.date, to: cls._id, note: a.note }, before, { status: 'studying', classId: String(cls._id), date: a.date });
  return { studentId: String(studentId), name, kind: 'arrival', date: a.date, toClass: cls.name };
}

/** R5 transfer to another class: the marks stay with the student; the old class's groups drop them. */
export async function transferStudent(db: Db, actor: Actor, input: unknown, now: Date): Promise<MoveResult> {
  assertCanMove(actor);
  const t = parse(transferInput, input);
  await assertMoveDate(db, actor, t.date, now);
  const s = await studentOf(db, actor, t.studentId);
  const to = await openClass(db, actor, t.toClassId);
  if (!studying(s)) throw new DomainError('office.moves.notStudying', { name: fullName(s) });
  const fromId = s.student?.classId ?? undefined;
  if (fromId && String(fromId) === String(to._id)) throw new DomainError('office.moves.sameClass');
  const from = fromId ? await db.models.SchoolClass.findById(fromId, { name: 1 }).lean() : null;
  await db.models.Person.updateOne({ _id: s._id }, { $set: { 'student.classId': to._id } });
  if (fromId) await db.models.Group.updateMany({ schoolId: actor.schoolId, classId: fromId }, { $pull: { studentIds: s._id } });
  await record(
    db,
    actor,
    now,
    { studentId: s._id, kind: 'transfer', date: t.date, from: fromId, to: to._id, note: t.note },
    { classId: fromId ? String(fromId) : null },
    { classId: String(to._id) },
  );
  return { studentId: String(s._id), name: fullName(s), kind: 'transfer', date: t.date, fromClass: from?.name, toClass: to.name };
}

/** R5 withdrawal: the student leaves the school on `date`; their class stays as the last one they were in. */
export async function withdrawStudent(db: Db, actor: Actor, input: unknown, now: Date): Promise<MoveResult> {
  assertCanMove(actor);
  const w = parse(withdrawalInput, input);
  await assertMoveDate(db, actor, w.date, now);
  const s = await studentOf(db, actor, w.studentId);
  if (!studying(s)) throw new DomainError('office.moves.notStudying', { name: fullName(s) });
  const fromId = s.student?.classId ?? undefined;
  const from = fromId ? await db.models.SchoolClass.findById(fromId, { name: 1 }).lean() : null;
  await db.models.Person.updateOne({ _id: s._id }, { $set: { 'student.status': 'withdrawn' } });
  await record(db, actor, now, { studentId: s._id, kind: 'withdrawal', date: w.date, from: fromId, note: w.note }, { status: s.student?.status ?? 'studying' }, { status: 'withdrawn', date: w.date });
  return { studentId: String(s._id), name: fullName(s), kind: 'withdrawal', date: w.date, fromClass: from?.name };
}

export interface MovableStudent {
  id: string;
  name: string;
  classId: string;
  className: string;
  studying: boolean;
  /** Parents linked to the student (the family follows them). */
  parents: number;
}

/** The students of a class (those who left too, to bring one back), for the moves screen. */
export async function studentsForMoves(db: Db, actor: Actor, classId: string): Promise<MovableStudent[]> {
  assertCanMove(actor);
  const cls = await db.models.SchoolClass.findOne({ _id: toObjectId(classId), schoolId: actor.schoolId }, { name: 1 }).lean();
  if (!cls) throw new AccessDenied();
  const people = await db.models.Person.find(
    { schoolId: actor.schoolId, roles: 'student', 'student.classId': cls._id },
    { lastName: 1, firstName: 1, middleName: 1, student: 1, active: 1 },
  ).lean();
  const links = await db.models.Guardianship.aggregate<{ _id: Id; n: number }>([
    { $match: { schoolId: actor.schoolId, studentId: { $in: people.map((p) => p._id) } } },
    { $group: { _id: '$studentId', n: { $sum: 1 } } },
  ]);
  const parents = new Map(links.map((l) => [String(l._id), l.n]));
  return people
    .map((p) => ({ id: String(p._id), name: fullName(p), classId: String(cls._id), className: cls.name, studying: studying(p), parents: parents.get(String(p._id)) ?? 0 }))
    .sort((a, b) => Number(b.studying) - Number(a.studying) || a.name.localeCompare(b.name, 'ru'));
}
