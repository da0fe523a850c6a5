import type { Hono } from 'hono';
import { z } from 'zod';
import { diaryAttendance, homeworkOf, marksOf } from '../../domain/diary/diary.js';
import { openStudent, type Period } from '../../domain/diary/reader.js';
import { currentYear, periodsOf } from '../../domain/school/academic-year.js';
import { addDays, daysBetween, isLocalDate, weekStart } from '../../domain/shared/calendar.js';
import { DomainError } from '../../domain/shared/errors.js';
import { periodLabel } from '../labels.js';
import type {
  ApiAbsenceCode,
  AttendanceDay,
  ChildAttendanceResponse,
  ChildHomeworkResponse,
  ChildMarksResponse,
  ChildPeriodItem,
} from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const date = z.string().refine(isLocalDate);
const ATTENDANCE_MAX_DAYS = 400;

/**
 * A family's screens (issue 15): the child's marks over time, attendance, the week's homework.
 * Every one opens the student through the diary's openStudent (R4: a parent reads only their own
 * children, after consent R32), as the bot's /diary does.
 */
export function childrenRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  const { db } = deps;

  api.get('/children/:studentId/marks', async (c) => {
    const { actor, t } = c.get('session');
    const o = await openStudent(db, actor, id.parse(c.req.param('studentId')), deps.now());
    const code = z.string().max(8).optional().parse(c.req.query('period'));
    const year = await currentYear(db, o.schoolId, o.student.today, { archived: true, orUpcoming: true });
    const periods = year ? periodsOf(year, o.student.grade) : [];
    const picked = code ? periods.find((p) => p.code === code) : undefined;
    if (code && !picked) throw new DomainError('marks.badPeriod');
    const chosen: Period | undefined =
      picked && year ? { yearId: year.id, code: picked.code, kind: picked.kind, startsOn: picked.startsOn, endsOn: picked.endsOn } : undefined;
    const view = await marksOf(db, o, undefined, chosen);
    const item = (p: { code: string; startsOn: string; endsOn: string }): ChildPeriodItem => ({
      code: p.code,
      name: periodLabel(t, p.code),
      from: p.startsOn,
      to: p.endsOn,
      current: p.startsOn <= o.student.today && o.student.today <= p.endsOn,
    });
    const body: ChildMarksResponse = {
      student: { id: o.student.studentId, name: o.student.fullName, className: o.student.className ?? '' },
      period: view.period ? item(view.period) : null,
      subjects: view.subjects.map((s) => ({
        subjectId: s.subjectId,
        name: s.subject,
        points: s.marks.map((m) => ({ date: m.date, value: m.value, weight: m.weight })),
        average: s.average === undefined ? null : Math.round(s.average * 100) / 100,
      })),
      periods: periods.map(item),
    };
    return c.json(body);
  });

  api.get('/children/:studentId/attendance', async (c) => {
    const { actor } = c.get('session');
    const q = z.object({ from: date.optional(), to: date.optional() }).parse(c.req.query());
    const span =
      q.from && q.to && q.from <= q.to && daysBetween(q.from, q.to) <= ATTENDANCE_MAX_DAYS
        ? { startsOn: q.from, endsOn: q.to }
        : undefined;
    if ((q.from || q.to) && !span) throw new DomainError('journal.badRange');
    const view = await diaryAttendance(db, actor, id.parse(c.req.param('studentId')), deps.now(), span);
    const byDate = new Map<string, AttendanceDay>();
    for (const a of [...view.absences].sort((x, y) => x.date.localeCompare(y.date) || (x.lessonNo ?? 0) - (y.lessonNo ?? 0))) {
      const day = byDate.get(a.date) ?? { date: a.date, absences: [] };
      day.absences.push({ subject: a.subject, code: a.code as ApiAbsenceCode });
      byDate.set(a.date, day);
    }
    const body: ChildAttendanceResponse = {
      from: view.from,
      to: view.to,
      days: [...byDate.values()],
      totals: { Н: view.counts.Н ?? 0, Б: view.counts.Б ?? 0, У: view.counts.У ?? 0 },
    };
    return c.json(body);
  });

  api.get('/children/:studentId/homework', async (c) => {
    const { actor } = c.get('session');
    const o = await openStudent(db, actor, id.parse(c.req.param('studentId')), deps.now());
    const monday = weekStart(date.optional().parse(c.req.query('week')) ?? o.student.today);
    const items = await homeworkOf(db, o, { monday });
    const body: ChildHomeworkResponse = {
      week: { from: monday, to: addDays(monday, 6) },
      items: items.map((h) => ({ date: h.dueOn, subject: h.subject, text: h.text, files: h.attachments.length })),
    };
    return c.json(body);
  });
}
