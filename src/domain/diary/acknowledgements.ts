import type { Db } from '../../db/index.js';
import { addDays, localDate } from '../shared/calendar.js';
import { readsWholeSchool } from '../school/access.js';
import type { Actor } from '../school/actor.js';
import { AccessDenied, DomainError } from '../shared/errors.js';
import { fullName, shortName, toObjectId } from '../school/people.js';

/**
 * "Acknowledged" (Ознакомлен): the button under a mark or absence message replaces the parent's
 * signature in a paper diary. The teacher of the lesson and the class teacher see who signed.
 */
const TOKEN = /^[0-9a-f]{24}$/;

/**
 * Records the acknowledgement of everything one message said (its token), for the person bound to
 * this Telegram account who received it. Pressing twice records nothing new.
 */
export async function acknowledgeMessage(
  db: Db,
  input: { telegramId: number; token: string; now: Date },
): Promise<{ recorded: number; items: number }> {
  if (!TOKEN.test(input.token)) throw new DomainError('ack.unknown');
  const { OutboxMessage, Person, Acknowledgement } = db.models;
  const docs = await OutboxMessage.find(
    { sendToken: input.token, chatId: input.telegramId, status: 'sent', kind: { $in: ['mark', 'absence'] } },
    { schoolId: 1, recipientId: 1, studentId: 1, kind: 1, ref: 1 },
  ).lean();
  if (docs.length === 0) throw new DomainError('ack.unknown');
  // The recipient must still be bound to this very account (an account that lost the person cannot sign).
  const mine = new Set(
    (await Person.find({ _id: { $in: docs.map((d) => d.recipientId) }, telegramId: input.telegramId }, { _id: 1 }).lean()).map(
      (p) => String(p._id),
    ),
  );
  let recorded = 0;
  let items = 0;
  for (const d of docs) {
    if (!d.recipientId || !mine.has(String(d.recipientId)) || !d.studentId) continue;
    const kind = d.kind as 'mark' | 'absence';
    const refKey = kind === 'mark' ? `mark:${d.ref?.markId}` : `absence:${d.ref?.lessonId}:${d.studentId}`;
    items++;
    const res = await Acknowledgement.updateOne(
      { personId: d.recipientId, refKey },
      {
        $setOnInsert: {
          schoolId: d.schoolId,
          personId: d.recipientId,
          studentId: d.studentId,
          refKey,
          kind,
          markId: d.ref?.markId,
          lessonId: d.ref?.lessonId,
          at: input.now,
        },
      },
      { upsert: true },
    ).catch((e: unknown) => {
      if ((e as { code?: number }).code === 11000) return { upsertedCount: 0 };
      throw e;
    });
    recorded += res.upsertedCount ?? 0;
  }
  if (items === 0) throw new DomainError('ack.unknown');
  return { recorded, items };
}

/** Who may see the acknowledgements of a lesson: its teacher or substitute, the class teacher, the administration. */
async function assertCanSeeLesson(db: Db, actor: Actor, lessonId: string) {
  const lesson = await db.models.Lesson.findOne(
    { _id: toObjectId(lessonId), schoolId: actor.schoolId },
    { classId: 1, subjectId: 1, teacherId: 1, substituteId: 1, date: 1, lessonNo: 1 },
  ).lean();
  if (!lesson) throw new AccessDenied();
  const me = actor.personId ? String(actor.personId) : undefined;
  const allowed =
    readsWholeSchool(actor) ||
    actor.classTeacherOf.has(String(lesson.classId)) ||
    (me !== undefined && (String(lesson.teacherId) === me || String(lesson.substituteId) === me));
  if (!allowed) throw new AccessDenied();
  return lesson;
}

export interface AckGuardian {
  name: string;
  /** Bound to Telegram (can receive messages at all). */
  reachable: boolean;
  acknowledgedAt?: Date;
}

export interface AckRow {
  studentId: string;
  student: string;
  /** '5', '4', 'Н', … in the order given. */
  items: string[];
  guardians: AckGuardian[];
}

export interface LessonAcks {
  lessonId: string;
  date: string;
  lessonNo?: number;
  className: string;
  subject: string;
  rows: AckRow[];
}

