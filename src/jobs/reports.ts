import type { Agenda } from 'agenda';
import { type Api, InputFile } from 'grammy';
import type { Types } from 'mongoose';
import type { Locale } from '../config.js';
import { periodLabel } from '../documents/reports/text.js';
import { renderReport } from '../documents/reports/by-kind.js';
import { buildReportData, type ReportKind, type ReportParams, keyFigures } from '../domain/reports/catalog.js';
import { claimTask, releaseTask, settleTask } from '../domain/reports/tasks.js';
import { activeYears } from '../domain/school/academic-year.js';
import { systemActor } from '../domain/school/actor.js';
import { settingsOf, todayOf } from '../domain/school/rules.js';
import { addDays, isoWeekday, type LocalDate, localTimeOf, minutesOf, weekStart } from '../domain/shared/calendar.js';
import type { Role } from '../domain/shared/vocabulary.js';
import { escapeHtml, type Translate, translator } from '../i18n.js';
import { type RunDeps, summaryLines } from '../bot/features/reports/requests.js';

/**
 * The automatic reports (issue 14, R25–R28), each turned off per school by the admin
 * (settings.reports.weekly / monthly / periodEnd; `school settings --weekly-reports off`):
 * - weekly, Friday from 15:00 school time: each class teacher gets the class's journal filling and
 *   attendance of the week, and the weekly-letter PDF with the pages of the families that have not
 *   joined the bot or chose paper (R25, R26);
 * - monthly, from the 1st at 09:00: each deputy gets the previous month's filling and coverage by
 *   teacher as XLSX (R27);
 * - after each period's end (within 14 days, from 09:00): the admin and the deputies get the
 *   period's progress by class and grade level as XLSX (R28).
 * Every send is claimed in report_tasks under school + kind + week/month/period + recipient, so a
 * job that runs twice (or in two processes) sends once. Files go through the bot's Api (the outbox
 * sends files by Telegram file_id only): the Api carries the shared 30-a-second limiter and the
 * retry on 429, and the sends here are sequential.
 */
export const REPORT_JOBS = {
  weekly: 'reports:weekly',
  monthly: 'reports:monthly',
  periodEnd: 'reports:period-end',
} as const;

const WEEKLY_FROM = '15:00';
const MORNING = '09:00';
const UNTIL = '21:00';
const PERIOD_GRACE_DAYS = 14;

type Id = Types.ObjectId;
type School = { _id: Id; timezone: string; locale?: string | null; settings?: Parameters<typeof settingsOf>[0]['settings'] };
type Recipient = { _id: Id; telegramId?: number | null };

const inWindow = (now: Date, tz: string, from: string) => {
  const m = minutesOf(localTimeOf(now, tz));
  return m >= minutesOf(from) && m < minutesOf(UNTIL);
};

async function localeOf(deps: RunDeps, telegramId: number, school: School): Promise<Locale> {
  const account = await deps.db.models.Account.findOne({ telegramId }, { locale: 1 }).lean();
  return (account?.locale ?? (school.locale === 'en' ? 'en' : 'ru')) as Locale;
}

interface Piece {
  kind: ReportKind;
  params: ReportParams;
  /** No format: the key figures as text only. */
  format?: 'pdf' | 'xlsx';
  /** Send the file only when it has pages (the weekly letters). */
  onlyIfAny?: boolean;
}

/**
 * Claims `key`, builds the pieces as the school (system actor), sends the text and the files.
 * Returns whether it was sent now. A failure frees the key for the next run.
 */
async function sendOnce(deps: RunDeps, api: Api, school: School, to: Recipient, key: string, title: (t: Translate) => string, pieces: Piece[]): Promise<boolean> {
  const chatId = to.telegramId;
  const base = { type: 'scheduled' as const, schoolId: String(school._id), personId: String(to._id) };
  if (!chatId) {
    if (await claimTask(deps.db, { _id: key, ...base, status: 'skipped' }, deps.now())) return false;
    return false;
  }
  if (!(await claimTask(deps.db, { _id: key, ...base, status: 'building' }, deps.now()))) return false;
  try {
    const locale = await localeOf(deps, chatId, school);
    const t = translator(deps.i18n, locale);
    const actor = systemActor(school._id, 'job');
    const lines = [title(t)];
    const files: InputFile[] = [];
    for (const piece of pieces) {
      const data = await buildReportData(deps.db, actor, piece.kind, piece.params, deps.now());
      if (data.kind === 'weekly-letters') {
        const n = data.sheet.letters.length;
        lines.push(n ? t('reportsUi.auto.weeklyLetters', { n }) : t('reportsUi.auto.noLetters'));
        if (piece.onlyIfAny && n === 0) continue;
      } else {
        lines.push(`<b>${escapeHtml(t(`reportsUi.kinds.${piece.kind}`))}</b>`, ...summaryLines(t, keyFigures(data)));
      }
      if (!piece.format) continue;
      const file = await renderReport(data, piece.format, t, locale);
      files.push(new InputFile(file.data, file.name));
    }
    lines.push('', `<i>${escapeHtml(t('reportsUi.auto.off'))}</i>`);
    await api.sendMessage(chatId, lines.join('\n'), { parse_mode: 'HTML' });
    for (const file of files) await api.sendDocument(chatId, file);
    await settleTask(deps.db, key, 'sent');
    return true;
  } catch (err) {
    deps.logger.warn({ err, key }, 'Scheduled report not sent');
    await releaseTask(deps.db, key);
    return false;
  }
}

