import type { Db } from '../../db/index.js';
import { weightedAverage } from '../journal/averages.js';
import type { Actor } from '../school/actor.js';
import { toObjectId } from '../school/people.js';
import { addDays, isoWeekday, weekStart } from '../shared/calendar.js';
import { AccessDenied } from '../shared/errors.js';
import { currentPeriod, type DiaryStudent, fallbackPeriod, inGroupOf, type Names, type Opened, openStudent, type Period, subjectNames } from './reader.js';

/**
 * The diary (электронный дневник, R24): what a family sees of one child — marks with the
 * weighted average per subject, homework, the timetable, attendance, lesson topics. Every read
 * starts with `openStudent` (reader.ts: access R4, consent R32). Returns plain data; the bot
 * renders it.
 */
// ───────────────────────────── marks ─────────────────────────────

export interface DiaryMark {
  markId: string;
  value: number;
  date: string;
  workKind: string;
  workKindName: Names;
  weight: number;
  comment?: string;
}

export interface SubjectMarks {
  subjectId: string;
  subject: string;
  marks: DiaryMark[];
  average?: number;
  periodMark?: string;
}

export interface MarksView {
  student: DiaryStudent;
  period?: Period;
  from: string;
  to: string;
  subjects: SubjectMarks[];
}

/** Current marks of the current period by subject, with the weighted average (each mark's weight, R12, R17). */
export async function diaryMarks(
  db: Db,
  actor: Actor,
  studentId: string,
  now: Date,
  opts: { until?: string } = {},
): Promise<MarksView> {
  const o = await openStudent(db, actor, studentId, now);
  return marksOf(db, o, opts.until);
}

/** `chosen`: another period of the year than the current one (the Mini App's chart, issue 15). */
export async function marksOf(db: Db, o: Opened, until?: string, chosen?: Period): Promise<MarksView> {
  const period = chosen ?? (await currentPeriod(db, o.schoolId, o.student.today, o.student.grade));
  const range = period ?? fallbackPeriod(o.student.today);
  const to = until && until < range.endsOn ? until : range.endsOn;
  const marks = await db.models.Mark.find(
    { studentId: o.id, date: { $gte: range.startsOn, $lte: to }, deletedAt: null },
    { value: 1, date: 1, workKind: 1, weight: 1, comment: 1, subjectId: 1, createdAt: 1 },
  ).lean();
  const periodMarks = period
    ? await db.models.PeriodMark.find(
        { studentId: o.id, yearId: period.yearId, periodCode: period.code },
        { subjectId: 1, value: 1 },
      ).lean()
    : [];
  const names = await subjectNames(db, o.schoolId, [
    ...marks.map((m) => String(m.subjectId)),
    ...periodMarks.map((p) => String(p.subjectId)),
  ]);
  const bySubject = new Map<string, SubjectMarks>();
  const subjectOf = (id: string) => {
    let s = bySubject.get(id);
    if (!s) {
      s = { subjectId: id, subject: names.get(id) ?? '—', marks: [] };
      bySubject.set(id, s);
    }
    return s;
  };
  const sorted = [...marks].sort((a, b) => a.date.localeCompare(b.date) || +(a.createdAt ?? 0) - +(b.createdAt ?? 0));
  for (const m of sorted) {
    const kind = o.workKinds.get(m.workKind);
    subjectOf(String(m.subjectId)).marks.push({
      markId: String(m._id),
      value: m.value,
      date: m.date,
      workKind: m.workKind,
      workKindName: kind?.name ?? { ru: m.workKind, en: m.workKind },
      // The weight the kind had when the mark was given (R12, R17): the same one the journal averages with.
      weight: m.weight,
      comment: m.comment ?? undefined,
    });
  }
  for (const p of periodMarks) subjectOf(String(p.subjectId)).periodMark = p.value;
  const subjects = [...bySubject.values()]
    .map((s) => ({ ...s, average: weightedAverage(s.marks) }))
    .sort((a, b) => a.subject.localeCompare(b.subject, 'ru'));
  return { student: o.student, period, from: range.startsOn, to, subjects };
}

