import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import {
  type AnnouncementStatus,
  announceableClasses,
  announcementStatus,
  classStudents,
  MAX_ANNOUNCEMENT_TEXT,
  markRead,
  remindUnread,
  replyToAnnouncement,
  sendAnnouncement,
} from '../../domain/announcements.js';
import { AccessDenied, DomainError } from '../../domain/errors.js';
import type { MessageContent } from '../../domain/messaging.js';
import { escapeHtml, type Translate } from '../../i18n.js';
import { cbField, defineCallback } from '../callback-data.js';
import type { BotContext } from '../context.js';
import { showScreen } from '../ui.js';

/**
 * Class announcements (issue 6): /announce — the class, the whole class or chosen students, the
 * text, a preview (Send / Urgent / Cancel), then the status screen (who has not read it, Remind).
 * Parents press "Read" under their copy; a reply (reply-to) to a copy goes to the sender only, as a
 * private thread. The draft lives in MongoDB (`ann:<telegramId>`), so any bot process can take the
 * next update. Access is checked in src/domain/announcements.ts.
 */
export const annClassCb = defineCallback('anc', { c: cbField.objectId() });
export const annWholeCb = defineCallback('anw', { c: cbField.objectId() });
export const annPickCb = defineCallback('anp', { c: cbField.objectId() });
export const annToggleCb = defineCallback('ant', { s: cbField.objectId() });
export const annPickedCb = defineCallback('anpd', {});
export const annSendCb = defineCallback('ans', { u: cbField.bool() });
export const annCancelCb = defineCallback('anx', {});
/** Made by src/notify/render.ts (`announcementReadData`). */
export const annReadCb = defineCallback('anr', { a: cbField.objectId() });
export const annStatusCb = defineCallback('anst', { a: cbField.objectId() });
export const annRemindCb = defineCallback('anrm', { a: cbField.objectId() });

const STATE_TTL_MS = 60 * 60_000;
const stateId = (telegramId: number) => `ann:${telegramId}`;

interface Draft {
  personId: string;
  step: 'class' | 'pick' | 'text' | 'preview';
  classId?: string;
  className?: string;
  studentIds?: string[];
  text?: string;
  at: number;
}

async function saveDraft(ctx: BotContext, draft: Omit<Draft, 'personId' | 'at'>): Promise<void> {
  if (!ctx.from || !ctx.actor?.personId) return;
  const value: Draft = { ...draft, personId: String(ctx.actor.personId), at: ctx.deps.now().getTime() };
  await ctx.deps.db.models.ConversationState.updateOne(
    { _id: stateId(ctx.from.id) },
    { $set: { value, updatedAt: ctx.deps.now() } },
    { upsert: true },
  );
}

async function loadDraft(ctx: BotContext): Promise<Draft | undefined> {
  if (!ctx.from || !ctx.actor?.personId) return undefined;
  const doc = await ctx.deps.db.models.ConversationState.findById(stateId(ctx.from.id), { value: 1 }).lean();
  const value = doc?.value as Draft | undefined;
  if (!value?.step || value.personId !== String(ctx.actor.personId)) return undefined;
  if (ctx.deps.now().getTime() - (value.at ?? 0) > STATE_TTL_MS) return undefined;
  return value;
}

const dropDraft = (ctx: BotContext) =>
  ctx.from ? ctx.deps.db.models.ConversationState.deleteOne({ _id: stateId(ctx.from.id) }) : Promise.resolve();

const cancelKeyboard = (t: Translate) => new InlineKeyboard().text(t('announce.cancel'), annCancelCb.pack({}));

async function showPicker(ctx: BotContext, draft: Draft): Promise<void> {
  const actor = ctx.actor;
  if (!actor || !draft.classId) throw new AccessDenied();
  const students = await classStudents(ctx.deps.db, actor, draft.classId);
  const chosen = new Set(draft.studentIds ?? []);
  const kb = new InlineKeyboard();
  students.forEach((s, i) => {
    kb.text(`${chosen.has(s.studentId) ? '✅ ' : ''}${s.name}`.slice(0, 60), annToggleCb.pack({ s: s.studentId }));
    if (i % 2 === 1) kb.row();
  });
  kb.row().text(ctx.t('announce.picked', { n: chosen.size }), annPickedCb.pack({})).text(ctx.t('announce.cancel'), annCancelCb.pack({}));
  await showScreen(ctx, ctx.t('announce.pickStudents', { className: draft.className ?? '—' }), kb);
}

