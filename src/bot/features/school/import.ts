import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Composer, InlineKeyboard, InputFile } from 'grammy';
import type { Actor } from '../../../domain/school/actor.js';
import { AccessDenied, DomainError } from '../../../domain/shared/errors.js';
import {
  canImport,
  detectKind,
  type ImportKind,
  type ImportReport,
  IMPORT_ORDER,
  importableKinds,
  importFile,
  kindFromWord,
} from '../../../domain/imports/index.js';
import { csvLine, MAX_FILE_BYTES } from '../../../domain/imports/parse.js';
import { chunkLines, formatReport } from '../../../domain/imports/report.js';
import { importCb, importTemplatesCb } from '../../callbacks/school.js';
import type { BotContext } from '../../context.js';

/**
 * Loading school data by sending a spreadsheet (R5, R7). An admin or secretary (a deputy for the
 * curriculum kinds) sends a CSV/XLSX document, with the kind as the caption ("students",
 * "ученики", …) or none (the kind is guessed from the headers). The bot runs a dry run and shows
 * what would change, or every bad row; Confirm imports for real. The pending import lives in
 * MongoDB, so Confirm works after a restart and a double press imports once. Rights are checked
 * in the domain on the preview and again on Confirm. Anyone else's documents pass through.
 */

/** A preview older than this is refused: the school's data may have moved on. */
const PENDING_TTL_MS = 24 * 60 * 60 * 1000;
/** Messages of a rejected file's list before the rest goes as a CSV attachment. */
const MAX_ERROR_MESSAGES = 3;

const SPREADSHEET_MIME = new Set([
  'text/csv',
  'text/comma-separated-values',
  'application/csv',
  'application/vnd.ms-excel',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
]);

const looksLikeSpreadsheet = (name: string, mime: string | undefined) =>
  /\.(csv|xlsx)$/i.test(name) || (mime !== undefined && SPREADSHEET_MIME.has(mime));