// ───────────────────────────── timetable ─────────────────────────────

export interface DiaryLesson {
  lessonNo: number;
  start?: string;
  end?: string;
  subject: string;
  subjectId: string;
  room?: string;
  cancelled?: boolean;
  topic?: string;
  lessonId?: string;
}

export interface DiaryDay {
  date: string;
  weekday: number;
  lessons: DiaryLesson[];
}

export type TimetableRange = 'today' | 'tomorrow' | 'week';

function rangeDates(today: string, range: TimetableRange): string[] {
  if (range === 'today') return [today];
  if (range === 'tomorrow') return [addDays(today, 1)];
  // The school week (Mon–Sat); on Sunday, the coming one.
  const monday = isoWeekday(today) === 7 ? addDays(today, 1) : weekStart(today);
  return [0, 1, 2, 3, 4, 5].map((d) => addDays(monday, d));
}

async function daysOf(db: Db, o: Opened, dates: string[]): Promise<DiaryDay[]> {
  if (!o.classId || dates.length === 0) return dates.map((date) => ({ date, weekday: isoWeekday(date), lessons: [] }));
  const first = dates[0] as string;
  const last = dates[dates.length - 1] as string;
  const [slots, lessons] = await Promise.all([
    // Draft slots (the next year's timetable before the deputy confirms it) are not the timetable yet.
    db.models.TimetableSlot.find(
      { schoolId: o.schoolId, classId: o.classId, draft: { $ne: true } },
      { groupId: 1, subjectId: 1, weekday: 1, lessonNo: 1, room: 1, validFrom: 1, validTo: 1 },
    ).lean(),
    db.models.Lesson.find(
      { classId: o.classId, date: { $gte: first, $lte: last } },
      { slotId: 1, groupId: 1, subjectId: 1, date: 1, lessonNo: 1, room: 1, status: 1, topic: 1 },
    ).lean(),
  ]);
  const subjectIds = [...slots.map((s) => String(s.subjectId)), ...lessons.map((l) => String(l.subjectId))];
  const names = await subjectNames(db, o.schoolId, subjectIds);
  return dates.map((date) => {
    const weekday = isoWeekday(date);
    const ofDay = lessons.filter((l) => l.date === date && inGroupOf(o, l.groupId));
    const bySlot = new Map(ofDay.filter((l) => l.slotId).map((l) => [String(l.slotId), l]));
    const out: DiaryLesson[] = [];
    for (const s of slots) {
      if (s.weekday !== weekday || s.validFrom > date || (s.validTo && s.validTo < date) || !inGroupOf(o, s.groupId)) continue;
      const lesson = bySlot.get(String(s._id));
      const bell = o.bells.get(s.lessonNo);
      out.push({
        lessonNo: s.lessonNo,
        start: bell?.start,
        end: bell?.end,
        subject: names.get(String(s.subjectId)) ?? '—',
        subjectId: String(s.subjectId),
        room: lesson?.room ?? s.room ?? undefined,
        cancelled: lesson?.status === 'cancelled' || undefined,
        topic: lesson?.topic ?? undefined,
        lessonId: lesson ? String(lesson._id) : undefined,
      });
    }
    // Lessons added by hand (no slot) still show.
    for (const l of ofDay) {
      if (l.slotId) continue;
      const bell = l.lessonNo ? o.bells.get(l.lessonNo) : undefined;
      out.push({
        lessonNo: l.lessonNo ?? 0,
        start: bell?.start,
        end: bell?.end,
        subject: names.get(String(l.subjectId)) ?? '—',
        subjectId: String(l.subjectId),
        room: l.room ?? undefined,
        cancelled: l.status === 'cancelled' || undefined,
        topic: l.topic ?? undefined,
        lessonId: String(l._id),
      });
    }
    out.sort((a, b) => a.lessonNo - b.lessonNo);
    return { date, weekday, lessons: out };
  });
}

export interface TimetableView {
  student: DiaryStudent;
  days: DiaryDay[];
}

