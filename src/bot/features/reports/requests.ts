import { type Api, GrammyError, InputFile } from 'grammy';
import { Types } from 'mongoose';
import type { BotDeps } from '../../context.js';
import type { LOCALES, Locale } from '../../../config.js';
import { renderReport } from '../../../documents/reports/by-kind.js';
import { buildReportData, type KeyFigures, keyFigures, type ReportKind, type ReportParams } from '../../../domain/reports/catalog.js';
import { dropExhausted, heartbeat, type ReportTaskDoc, releaseTask, takeStale } from '../../../domain/reports/tasks.js';
import { type Actor, loadActor } from '../../../domain/school/actor.js';
import { DomainError } from '../../../domain/shared/errors.js';
import { escapeHtml, type Translate, translator } from '../../../i18n.js';

/**
 * A person's report built in the background (issue 14): the bot claims the request (a row in
 * report_tasks, domain/reports/tasks.ts), shows "⏳ Building… 0%" and calls `runReportRequest`
 * without waiting. It edits that ONE message as it goes (figures, file, sending), then replaces
 * it with the key figures and sends the file (sendDocument through the bot's Api: the outbox
 * sends files by Telegram file_id only, and this file is new; the bot's Api carries the shared
 * rate limiter and retries 429). The row is removed at the end, so the next request builds anew.
 *
 * A process stopped mid-way leaves the row `building` with an old heartbeat: the `reports:resume`
 * job (src/jobs/report-requests.ts) takes it over and builds it again (up to 3 attempts), so a
 * restart does not lose it. The bot side of a build lives here (it speaks to Telegram); the job
 * only schedules `resumeStaleRequests`.
 */
/** A heartbeat older than this means the process building it is gone. */
export const STALE_MS = 2 * 60_000;

export type RunDeps = Pick<BotDeps, 'db' | 'logger' | 'now' | 'i18n'>;

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined ? '—' : v.toFixed(digits));

/** The key figures as a few lines of HTML (the bot's answer, the scheduled reports' text). */
export function summaryLines(t: Translate, k: KeyFigures): string[] {
  const lines: string[] = [];
  if (k.progress) {
    const p = k.progress;
    lines.push(t('reportsUi.sum.progress', { success: fmt(p.successPct), quality: fmt(p.qualityPct), sou: fmt(p.sou), average: fmt(p.averageMark, 2) }));
    lines.push(t('reportsUi.sum.students', { students: p.students, assessed: p.assessed }));
  }
  if (k.attendance) {
    const a = k.attendance;
    lines.push(t('reportsUi.sum.attendance', { lessons: a.missedLessons, days: a.missedDays, pct: fmt(a.missedPct) }));
  }
  if (k.filling) {
    const f = k.filling;
    lines.push(
      t('reportsUi.sum.filling', { held: f.held, attendance: fmt(f.attendancePct), topic: fmt(f.topicPct), homework: fmt(f.homeworkPct), onTime: fmt(f.marksOnTimePct) }),
    );
  }
  if (k.coverage) lines.push(t('reportsUi.sum.coverage', { rows: k.coverage.rows, plan: k.coverage.behindPlan, load: k.coverage.behindLoad }));
  if (k.lessons !== undefined && !k.attendance) lines.push(t('reportsUi.sum.lessons', { n: k.lessons }));
  if (k.students !== undefined) lines.push(t('reportsUi.sum.pages', { n: k.students }));
  return lines;
}

export const progressText = (t: Translate, pct: number) => t('reportsUi.building', { pct });

async function edit(api: Api, chatId: number, messageId: number | undefined, text: string): Promise<void> {
  if (!messageId) return;
  try {
    await api.editMessageText(chatId, messageId, text, { parse_mode: 'HTML' });
  } catch (e) {
    if (!(e instanceof GrammyError)) throw e;
    // not modified / deleted by the person: the next step still answers
  }
}

/** The person's title line: "📊 Quarter report · 7А · 1st quarter". */
function titleOf(t: Translate, kind: ReportKind, data: Awaited<ReturnType<typeof buildReportData>>): string {
  const parts = [t(`reportsUi.kinds.${kind}`)];
  if ('sheet' in data) {
    parts.push(data.sheet.head.className);
    if (data.kind === 'report-card') parts.push(data.sheet.student.name);
    if (data.kind === 'class-journal') parts.push(data.sheet.subject.name);
  } else {
    const s = data.report.scope;
    parts.push(s.kind === 'school' ? t('reportsUi.scope.school') : s.kind === 'grade' ? t('reportsUi.scope.grade', { grade: s.grade }) : (s.classes[0]?.name ?? ''));
  }
  return `📊 <b>${escapeHtml(parts.filter(Boolean).join(' · '))}</b>`;
}

/** Builds, answers and frees the request. Never throws: every outcome is told to the person. */
export async function runReportRequest(deps: RunDeps, api: Api, task: ReportTaskDoc, given?: Actor): Promise<void> {
  const { db, logger } = deps;
  const t = translator(deps.i18n, (task.locale ?? 'ru') as Locale);
  const chatId = task.chatId ?? 0;
  const step = async (pct: number) => {
    await heartbeat(db, task._id, deps.now(), { progress: pct });
    await edit(api, chatId, task.messageId, progressText(t, pct));
  };
  try {
    const actor = given ?? (task.personId ? await loadActor(db, new Types.ObjectId(task.personId)) : undefined);
    if (!actor) throw new DomainError('reportsUi.gone');
    const kind = task.kind as ReportKind;
    await step(10);
    const data = await buildReportData(db, actor, kind, (task.params ?? {}) as unknown as ReportParams, deps.now());
    await step(60);
    const file = await renderReport(data, task.format ?? 'pdf', t, (task.locale ?? 'ru') as (typeof LOCALES)[number]);
    await step(90);
    const lines = [titleOf(t, kind, data), ...summaryLines(t, keyFigures(data))];
    await edit(api, chatId, task.messageId, lines.join('\n'));
    await api.sendDocument(chatId, new InputFile(file.data, file.name));
    logger.info({ kind, task: task._id.slice(0, 12), bytes: file.data.length }, 'Report sent');
  } catch (e) {
    if (e instanceof DomainError) {
      await edit(api, chatId, task.messageId, `⚠️ ${t(e.key, e.vars)}`).catch(() => undefined);
    } else {
      logger.error({ err: e, kind: task.kind }, 'Report not built');
      await edit(api, chatId, task.messageId, t('reportsUi.failed')).catch(() => undefined);
    }
  } finally {
    await releaseTask(db, task._id).catch(() => undefined);
  }
}

/** Takes over the requests a stopped process left behind (one at a time, each by one worker). */
export async function resumeStaleRequests(deps: RunDeps, api: Api): Promise<number> {
  let n = 0;
  for (;;) {
    const task = await takeStale(deps.db, deps.now(), STALE_MS);
    if (!task) break;
    await runReportRequest(deps, api, task);
    n++;
  }
  await dropExhausted(deps.db, deps.now(), STALE_MS);
  return n;
}