/** The file's bytes from Telegram (via the configured API root and HTTP client: tests serve a fake). */
async function download(ctx: BotContext, fileId: string): Promise<Buffer> {
  const file = await ctx.api.getFile(fileId);
  if (!file.file_path) throw new Error('getFile returned no file_path');
  const root = (ctx.api.options?.apiRoot ?? 'https://api.telegram.org').replace(/\/+$/, '');
  const fetchFile = ctx.api.options?.fetch ?? fetch;
  const res = await fetchFile(`${root}/file/bot${ctx.api.token}/${file.file_path}`);
  if (!res.ok) throw new Error(`file download failed with HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Sends a report; a long list of bad rows is cut after a few messages and attached in full as CSV. */
async function sendReport(ctx: BotContext, report: ImportReport, keyboard?: InlineKeyboard): Promise<void> {
  const lines = formatReport(report, ctx.t);
  if (keyboard) lines.push('', ctx.t('import.bot.confirmQuestion'));
  let chunks = chunkLines(lines);
  let rest: string | undefined;
  if (!report.ok && chunks.length > MAX_ERROR_MESSAGES) {
    chunks = chunks.slice(0, MAX_ERROR_MESSAGES - 1);
    const shown = chunks.reduce((n, c) => n + c.split('\n').length, 0);
    rest = ctx.t('import.report.more', { count: lines.length - shown });
  }
  for (const [i, text] of chunks.entries()) {
    const last = i === chunks.length - 1;
    await ctx.reply(text, { parse_mode: 'HTML', ...(last && keyboard ? { reply_markup: keyboard } : {}) });
  }
  if (rest) {
    const csv = [
      csvLine(['row', 'column', 'reason']),
      ...report.errors.map((e) => csvLine([e.row, e.column, plain(ctx.t(e.key, e.vars ?? {}))])),
    ].join('\r\n');
    await ctx.replyWithDocument(new InputFile(Buffer.from(`\uFEFF${csv}\r\n`, 'utf8'), `errors-${report.kind}.csv`), {
      caption: `${rest}\n${ctx.t('import.bot.errorsFileCaption')}`,
    });
  }
}

/** ctx.t escapes for HTML; a CSV cell wants the text as written. */
const plain = (html: string) =>
  html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

function kindFromCaption(caption: string | undefined): ImportKind | undefined {
  if (!caption) return undefined;
  return kindFromWord(caption.trim()) ?? kindFromWord(caption.trim().split(/\s+/)[0]);
}

function requireActor(ctx: BotContext): Actor & { personId: NonNullable<Actor['personId']> } {
  const actor = ctx.actor;
  if (!actor?.personId) throw new AccessDenied();
  return actor as Actor & { personId: NonNullable<Actor['personId']> };
}

/** The folder of sample files shipped with the bot (the operator's copy of docs/import/). */
const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'docs', 'import');

/** One button: the templates as files (the admin has the bot, not the repository). */
export const templatesButton = (ctx: BotContext) => new InlineKeyboard().text(ctx.t('import.bot.templatesButton'), importTemplatesCb.pack({}));

/** Sends the sample file of each kind this person may load, in the order the school loads them. */
async function sendTemplates(ctx: BotContext, actor: Actor): Promise<void> {
  const kinds = importableKinds(actor);
  for (const kind of IMPORT_ORDER.filter((k) => kinds.includes(k))) {
    const data = await readFile(join(TEMPLATES_DIR, `${kind}.csv`));
    await ctx.replyWithDocument(new InputFile(data, `${kind}.csv`), { caption: ctx.t(`import.kinds.${kind}`) });
  }
  await ctx.reply(ctx.t('import.bot.templatesSent', { order: IMPORT_ORDER.filter((k) => kinds.includes(k)).join(' → ') }));
}

export function importFeature() {
  const composer = new Composer<BotContext>();

  composer.callbackQuery(importTemplatesCb.filter, async (ctx) => {
    const actor = requireActor(ctx);
    if (importableKinds(actor).length === 0) throw new AccessDenied();
    await ctx.answerCallbackQuery();
    await sendTemplates(ctx, actor);
  });

  composer.on('message:document', async (ctx, next) => {
    const actor = ctx.actor;
    const doc = ctx.message.document;
    const name = doc.file_name ?? 'file';
    // Only staff who may load something, and only spreadsheets: other documents are not ours.
    if (!actor?.personId || importableKinds(actor).length === 0 || !looksLikeSpreadsheet(name, doc.mime_type)) {
      return next();
    }
    if ((doc.file_size ?? 0) > MAX_FILE_BYTES) {
      await ctx.reply(ctx.t('import.bot.tooBig', { maxMb: MAX_FILE_BYTES / 1024 / 1024 }));
      return;
    }
    let data: Buffer;
    try {
      data = await download(ctx, doc.file_id);
    } catch (error) {
      ctx.deps.logger.warn({ updateId: ctx.update.update_id, err: error }, 'Import: could not download the file');
      await ctx.reply(ctx.t('import.bot.downloadFailed'));
      return;
    }
    const kind = kindFromCaption(ctx.message.caption) ?? (await detectKind(data, name));
    if (!kind) {
      await ctx.reply(ctx.t('import.bot.askKind', { kinds: importableKinds(actor).join(', ') }), { reply_markup: templatesButton(ctx) });
      return;
    }
    if (!canImport(actor, kind)) {
      await ctx.reply(ctx.t('import.bot.notAllowedKind', { kind: ctx.t(`import.kinds.${kind}`) }));
      return;
    }
    const now = ctx.deps.now();
    const report = await importFile(ctx.deps.db, actor, { kind, data, filename: name, dryRun: true, now });
    ctx.deps.logger.info(
      { updateId: ctx.update.update_id, schoolId: String(actor.schoolId), kind, rows: report.rows, ok: report.ok },
      'Import previewed',
    );
    if (!report.ok) {
      await sendReport(ctx, report);
      return;
    }
    const pending = await ctx.deps.db.models.PendingImport.create({
      schoolId: actor.schoolId,
      personId: actor.personId,
      chatId: ctx.chat.id,
      fileId: doc.file_id,
      filename: name.slice(0, 200),
      kind,
    });
    const id = String(pending._id);
    const keyboard = new InlineKeyboard()
      .text(ctx.t('import.bot.confirm'), importCb.pack({ a: 'ok', id }))
      .text(ctx.t('import.bot.cancel'), importCb.pack({ a: 'no', id }));
    await sendReport(ctx, report, keyboard);
  });

  composer.callbackQuery(importCb.filter, async (ctx) => {
    const data = importCb.unpack(ctx.callbackQuery.data);
    if (!data) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const actor = requireActor(ctx);
    const { PendingImport } = ctx.deps.db.models;
    // Only the person who sent the file, in the school they sent it to.
    const pending = await PendingImport.findOne({ _id: data.id, schoolId: actor.schoolId, personId: actor.personId }).lean();
    if (!pending) throw new AccessDenied();
    const kind = kindFromWord(pending.kind);
    if (!kind || !canImport(actor, kind)) throw new AccessDenied();
    const removeButtons = () => ctx.editMessageReplyMarkup({ reply_markup: undefined }).catch(() => undefined);

    if (data.a === 'no') {
      const cancelled = await PendingImport.findOneAndUpdate(
        { _id: pending._id, status: 'pending' },
        { $set: { status: 'cancelled', finishedAt: ctx.deps.now() } },
      ).lean();
      await ctx.answerCallbackQuery({ text: ctx.t(cancelled ? 'import.bot.cancelled' : 'import.bot.already') });
      await removeButtons();
      if (cancelled) await ctx.reply(ctx.t('import.bot.cancelled'));
      return;
    }

    const now = ctx.deps.now();
    if (pending.status === 'pending' && now.getTime() - new Date(pending.createdAt).getTime() > PENDING_TTL_MS) {
      await PendingImport.updateOne({ _id: pending._id, status: 'pending' }, { $set: { status: 'cancelled', finishedAt: now } });
      await removeButtons();
      return ctx.answerCallbackQuery({ text: ctx.t('import.bot.expired'), show_alert: true });
    }
    // The press that moves pending → running imports; any other press (a double tap, a second process) does not.
    const claimed = await PendingImport.findOneAndUpdate(
      { _id: pending._id, status: 'pending' },
      { $set: { status: 'running' } },
    ).lean();
    if (!claimed) return ctx.answerCallbackQuery({ text: ctx.t('import.bot.already') });
    await ctx.answerCallbackQuery({ text: ctx.t('import.bot.working') });
    await removeButtons();

    let report: ImportReport;
    try {
      const bytes = await download(ctx, pending.fileId);
      report = await importFile(ctx.deps.db, actor, { kind, data: bytes, filename: pending.filename, now });
    } catch (error) {
      await PendingImport.updateOne({ _id: pending._id }, { $set: { status: 'failed', finishedAt: ctx.deps.now() } });
      if (error instanceof DomainError) {
        await ctx.reply(ctx.t(error.key, error.vars));
        return;
      }
      ctx.deps.logger.error({ updateId: ctx.update.update_id, err: error, pendingId: String(pending._id) }, 'Import failed');
      await ctx.reply(ctx.t('import.bot.failed'));
      return;
    }
    await PendingImport.updateOne(
      { _id: pending._id },
      {
        $set: {
          status: report.ok ? 'done' : 'rejected',
          counts: report.counts,
          errorCount: report.errors.length,
          finishedAt: ctx.deps.now(),
        },
      },
    );
    ctx.deps.logger.info(
      { updateId: ctx.update.update_id, schoolId: String(actor.schoolId), kind, rows: report.rows, ok: report.ok },
      'Import confirmed',
    );
    // Between preview and Confirm the school's data may have changed: then this is a fresh rejection.
    await sendReport(ctx, report);
  });

  return composer;
}