export async function diaryTimetable(
  db: Db,
  actor: Actor,
  studentId: string,
  now: Date,
  range: TimetableRange,
): Promise<TimetableView> {
  const o = await openStudent(db, actor, studentId, now);
  return { student: o.student, days: await daysOf(db, o, rangeDates(o.student.today, range)) };
}

// ───────────────────────────── homework ─────────────────────────────

export interface Attachment {
  kind: 'photo' | 'document' | 'voice' | 'video';
  fileId: string;
  name?: string;
}

export interface DiaryHomework {
  /** The lesson it is due at. */
  dueOn: string;
  subject: string;
  text: string;
  attachments: Attachment[];
  /** The lesson it was given at (R22): attachments are re-sent from there. */
  lessonId: string;
  givenOn: string;
}

export interface HomeworkView {
  student: DiaryStudent;
  range: 'tomorrow' | 'week';
  items: DiaryHomework[];
}

/**
 * Homework due on the coming days (R22, R24): each homework once, under the date it is due —
 * the one stored when it was set (domain/journal/homework.ts), which the teacher was shown.
 */
export async function diaryHomework(
  db: Db,
  actor: Actor,
  studentId: string,
  now: Date,
  range: 'tomorrow' | 'week',
): Promise<HomeworkView> {
  const o = await openStudent(db, actor, studentId, now);
  return { student: o.student, range, items: await homeworkOf(db, o, range) };
}

/** `range`: the coming days from today; or a week given by its Monday (the Mini App, issue 15). */
export async function homeworkOf(db: Db, o: Opened, range: 'tomorrow' | 'week' | { monday: string }): Promise<DiaryHomework[]> {
  if (!o.classId) return [];
  const today = o.student.today;
  const dueDates =
    typeof range === 'object'
      ? [0, 1, 2, 3, 4, 5, 6].map((d) => addDays(range.monday, d))
      : range === 'tomorrow'
        ? [addDays(today, 1)]
        : [1, 2, 3, 4, 5, 6, 7].map((d) => addDays(today, d));
  const from = dueDates[0] as string;
  const to = dueDates[dueDates.length - 1] as string;
  const days = await daysOf(db, o, dueDates);
  const lessons = await db.models.Lesson.find(
    { classId: o.classId, date: { $gte: addDays(from < today ? from : today, -60), $lte: to } },
    { groupId: 1, subjectId: 1, date: 1, lessonNo: 1, homework: 1, status: 1 },
  ).lean();
  const mine = lessons
    .filter((l) => inGroupOf(o, l.groupId) && l.status !== 'cancelled')
    .sort((a, b) => a.date.localeCompare(b.date) || (a.lessonNo ?? 0) - (b.lessonNo ?? 0));
  const names = await subjectNames(
    db,
    o.schoolId,
    mine.map((l) => String(l.subjectId)),
  );
  /** Homework set before due dates were stored: due at the first lesson of the subject after it, if none came between. */
  const legacyDue = (given: (typeof mine)[number]): string | undefined => {
    const subject = String(given.subjectId);
    for (const day of days) {
      if (day.date <= given.date) continue;
      if (mine.some((l) => String(l.subjectId) === subject && l.date > given.date && l.date < day.date)) return undefined;
      if (day.lessons.some((l) => !l.cancelled && l.subjectId === subject)) return day.date;
    }
    return undefined;
  };
  const items: DiaryHomework[] = [];
  for (const given of mine) {
    const hw = given.homework;
    if (!hw?.text && !hw?.attachments?.length) continue;
    const dueOn = hw.dueOn ?? legacyDue(given);
    if (!dueOn || dueOn < from || dueOn > to) continue;
    items.push({
      dueOn,
      subject: names.get(String(given.subjectId)) ?? '—',
      text: hw.text ?? '',
      attachments: (hw.attachments ?? []).map((a) => ({
        kind: a.kind as Attachment['kind'],
        fileId: a.fileId,
        name: a.name ?? undefined,
      })),
      lessonId: String(given._id),
      givenOn: given.date,
    });
  }
  return items.sort((a, b) => a.dueOn.localeCompare(b.dueOn));
}

