import { Composer } from 'grammy';
import { longId } from '../../callbacks/index.js';
import { reportGoCb, reportKindCb, reportScopeCb, reportsMenuCb } from '../../callbacks/reports.js';
import { assertMayOpen, KIND_FORMATS, type ReportParams } from '../../../domain/reports/catalog.js';
import { claimTask, heartbeat, requestKey } from '../../../domain/reports/tasks.js';
import { progressText, runReportRequest } from './requests.js';
import type { BotContext } from '../../context.js';
import { ack, guardedRun, requireActor, STALE } from '../journal/ui.js';
import { kindOf, showKinds, showNext, showScopes } from './screens.js';

/**
 * /reports (issue 14, R26–R28): a person picks the kind, the scope and the period; the bot checks
 * the request in the domain at once (a forged button is refused before anything starts), claims
 * it (one build per person, kind, scope and period: a second press says it is being built), shows
 * "⏳ Building… 0%" and builds in the background (jobs/report-requests.ts), editing that message
 * and sending the file when it is ready. The family gets the report card and the weekly letter of
 * its own children only.
 */
type Go = NonNullable<ReturnType<typeof reportGoCb.unpack>>;

function paramsOf(d: Go): ReportParams {
  const id = d.i === '-' ? undefined : d.i;
  const span = d.p === 'n' ? {} : { periodCode: d.p };
  const subject = d.s === '-' ? {} : { subjectId: longId(d.s) };
  if (d.t === 's') return { scope: 'school', ...span };
  if (d.t === 'g') return { scope: 'grade', grade: Number(id), ...span };
  if (d.t === 'p') return { scope: 'student', studentId: longId(id ?? ''), ...span };
  return { scope: 'class', classId: longId(id ?? ''), ...subject, ...span };
}

async function go(ctx: BotContext, d: Go): Promise<void> {
  const actor = requireActor(ctx);
  const kind = kindOf(d.k);
  const format: 'pdf' | 'xlsx' = d.f === 'p' ? 'pdf' : 'xlsx';
  if (!KIND_FORMATS[kind].includes(format)) return STALE(ctx);
  const params = paramsOf(d);
  const now = ctx.deps.now();
  // Refused here, with nothing claimed (R4, R26): another class, another child, another school.
  await assertMayOpen(ctx.deps.db, actor, kind, params, now);
  const chatId = ctx.chat?.id ?? ctx.from?.id ?? 0;
  const key = requestKey(String(actor.personId), kind, { ...params, format });
  const claimed = await claimTask(
    ctx.deps.db,
    { _id: key, type: 'request', schoolId: String(actor.schoolId), personId: String(actor.personId), status: 'building', kind, params: { ...params }, format, chatId, locale: ctx.locale },
    now,
  );
  if (!claimed) {
    await ack(ctx, ctx.t('reportsUi.already'));
    await ctx.reply(ctx.t('reportsUi.already'));
    return;
  }
  await ack(ctx);
  const message = await ctx.reply(progressText(ctx.t, 0), { parse_mode: 'HTML' });
  await heartbeat(ctx.deps.db, key, now, { messageId: message.message_id, progress: 0 });
  const task = { _id: key, type: 'request' as const, schoolId: String(actor.schoolId), status: 'building' as const, kind, params: { ...params }, format, chatId, messageId: message.message_id, locale: ctx.locale, attempts: 1, heartbeatAt: now, createdAt: now };
  // Not awaited: the update is answered now; the file follows (the row survives a restart).
  void runReportRequest(ctx.deps, ctx.api, task, actor);
}

export function reportsFeature(): Composer<BotContext> {
  const composer = new Composer<BotContext>();
  const c = composer.chatType('private');
  c.command('reports', (ctx) => guardedRun(ctx, () => showKinds(ctx, requireActor(ctx))));
  c.callbackQuery(reportsMenuCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      await ack(ctx);
      await showKinds(ctx, requireActor(ctx));
    }),
  );
  c.callbackQuery(reportKindCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const d = reportKindCb.unpack(ctx.callbackQuery.data);
      if (!d) return STALE(ctx);
      await ack(ctx);
      await showScopes(ctx, requireActor(ctx), d.k);
    }),
  );
  c.callbackQuery(reportScopeCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const d = reportScopeCb.unpack(ctx.callbackQuery.data);
      if (!d) return STALE(ctx);
      await ack(ctx);
      await showNext(ctx, requireActor(ctx), d.k, d.t, d.i, d.s);
    }),
  );
  c.callbackQuery(reportGoCb.filter, (ctx) =>
    guardedRun(ctx, async () => {
      const d = reportGoCb.unpack(ctx.callbackQuery.data);
      if (!d) return STALE(ctx);
      await go(ctx, d);
    }),
  );
  return composer;
}