/** Marks and absences of a lesson, and for each child which guardian acknowledged them and when. */
export async function lessonAcknowledgements(db: Db, actor: Actor, lessonId: string): Promise<LessonAcks> {
  const lesson = await assertCanSeeLesson(db, actor, lessonId);
  const { Mark, Absence, Guardianship, Person, Acknowledgement, SchoolClass, Subject } = db.models;
  const [marks, absences, acks, cls, subject] = await Promise.all([
    Mark.find({ lessonId: lesson._id, deletedAt: null }, { studentId: 1, value: 1 }).lean(),
    Absence.find({ lessonId: lesson._id }, { studentId: 1, code: 1 }).lean(),
    Acknowledgement.find({ lessonId: lesson._id }, { personId: 1, studentId: 1, at: 1, markId: 1, kind: 1 }).lean(),
    SchoolClass.findById(lesson.classId, { name: 1 }).lean(),
    Subject.findById(lesson.subjectId, { name: 1 }).lean(),
  ]);
  const studentIds = [...new Set([...marks, ...absences].map((x) => String(x.studentId)))];
  const links = studentIds.length
    ? await Guardianship.find({ schoolId: actor.schoolId, studentId: { $in: studentIds } }, { parentId: 1, studentId: 1 }).lean()
    : [];
  const people = await Person.find(
    { _id: { $in: [...studentIds, ...links.map((l) => String(l.parentId))] }, schoolId: actor.schoolId },
    { firstName: 1, lastName: 1, middleName: 1, telegramId: 1 },
  ).lean();
  const personById = new Map(people.map((p) => [String(p._id), p]));
  const liveMarks = new Set(marks.map((m) => String(m._id)));
  const rows: AckRow[] = studentIds.map((sid) => {
    const items = [
      ...marks.filter((m) => String(m.studentId) === sid).map((m) => String(m.value)),
      ...absences.filter((a) => String(a.studentId) === sid).map((a) => a.code),
    ];
    const guardians = links
      .filter((l) => String(l.studentId) === sid)
      .map((l) => {
        const p = personById.get(String(l.parentId));
        // The latest acknowledgement of something still in the journal for this child.
        const times = acks
          .filter(
            (a) =>
              String(a.personId) === String(l.parentId) &&
              String(a.studentId) === sid &&
              (a.kind !== 'mark' || liveMarks.has(String(a.markId))),
          )
          .map((a) => a.at.getTime());
        return {
          name: p ? fullName(p) : '—',
          reachable: typeof p?.telegramId === 'number',
          acknowledgedAt: times.length ? new Date(Math.max(...times)) : undefined,
        };
      });
    const s = personById.get(sid);
    return { studentId: sid, student: s ? shortName(s) : '—', items, guardians };
  });
  rows.sort((a, b) => a.student.localeCompare(b.student, 'ru'));
  return {
    lessonId: String(lesson._id),
    date: lesson.date,
    lessonNo: lesson.lessonNo ?? undefined,
    className: cls?.name ?? '—',
    subject: subject?.name ?? '—',
    rows,
  };
}

export interface AckLesson {
  lessonId: string;
  date: string;
  lessonNo?: number;
  className: string;
  subject: string;
}

/** The actor's lessons of the last week that have marks or absences (theirs, or their class's). */
export async function lessonsWithAcks(db: Db, actor: Actor, now: Date, limit = 12): Promise<AckLesson[]> {
  if (!actor.personId) throw new AccessDenied();
  const school = await db.models.School.findById(actor.schoolId, { timezone: 1 }).lean();
  const today = localDate(now, school?.timezone ?? 'UTC');
  const or: Array<Record<string, unknown>> = [{ teacherId: actor.personId }, { substituteId: actor.personId }];
  if (actor.classTeacherOf.size > 0) or.push({ classId: { $in: [...actor.classTeacherOf] } });
  const lessons = await db.models.Lesson.find(
    { schoolId: actor.schoolId, date: { $gte: addDays(today, -7), $lte: today }, $or: or },
    { classId: 1, subjectId: 1, date: 1, lessonNo: 1 },
  ).lean();
  if (lessons.length === 0) return [];
  const ids = lessons.map((l) => l._id);
  const [withMarks, withAbsences] = await Promise.all([
    db.models.Mark.distinct('lessonId', { lessonId: { $in: ids }, deletedAt: null }),
    db.models.Absence.distinct('lessonId', { lessonId: { $in: ids } }),
  ]);
  const used = new Set([...withMarks, ...withAbsences].map(String));
  const chosen = lessons
    .filter((l) => used.has(String(l._id)))
    .sort((a, b) => b.date.localeCompare(a.date) || (b.lessonNo ?? 0) - (a.lessonNo ?? 0))
    .slice(0, limit);
  const [classes, subjects] = await Promise.all([
    db.models.SchoolClass.find({ _id: { $in: chosen.map((l) => l.classId) } }, { name: 1 }).lean(),
    db.models.Subject.find({ _id: { $in: chosen.map((l) => l.subjectId) } }, { name: 1 }).lean(),
  ]);
  const cn = new Map(classes.map((c) => [String(c._id), c.name]));
  const sn = new Map(subjects.map((s) => [String(s._id), s.name]));
  return chosen.map((l) => ({
    lessonId: String(l._id),
    date: l.date,
    lessonNo: l.lessonNo ?? undefined,
    className: cn.get(String(l.classId)) ?? '—',
    subject: sn.get(String(l.subjectId)) ?? '—',
  }));
}