/** The attachments of one lesson's homework, for a reader of a student of that lesson (re-sent by file_id). */
export async function homeworkAttachments(
  db: Db,
  actor: Actor,
  studentId: string,
  lessonId: string,
  now: Date,
): Promise<Attachment[]> {
  const o = await openStudent(db, actor, studentId, now);
  const lesson = await db.models.Lesson.findOne(
    { _id: toObjectId(lessonId), schoolId: o.schoolId },
    { classId: 1, groupId: 1, homework: 1 },
  ).lean();
  // The lesson must be one of this student's: a forged lesson id shows nothing.
  if (!lesson || !o.classId || String(lesson.classId) !== String(o.classId) || !inGroupOf(o, lesson.groupId)) {
    throw new AccessDenied();
  }
  return (lesson.homework?.attachments ?? []).map((a) => ({
    kind: a.kind as Attachment['kind'],
    fileId: a.fileId,
    name: a.name ?? undefined,
  }));
}

// ───────────────────────────── attendance, topics ─────────────────────────────

export interface DiaryAbsence {
  date: string;
  lessonNo?: number;
  subject: string;
  code: string;
}

export interface AttendanceView {
  student: DiaryStudent;
  period?: Period;
  from: string;
  to: string;
  absences: DiaryAbsence[];
  counts: Record<string, number>;
}

/** Absences of the current period (or of `span`: the Mini App's calendar) with their reasons (R19, R20). */
export async function diaryAttendance(
  db: Db,
  actor: Actor,
  studentId: string,
  now: Date,
  span?: { startsOn: string; endsOn: string },
): Promise<AttendanceView> {
  const o = await openStudent(db, actor, studentId, now);
  const period = span ? undefined : await currentPeriod(db, o.schoolId, o.student.today, o.student.grade);
  const range = span ?? period ?? fallbackPeriod(o.student.today);
  const absences = await db.models.Absence.find(
    { studentId: o.id, date: { $gte: range.startsOn, $lte: range.endsOn } },
    { lessonId: 1, date: 1, code: 1 },
  ).lean();
  const lessons = absences.length
    ? await db.models.Lesson.find({ _id: { $in: absences.map((a) => a.lessonId) } }, { subjectId: 1, lessonNo: 1 }).lean()
    : [];
  const byId = new Map(lessons.map((l) => [String(l._id), l]));
  const names = await subjectNames(
    db,
    o.schoolId,
    lessons.map((l) => String(l.subjectId)),
  );
  const counts: Record<string, number> = { Н: 0, Б: 0, У: 0 };
  const list = absences
    .map((a) => {
      const l = byId.get(String(a.lessonId));
      counts[a.code] = (counts[a.code] ?? 0) + 1;
      return {
        date: a.date,
        lessonNo: l?.lessonNo ?? undefined,
        subject: l ? (names.get(String(l.subjectId)) ?? '—') : '—',
        code: a.code,
      };
    })
    .sort((a, b) => b.date.localeCompare(a.date) || (a.lessonNo ?? 0) - (b.lessonNo ?? 0));
  return { student: o.student, period, from: range.startsOn, to: range.endsOn, absences: list, counts };
}

export interface TopicsView {
  student: DiaryStudent;
  days: DiaryDay[];
}

/** What was covered (R10, R24): lesson topics of the last seven days, newest first. */
export async function diaryTopics(db: Db, actor: Actor, studentId: string, now: Date): Promise<TopicsView> {
  const o = await openStudent(db, actor, studentId, now);
  const dates = [0, 1, 2, 3, 4, 5, 6].map((d) => addDays(o.student.today, -d));
  const days = (await daysOf(db, o, [...dates].reverse()))
    .map((d) => ({ ...d, lessons: d.lessons.filter((l) => l.topic) }))
    .filter((d) => d.lessons.length > 0)
    .reverse();
  return { student: o.student, days };
}