async function askText(ctx: BotContext, draft: Draft): Promise<void> {
  const audience = draft.studentIds?.length
    ? ctx.t('announce.audienceChosen', { className: draft.className ?? '—', n: draft.studentIds.length })
    : ctx.t('announce.audienceClass', { className: draft.className ?? '—' });
  await showScreen(ctx, ctx.t('announce.askText', { audience, max: MAX_ANNOUNCEMENT_TEXT }), cancelKeyboard(ctx.t));
}

function statusText(t: Translate, s: AnnouncementStatus): string {
  const lines = [
    t('announce.statusTitle', { className: s.className }),
    escapeHtml(s.text.length > 200 ? `${s.text.slice(0, 199)}…` : s.text),
    '',
    t('announce.statusCounts', { total: s.total, delivered: s.delivered, read: s.read, notDelivered: s.notDelivered, pending: s.pending }),
  ];
  const unread = s.recipients.filter((r) => r.state !== 'read');
  if (unread.length > 0) {
    lines.push('', t('announce.unreadTitle'));
    for (const r of unread.slice(0, 60)) lines.push(`• ${escapeHtml(r.name)} — ${t(`announce.state.${r.state}`)}`);
    if (unread.length > 60) lines.push('…');
  }
  return lines.join('\n').slice(0, 4096);
}

async function showStatus(ctx: BotContext, announcementId: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const status = await announcementStatus(ctx.deps.db, actor, announcementId);
  const kb = new InlineKeyboard().text(ctx.t('announce.refresh'), annStatusCb.pack({ a: announcementId }));
  if (status.read < status.total) kb.text(ctx.t('announce.remind'), annRemindCb.pack({ a: announcementId }));
  await showScreen(ctx, statusText(ctx.t, status), kb);
}

function contentOf(m: Message): MessageContent | undefined {
  if (m.text !== undefined) return { kind: 'text', text: m.text };
  if (m.photo && m.photo.length > 0) return { kind: 'photo', fileId: m.photo[m.photo.length - 1]?.file_id, text: m.caption };
  if (m.document) return { kind: 'document', fileId: m.document.file_id, text: m.caption };
  if (m.voice) return { kind: 'voice', fileId: m.voice.file_id, text: m.caption };
  return undefined;
}

