import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { LessonDoc } from '../../db/models/journal.js';
import type { Actor } from '../school/actor.js';
import { loadSchoolRules, todayOf } from '../school/rules.js';
import { isoWeekday, type LocalDate } from '../shared/calendar.js';
import { AccessDenied } from '../shared/errors.js';
import { classNameOn } from '../year/history.js';
import { type DayLessons, materializeLessons, type SlotLike, summaryOf } from './lessons.js';

/**
 * /today (issue 12: round trips): a teacher's lessons of a day — own slots, substitutions to them,
 * granted classes (R7) — in three round trips once the day's lessons exist: (1) the access grants,
 * the active years (holidays) and the substitutions of the date, in one aggregation over the
 * school; (2) the timetable slots; (3) the lessons with their class, group and subject names and
 * mark counts, in one aggregation. A slot without its lesson yet (the first open of the day), or
 * with a substitution changed since, is materialized (lessons.ts) and (3) is read again.
 */
type Id = Types.ObjectId;
type Cond = Record<string, unknown>;

const isNull = (expr: string): Cond => ({ $eq: [{ $ifNull: [expr, null] }, null] });
const lookup = (from: string, let_: Record<string, unknown>, conds: Cond[], as: string, project: Record<string, 1>) => ({
  $lookup: { from, let: let_, pipeline: [{ $match: { $expr: { $and: conds } } }, { $project: project }], as },
});

interface DayFacts {
  grants: Array<{ classId: Id; subjectId?: Id | null }>;
  years: Array<{ startsOn: string; endsOn: string; holidays?: Array<{ startsOn: string; endsOn: string }> | null }>;
  subs: Array<{ slotId: Id; substituteId?: Id | null }>;
}

function dayFacts(db: Db, schoolId: Id, me: Id, date: LocalDate) {
  const v = { sid: '$_id' };
  return db.models.School.aggregate<DayFacts>([
    { $match: { _id: schoolId } },
    { $project: { _id: 1 } },
    lookup(
      'access_grants',
      v,
      [{ $eq: ['$schoolId', '$$sid'] }, { $eq: ['$teacherId', me] }, { $lte: ['$from', date] }, { $gte: ['$to', date] }, isNull('$revokedAt')],
      'grants',
      { classId: 1, subjectId: 1 },
    ),
    lookup('academic_years', v, [{ $eq: ['$schoolId', '$$sid'] }, { $eq: ['$status', 'active'] }], 'years', { startsOn: 1, endsOn: 1, holidays: 1 }),
    lookup('substitutions', v, [{ $eq: ['$schoolId', '$$sid'] }, { $eq: ['$date', date] }], 'subs', { slotId: 1, substituteId: 1 }),
  ]);
}

/** academic-year.ts isSchoolDay on the years read: no active year → every timetable day. */
function schoolDay(years: DayFacts['years'], date: LocalDate): boolean {
  if (years.length === 0) return true;
  const year = years.find((y) => y.startsOn <= date && date <= y.endsOn);
  return Boolean(year) && !(year?.holidays ?? []).some((h) => h.startsOn <= date && date <= h.endsOn);
}

type DayLesson = LessonDoc & {
  d_class: Array<{ name: string; history?: Array<{ name?: string | null; endsOn?: string | null }> }>;
  d_group: Array<{ name: string }>;
  d_subject: Array<{ name: string }>;
  d_marks: unknown[];
};

function dayLessons(db: Db, schoolId: Id, date: LocalDate, or: Cond[]) {
  return db.models.Lesson.aggregate<DayLesson>([
    { $match: { schoolId, date, $or: or } },
    lookup('classes', { id: '$classId' }, [{ $eq: ['$_id', '$$id'] }], 'd_class', { name: 1, history: 1 }),
    lookup('groups', { id: '$groupId' }, [{ $eq: ['$_id', '$$id'] }], 'd_group', { name: 1 }),
    lookup('subjects', { id: '$subjectId' }, [{ $eq: ['$_id', '$$id'] }], 'd_subject', { name: 1 }),
    lookup('marks', { id: '$_id', sid: '$schoolId' }, [{ $eq: ['$schoolId', '$$sid'] }, { $eq: ['$lessonId', '$$id'] }, isNull('$deletedAt')], 'd_marks', { _id: 1 }),
  ]);
}

export async function lessonsForTeacher(db: Db, actor: Actor, date: LocalDate, now: Date): Promise<DayLessons> {
  const me = actor.personId;
  if (!me || !actor.roles.has('teacher')) throw new AccessDenied();
  const [rules, [facts]] = await Promise.all([loadSchoolRules(db, actor.schoolId), dayFacts(db, actor.schoolId, me, date)]);
  const { grants = [], years = [], subs = [] } = facts ?? {};
  const granted = grants.map((g) => (g.subjectId ? { classId: g.classId, subjectId: g.subjectId } : { classId: g.classId }));
  const or: Cond[] = [{ teacherId: me }, { substituteId: me }, ...granted];
  let slots: SlotLike[] = [];
  if (schoolDay(years, date)) {
    const subsToMe = subs.filter((s) => String(s.substituteId) === String(me)).map((s) => s.slotId);
    const slotOr: Cond[] = [{ teacherId: me }, ...(subsToMe.length ? [{ _id: { $in: subsToMe } }] : []), ...granted];
    slots = (await db.models.TimetableSlot.find({
      $and: [
        { schoolId: actor.schoolId, weekday: isoWeekday(date), validFrom: { $lte: date }, $or: [{ validTo: null }, { validTo: { $gte: date } }] },
        { $or: slotOr },
      ],
    }).lean()) as SlotLike[];
    slots = slots.filter((s) => !s.draft);
    if (slots.length) or.push({ slotId: { $in: slots.map((s) => s._id) } });
  }
  let lessons = await dayLessons(db, actor.schoolId, date, or);
  const subOf = new Map(subs.map((s) => [String(s.slotId), String(s.substituteId ?? '')]));
  const bySlot = new Map(lessons.map((l) => [String(l.slotId), l]));
  const stale = slots.some((s) => {
    const l = bySlot.get(String(s._id));
    return !l || String(l.substituteId ?? '') !== (subOf.get(String(s._id)) ?? '');
  });
  if (stale) {
    await materializeLessons(db, date, slots);
    lessons = await dayLessons(db, actor.schoolId, date, or);
  }
  // Only the actor's lessons: a slot's lesson read for materializing may since belong to a substitute.
  const mine = lessons.filter(
    (l) =>
      String(l.teacherId) === String(me) ||
      String(l.substituteId ?? '') === String(me) ||
      grants.some((g) => String(g.classId) === String(l.classId) && (!g.subjectId || String(g.subjectId) === String(l.subjectId))),
  );
  const today = todayOf(rules, now);
  return {
    date,
    today,
    lessons: mine
      .map((l) =>
        summaryOf(l, rules, today, String(me), {
          className: l.d_class[0] ? classNameOn(l.d_class[0], l.date) : '?',
          groupName: l.d_group[0]?.name,
          subjectName: l.d_subject[0]?.name ?? '?',
          marksCount: l.d_marks.length,
        }),
      )
      .sort((a, b) => (a.lessonNo ?? 99) - (b.lessonNo ?? 99) || a.className.localeCompare(b.className, 'ru')),
  };
}