async function schoolsWith(deps: RunDeps, switchName: 'weekly' | 'monthly' | 'periodEnd'): Promise<School[]> {
  const schools = (await deps.db.models.School.find({}, { timezone: 1, locale: 1, settings: 1 }).lean()) as School[];
  return schools.filter((s) => settingsOf(s).reports[switchName]);
}

/** Friday afternoon: each class teacher, their class's week (R25, R26). */
export async function runWeeklyReports(deps: RunDeps, api: Api): Promise<number> {
  const now = deps.now();
  let sent = 0;
  for (const school of await schoolsWith(deps, 'weekly')) {
    const today = todayOf({ timezone: school.timezone }, now);
    if (isoWeekday(today) !== 5 || !inWindow(now, school.timezone, WEEKLY_FROM)) continue;
    const monday = weekStart(today);
    const classes = await deps.db.models.SchoolClass.find({ schoolId: school._id, closedAt: null, classTeacherId: { $ne: null } }, { name: 1, classTeacherId: 1 }).lean();
    for (const cls of classes) {
      const teacher = await deps.db.models.Person.findOne({ _id: cls.classTeacherId, active: { $ne: false } }, { telegramId: 1 }).lean();
      if (!teacher) continue;
      const classId = String(cls._id);
      const week = { scope: 'class' as const, classId, from: monday, to: today };
      const ok = await sendOnce(deps, api, school, teacher, `wk:${classId}:${monday}:${teacher._id}`, (t) => t('reportsUi.auto.weekly', { className: escapeHtml(cls.name) }), [
        { kind: 'filling', params: week },
        { kind: 'attendance', params: week },
        { kind: 'weekly-letters', params: { scope: 'class', classId, from: monday }, format: 'pdf', onlyIfAny: true },
      ]);
      if (ok) sent++;
    }
  }
  if (sent) deps.logger.info({ sent }, 'Weekly reports sent');
  return sent;
}

const staff = (deps: RunDeps, schoolId: Id, roles: Role[]) =>
  deps.db.models.Person.find({ schoolId, roles: { $in: roles }, active: { $ne: false } }, { telegramId: 1 }).lean<Recipient[]>();

/** From the 1st of a month: each deputy, the previous month's filling and coverage (R27). */
export async function runMonthlyReports(deps: RunDeps, api: Api): Promise<number> {
  const now = deps.now();
  let sent = 0;
  for (const school of await schoolsWith(deps, 'monthly')) {
    const today = todayOf({ timezone: school.timezone }, now);
    if (!inWindow(now, school.timezone, MORNING)) continue;
    const to = addDays(`${today.slice(0, 7)}-01`, -1);
    const from: LocalDate = `${to.slice(0, 7)}-01`;
    const span = { scope: 'school' as const, from, to };
    for (const deputy of await staff(deps, school._id, ['deputy'])) {
      const ok = await sendOnce(deps, api, school, deputy, `mo:${school._id}:${from.slice(0, 7)}:${deputy._id}`, (t) => t('reportsUi.auto.monthly', { month: from.slice(0, 7) }), [
        { kind: 'filling', params: span, format: 'xlsx' },
        { kind: 'coverage', params: span, format: 'xlsx' },
      ]);
      if (ok) sent++;
    }
  }
  if (sent) deps.logger.info({ sent }, 'Monthly reports sent');
  return sent;
}

/** After a period ends: the admin and the deputies, the period's figures by class and grade level (R28). */
export async function runPeriodEndReports(deps: RunDeps, api: Api): Promise<number> {
  const now = deps.now();
  let sent = 0;
  for (const school of await schoolsWith(deps, 'periodEnd')) {
    const today = todayOf({ timezone: school.timezone }, now);
    if (!inWindow(now, school.timezone, MORNING)) continue;
    for (const year of await activeYears(deps.db, school._id)) {
      const ended = year.periods.filter((p) => p.endsOn < today && today <= addDays(p.endsOn, PERIOD_GRACE_DAYS));
      for (const p of ended) {
        const params = { scope: 'school' as const, periodCode: p.code };
        for (const person of await staff(deps, school._id, ['admin', 'deputy'])) {
          const key = `pe:${school._id}:${year.id}:${p.code}:${person._id}`;
          const title = (t: Translate) => t('reportsUi.auto.period', { period: escapeHtml(periodLabel(t, p.code, 'full') || year.name) });
          const ok = await sendOnce(deps, api, school, person, key, title, [
            { kind: 'progress', params, format: 'xlsx' },
            { kind: 'attendance', params, format: 'xlsx' },
          ]);
          if (ok) sent++;
        }
      }
    }
  }
  if (sent) deps.logger.info({ sent }, 'Period-end reports sent');
  return sent;
}

/** `api`: the bot's own (src/app.ts passes it): files go through its shared rate limit. */
export async function defineReportJobs(agenda: Agenda, deps: RunDeps, api: Api): Promise<void> {
  const withApi = (run: (d: RunDeps, api: Api) => Promise<number>) => async () => {
    await run(deps, api);
  };
  agenda.define(REPORT_JOBS.weekly, withApi(runWeeklyReports));
  agenda.define(REPORT_JOBS.monthly, withApi(runMonthlyReports));
  agenda.define(REPORT_JOBS.periodEnd, withApi(runPeriodEndReports));
  await agenda.every('15 minutes', REPORT_JOBS.weekly);
  await agenda.every('30 minutes', REPORT_JOBS.monthly);
  await agenda.every('30 minutes', REPORT_JOBS.periodEnd);
}