export function announcementsFeature() {
  const composer = new Composer<BotContext>();
  const privateChat = composer.chatType('private');

  privateChat.command('announce', async (ctx) => {
    const actor = ctx.actor;
    if (!actor) throw new AccessDenied();
    const classes = await announceableClasses(ctx.deps.db, actor);
    if (classes.length === 0) return ctx.reply(ctx.t('announce.notAllowed'));
    await saveDraft(ctx, { step: 'class' });
    const kb = new InlineKeyboard();
    classes.forEach((c, i) => {
      kb.text(c.name, annClassCb.pack({ c: c.classId }));
      if (i % 4 === 3) kb.row();
    });
    kb.row().text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    await ctx.reply(ctx.t('announce.pickClass'), { reply_markup: kb });
  });

  composer.callbackQuery(annClassCb.filter, async (ctx) => {
    const data = annClassCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses a class the actor may not announce to (a forged button).
    const students = await classStudents(ctx.deps.db, ctx.actor, data.c);
    const cls = await ctx.deps.db.models.SchoolClass.findById(data.c, { name: 1 }).lean();
    await saveDraft(ctx, { step: 'class', classId: data.c, className: cls?.name ?? '—' });
    await ctx.answerCallbackQuery();
    const kb = new InlineKeyboard()
      .text(ctx.t('announce.wholeClass', { n: students.length }), annWholeCb.pack({ c: data.c }))
      .row()
      .text(ctx.t('announce.chooseStudents'), annPickCb.pack({ c: data.c }))
      .row()
      .text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    await showScreen(ctx, ctx.t('announce.pickAudience', { className: cls?.name ?? '—' }), kb);
  });

  composer.callbackQuery(annWholeCb.filter, async (ctx) => {
    const data = annWholeCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !draft || draft.classId !== data.c) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const next: Draft = { ...draft, step: 'text', studentIds: undefined };
    await saveDraft(ctx, next);
    await ctx.answerCallbackQuery();
    await askText(ctx, next);
  });

  composer.callbackQuery(annPickCb.filter, async (ctx) => {
    const data = annPickCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !draft || draft.classId !== data.c) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const next: Draft = { ...draft, step: 'pick', studentIds: [] };
    await saveDraft(ctx, next);
    await ctx.answerCallbackQuery();
    await showPicker(ctx, next);
  });

  composer.callbackQuery(annToggleCb.filter, async (ctx) => {
    const data = annToggleCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !draft || draft.step !== 'pick') return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const chosen = new Set(draft.studentIds ?? []);
    if (chosen.has(data.s)) chosen.delete(data.s);
    else chosen.add(data.s);
    const next: Draft = { ...draft, studentIds: [...chosen] };
    await saveDraft(ctx, next);
    await ctx.answerCallbackQuery();
    await showPicker(ctx, next);
  });

  composer.callbackQuery(annPickedCb.filter, async (ctx) => {
    const draft = await loadDraft(ctx);
    if (draft?.step !== 'pick') return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    if (!draft.studentIds?.length) return ctx.answerCallbackQuery({ text: ctx.t('announce.pickSomeone') });
    const next: Draft = { ...draft, step: 'text' };
    await saveDraft(ctx, next);
    await ctx.answerCallbackQuery();
    await askText(ctx, next);
  });

  composer.callbackQuery(annCancelCb.filter, async (ctx) => {
    await dropDraft(ctx);
    await ctx.answerCallbackQuery();
    await showScreen(ctx, ctx.t('announce.cancelled'));
  });

  composer.callbackQuery(annSendCb.filter, async (ctx) => {
    const data = annSendCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !ctx.actor || !draft || draft.step !== 'preview' || !draft.classId || !draft.text) {
      return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    }
    const sent = await sendAnnouncement(ctx.deps.db, ctx.actor, {
      classId: draft.classId,
      studentIds: draft.studentIds,
      text: draft.text,
      urgent: data.u,
      now: ctx.deps.now(),
    });
    await dropDraft(ctx);
    await ctx.answerCallbackQuery({ text: ctx.t('announce.sent', { n: sent.queued }) });
    await showStatus(ctx, sent.announcementId);
  });

  composer.callbackQuery(annStatusCb.filter, async (ctx) => {
    const data = annStatusCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showStatus(ctx, data.a);
    await ctx.answerCallbackQuery();
  });

  composer.callbackQuery(annRemindCb.filter, async (ctx) => {
    const data = annRemindCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const n = await remindUnread(ctx.deps.db, ctx.actor, data.a, ctx.deps.now());
    await ctx.answerCallbackQuery({ text: ctx.t('announce.reminded', { n }) });
    await showStatus(ctx, data.a);
  });

  composer.callbackQuery(annReadCb.filter, async (ctx) => {
    const data = annReadCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses anyone the announcement was not sent to (a forged or forwarded button).
    await markRead(ctx.deps.db, ctx.actor, data.a, ctx.deps.now());
    await ctx.answerCallbackQuery({ text: ctx.t('announce.thanks') });
    await ctx
      .editMessageReplyMarkup({ reply_markup: new InlineKeyboard().text(ctx.t('announce.readDone'), annReadCb.pack({ a: data.a })) })
      .catch(() => undefined);
  });

  // The draft's text, and replies (reply-to) to announcement copies; everything else passes on.
  privateChat.on('message', async (ctx, next) => {
    const actor = ctx.actor;
    if (!actor?.personId) return next();
    const m = ctx.message;
    if (m.text?.startsWith('/')) return next();
    const replyTo = m.reply_to_message?.message_id;
    if (replyTo !== undefined) {
      const content = contentOf(m);
      if (content) {
        const replied = await replyToAnnouncement(ctx.deps.db, actor, ctx.chat.id, replyTo, content, ctx.deps.now());
        if (replied) {
          await ctx.reply(ctx.t('announce.replySent'));
          return;
        }
      }
    }
    const draft = await loadDraft(ctx);
    if (draft?.step !== 'text' || m.text === undefined) return next();
    if (m.text.length > MAX_ANNOUNCEMENT_TEXT) {
      throw new DomainError('announce.errors.tooLong', { max: MAX_ANNOUNCEMENT_TEXT, length: m.text.length });
    }
    if (m.text.trim() === '') throw new DomainError('announce.errors.empty');
    await saveDraft(ctx, { ...draft, step: 'preview', text: m.text });
    const kb = new InlineKeyboard()
      .text(ctx.t('announce.send'), annSendCb.pack({ u: false }))
      .text(ctx.t('announce.sendUrgent'), annSendCb.pack({ u: true }))
      .row()
      .text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    const audience = draft.studentIds?.length
      ? ctx.t('announce.audienceChosen', { className: draft.className ?? '—', n: draft.studentIds.length })
      : ctx.t('announce.audienceClass', { className: draft.className ?? '—' });
    const preview = ctx.t('announce.preview', { audience });
    const body = escapeHtml(m.text);
    await ctx.reply(`${preview}\n\n${body}`.slice(0, 4096), { parse_mode: 'HTML', reply_markup: kb });
  });

  return composer;
}
