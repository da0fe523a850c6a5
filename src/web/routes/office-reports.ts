import type { Hono } from 'hono';
import { z } from 'zod';
import { buildReport, type FillingCell, type ProgressCell, type Report } from '../../domain/reports/index.js';
import { currentYear, periodsOf } from '../../domain/school/academic-year.js';
import { loadSchoolRules, todayOf } from '../../domain/school/rules.js';
import { AccessDenied } from '../../domain/shared/errors.js';
import { periodLabel } from '../labels.js';
import type { ReportFigureRow, ReportFillingRow, ReportOptionsResponse, ReportResponse } from '../api-types.js';
import type { WebDeps, WebEnv } from '../context.js';

const id = z.string().regex(/^[0-9a-f]{24}$/i);
const reportQuery = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('school'), period: z.string().regex(/^[a-z0-9]{1,8}$/).optional() }),
  z.object({ kind: z.literal('class'), classId: id, period: z.string().regex(/^[a-z0-9]{1,8}$/).optional() }),
]);

const pct = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 1000) / 10 : null);

const figures = (id: string, name: string, c: ProgressCell): ReportFigureRow => ({
  id,
  name,
  successPct: c.successPct,
  qualityPct: c.qualityPct,
  sou: c.sou,
  averageMark: c.averageMark,
});

const filling = (name: string, c: FillingCell): ReportFillingRow => ({
  name,
  held: c.held,
  attendancePct: pct(c.withAttendance, c.held),
  topicPct: pct(c.withTopic, c.held),
  homeworkPct: pct(c.withHomework, c.held),
  marks: c.marks,
  onTimePct: pct(c.marksOnTime, c.marks),
});

/**
 * The report figures with charts for the office (issue 15, R26–R28): a class (its class teacher, the
 * deputy, the admin) or the school (the deputy, the admin). Who sees what is decided by the reports'
 * resolveReportScope, exactly as for the bot's summaries and the documents; this only shapes the figures.
 */
export function reportRoutes(api: Hono<WebEnv>, deps: WebDeps): void {
  const { db } = deps;

  api.get('/reports/options', async (c) => {
    const { actor } = c.get('session');
    const leads = actor.roles.has('admin') || actor.roles.has('deputy');
    if (!leads && actor.classTeacherOf.size === 0) throw new AccessDenied();
    const classes = await db.models.SchoolClass.find(
      { schoolId: actor.schoolId, closedAt: null, ...(leads ? {} : { _id: { $in: [...actor.classTeacherOf] } }) },
      { name: 1, grade: 1, letter: 1 },
    ).lean();
    const body: ReportOptionsResponse = {
      school: leads,
      classes: classes.sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru')).map((k) => ({ id: String(k._id), name: k.name })),
    };
    return c.json(body);
  });

  api.get('/reports', async (c) => {
    const { actor, t } = c.get('session');
    const q = reportQuery.parse(c.req.query());
    const request = q.kind === 'school' ? { kind: 'school' as const, periodCode: q.period } : { kind: 'class' as const, classId: q.classId, periodCode: q.period };
    const report = await buildReport(db, actor, request, deps.now());
    const school = q.kind === 'school' ? await db.models.School.findById(actor.schoolId, { name: 1 }).lean() : null;
    const today = todayOf(await loadSchoolRules(db, actor.schoolId), deps.now());
    const year = await currentYear(db, actor.schoolId, today);
    const grade = q.kind === 'class' ? report.scope.classes[0]?.grade : undefined;
    const body: ReportResponse = {
      title: q.kind === 'school' ? (school?.name ?? '') : (report.scope.classes[0]?.name ?? ''),
      period: report.scope.period ? { code: report.scope.period.code, name: periodLabel(t, report.scope.period.code) } : null,
      periods: (year ? periodsOf(year, grade) : []).map((p) => ({ code: p.code, name: periodLabel(t, p.code) })),
      from: report.scope.from,
      to: report.scope.to,
      source: report.progress.source,
      ...shape(report, q.kind),
    };
    return c.json(body);
  });
}

function shape(r: Report, kind: 'school' | 'class'): Pick<ReportResponse, 'overall' | 'rows' | 'attendance' | 'attendanceRows' | 'filling' | 'fillingRows'> {
  const total = r.attendance.total;
  const attendanceRows =
    kind === 'school'
      ? r.attendance.classes.map((a) => ({ id: a.id, name: a.name, missedPct: a.missedPct, missed: a.missedLessons.total }))
      : r.attendance.students.map((s) => ({ id: s.studentId, name: s.name, missedPct: pct(s.missedLessons.total, s.lessons), missed: s.missedLessons.total }));
  return {
    overall: figures('overall', '', r.progress.overall),
    rows:
      kind === 'school'
        ? r.progress.classes.map((u) => figures(u.id, u.name, u.overall))
        : r.progress.subjects.map((s) => figures(s.subjectId, s.subjectName, s)),
    attendance: {
      lessons: total.lessons,
      missed: total.missedLessons.total,
      missedPct: total.missedPct,
      byReason: { Н: total.missedLessons.Н, Б: total.missedLessons.Б, У: total.missedLessons.У },
    },
    attendanceRows: attendanceRows.sort((a, b) => (b.missedPct ?? 0) - (a.missedPct ?? 0)),
    filling: filling('', r.filling.total),
    fillingRows: r.filling.teachers.map((x) => filling(x.teacherName, x)).sort((a, b) => (a.attendancePct ?? 0) - (b.attendancePct ?? 0)),
  };
}
