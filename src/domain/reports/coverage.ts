import type { Db } from '../../db/index.js';
import { addDays, isoWeekday, type LocalDate } from '../shared/calendar.js';
import { groupBy, namesOf, type ReportData, teacherNames } from './data.js';
import type { CoverageFigures, CoverageRow, ReportScope } from './types.js';

/**
 * Curriculum coverage (R27): per class (or group) × subject × teacher, the lessons held against
 * the plan's hours (КТП, R8–R10) and the load's hours (R9), up to today.
 * - held: lessons that exist in the journal and were not cancelled. Lessons are created when
 *   someone opens the day, so a timetable day nobody opened is not held; `timetabled` says how
 *   many the timetable had, so the two can be told apart.
 * - the load's hours are per year: prorated by school days (Monday–Saturday outside holidays)
 *   of the span up to today against the year's school days.
 * - the plan's hours: when the scope is a period and the plan marks its topics with periods, the
 *   hours of that period's topics prorated to the part of the period that has passed; otherwise the
 *   plan's total prorated like the load.
 */

const round1 = (x: number) => Math.round(x * 10) / 10;

function schoolDays(year: Pick<ReportScope, 'holidays'> & { startsOn: LocalDate; endsOn: LocalDate }, from: LocalDate, to: LocalDate): LocalDate[] {
  const days: LocalDate[] = [];
  const start = from > year.startsOn ? from : year.startsOn;
  const end = to < year.endsOn ? to : year.endsOn;
  for (let d = start; d <= end; d = addDays(d, 1)) {
    if (isoWeekday(d) === 7) continue;
    if (year.holidays.some((h) => h.startsOn <= d && d <= h.endsOn)) continue;
    days.push(d);
  }
  return days;
}

const keyOf = (r: { classId: string; groupId?: string | null; subjectId: string }) => `${r.classId}|${r.groupId ?? ''}|${r.subjectId}`;

export async function coverageFigures(db: Db, data: ReportData): Promise<CoverageFigures> {
  const { scope } = data;
  const year = { startsOn: scope.yearStartsOn, endsOn: scope.yearEndsOn, holidays: scope.holidays };
  const yearDays = schoolDays(year, year.startsOn, year.endsOn).length;
  const spanDays = data.until >= scope.from ? schoolDays(year, scope.from, data.until) : [];
  const yearShare = yearDays > 0 ? spanDays.length / yearDays : 0;
  const periodDays = schoolDays(year, scope.from, scope.to).length;
  const periodShare = periodDays > 0 ? spanDays.length / periodDays : 0;

  const rows = new Map<string, CoverageRow & { hoursPerYear?: number }>();
  const rowOf = (r: { classId: string; groupId?: string; subjectId: string; teacherId: string }) => {
    const key = `${keyOf(r)}|${r.teacherId}`;
    let row = rows.get(key);
    if (!row) {
      const group = r.groupId ? data.groups.get(r.groupId) : undefined;
      row = {
        classId: r.classId,
        className: data.classes.get(r.classId)?.name ?? '—',
        ...(r.groupId ? { groupId: r.groupId, groupName: group?.name ?? '—' } : {}),
        subjectId: r.subjectId,
        subjectName: data.subjects.get(r.subjectId)?.name ?? '—',
        teacherId: r.teacherId,
        teacherName: '—',
        held: 0,
        timetabled: 0,
        planHours: null,
        planBasis: 'none',
        loadHours: null,
        diffPlan: null,
        diffLoad: null,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const l of data.load) {
    const row = rowOf(l);
    row.hoursPerYear = (row.hoursPerYear ?? 0) + l.hoursPerYear;
  }
  for (const l of data.lessons) if (!l.cancelled) rowOf(l).held += 1;
  const byWeekday = groupBy(data.slots, (s) => String(s.weekday));
  for (const d of spanDays) {
    for (const s of byWeekday.get(String(isoWeekday(d))) ?? []) {
      if (s.validFrom > d || (s.validTo && s.validTo < d)) continue;
      rowOf(s).timetabled += 1;
    }
  }
  const plans = groupBy(data.plan, keyOf);
  const known = await teacherNames(db, data);
  const others = [...rows.values()].map((r) => r.teacherId).filter((id) => !known.has(id));
  const names = others.length ? new Map([...known, ...(await namesOf(db, scope.schoolId, others))]) : known;
  const out: CoverageRow[] = [];
  for (const { hoursPerYear, ...row } of rows.values()) {
    row.teacherName = names.get(row.teacherId) ?? '—';
    if (hoursPerYear !== undefined) row.loadHours = round1(hoursPerYear * yearShare);
    const items = plans.get(keyOf(row)) ?? [];
    const ofPeriod = scope.period ? items.filter((i) => i.periodCode === scope.period?.code) : [];
    if (ofPeriod.length > 0) {
      row.planHours = round1(ofPeriod.reduce((a, i) => a + i.hours, 0) * periodShare);
      row.planBasis = 'period';
    } else if (items.length > 0) {
      row.planHours = round1(items.reduce((a, i) => a + i.hours, 0) * yearShare);
      row.planBasis = 'prorated';
    }
    row.diffPlan = row.planHours === null ? null : round1(row.held - row.planHours);
    row.diffLoad = row.loadHours === null ? null : round1(row.held - row.loadHours);
    out.push(row);
  }
  out.sort((a, b) => a.className.localeCompare(b.className, 'ru') || a.subjectName.localeCompare(b.subjectName, 'ru') || (a.groupName ?? '').localeCompare(b.groupName ?? '', 'ru'));
  return { yearShare: Math.round(yearShare * 10000) / 10000, rows: out };
}
