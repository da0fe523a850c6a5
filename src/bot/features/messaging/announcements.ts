import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import {
  announceableClasses,
  announceableGrades,
  announceableGroups,
  canAnnounceWide,
  classStudents,
  groupForAnnouncement,
} from '../../../domain/messaging/announcement-audiences.js';
import { type AnnouncementStatus, announcementStatus, markRead, remindUnread } from '../../../domain/messaging/announcement-receipts.js';
import {
  type AnnouncementAttachment,
  MAX_ANNOUNCEMENT_CAPTION,
  MAX_ANNOUNCEMENT_FILES,
  MAX_ANNOUNCEMENT_TEXT,
  replyToAnnouncement,
  sendAnnouncement,
} from '../../../domain/messaging/announcements.js';
import { AccessDenied, DomainError } from '../../../domain/shared/errors.js';
import { escapeHtml, type Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';
import {
  annCancelCb,
  annClassCb,
  annGradeCb,
  annGroupCb,
  annPickCb,
  annPickedCb,
  annRemindCb,
  annScopeCb,
  annSendCb,
  annStatusCb,
  annToggleCb,
  annWholeCb,
} from '../../callbacks/messaging.js';
import { annReadCb } from '../../callbacks/notices.js';
import { contentOf } from './compose.js';
import { pendingDraft } from '../../drafts.js';
import { telegramLength } from '../../../domain/shared/text-limits.js';

/**
 * Class announcements (issue 6): /announce — the class, the whole class or chosen students (the
 * deputy and the admin first choose a class, a grade level or the whole school), the text (or a
 * photo or document with a caption), a preview (Send / Urgent / Cancel), then the status screen (who has not read it, Remind).
 * Parents press "Read" under their copy; a reply (reply-to) to a copy goes to the sender only, as a
 * private thread. The draft lives in MongoDB (`ann:<telegramId>`), so any bot process can take the
 * next update. Access is checked in src/domain/messaging/announcement-audiences.ts.
 */
interface Draft {
  personId: string;
  step: 'class' | 'pick' | 'text' | 'preview';
  classId?: string;
  className?: string;
  groupId?: string;
  groupName?: string;
  grade?: number;
  wholeSchool?: boolean;
  studentIds?: string[];
  text?: string;
  /** Files collected so far (photos, documents), in order. */
  attachments?: AnnouncementAttachment[];
  /** A draft saved by an earlier version: one file. */
  attachment?: AnnouncementAttachment;
  at: number;
}

const filesOf = (d: Draft): AnnouncementAttachment[] => d.attachments ?? (d.attachment ? [d.attachment] : []);

const drafts = pendingDraft<Draft>('announcement', 60 * 60_000, (d) => Boolean(d.step));
const saveDraft = drafts.save;
const loadDraft = drafts.load;
const dropDraft = drafts.drop;

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

function audienceOf(t: Translate, draft: Draft): string {
  if (draft.wholeSchool) return t('announce.audienceSchool');
  if (draft.grade !== undefined) return t('announce.audienceGrade', { grade: draft.grade });
  if (draft.groupId) return t('announce.audienceGroup', { group: draft.groupName ?? '—', className: draft.className ?? '—' });
  return draft.studentIds?.length
    ? t('announce.audienceChosen', { className: draft.className ?? '—', n: draft.studentIds.length })
    : t('announce.audienceClass', { className: draft.className ?? '—' });
}

async function askText(ctx: BotContext, draft: Draft): Promise<void> {
  const audience = audienceOf(ctx.t, draft);
  await showScreen(ctx, ctx.t('announce.askText', { audience, max: MAX_ANNOUNCEMENT_TEXT }), cancelKeyboard(ctx.t));
}

async function showClasses(ctx: BotContext, edit: boolean): Promise<unknown> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const classes = await announceableClasses(ctx.deps.db, actor);
  // A teacher also announces to the groups they teach (the deputy and the admin reach a group through its class).
  const led = new Set(classes.map((c) => c.name));
  const groups = canAnnounceWide(actor) ? [] : (await announceableGroups(ctx.deps.db, actor)).filter((g) => !led.has(g.className));
  if (classes.length === 0 && groups.length === 0) return ctx.reply(ctx.t('announce.notAllowed'));
  await saveDraft(ctx, { step: 'class' });
  const kb = new InlineKeyboard();
  classes.forEach((c, i) => {
    kb.text(c.name, annClassCb.pack({ c: c.classId }));
    if (i % 4 === 3) kb.row();
  });
  kb.row();
  for (const g of groups.slice(0, 40)) {
    kb.text(ctx.t('announce.groupButtonWithClass', { className: g.className, group: g.name }).slice(0, 60), annGroupCb.pack({ g: g.groupId })).row();
  }
  kb.text(ctx.t('announce.cancel'), annCancelCb.pack({}));
  if (edit) return showScreen(ctx, ctx.t('announce.pickClass'), kb);
  return ctx.reply(ctx.t('announce.pickClass'), { reply_markup: kb });
}

function statusText(t: Translate, s: AnnouncementStatus): string {
  const title = s.wholeSchool
    ? t('announce.statusTitleWide', { audience: t('announce.labelSchool') })
    : s.grade !== undefined
      ? t('announce.statusTitleWide', { audience: t('announce.labelGrade', { grade: s.grade }) })
      : s.groupName
        ? t('announce.statusTitleGroup', { className: s.className, group: s.groupName })
        : t('announce.statusTitle', { className: s.className });
  const lines = [
    title,
    escapeHtml(s.text.length > 200 ? `${s.text.slice(0, 199)}…` : s.text),
    '',
    t('announce.statusCounts', { total: s.total, delivered: s.delivered, read: s.read, notDelivered: s.notDelivered, pending: s.pending }) +
      (s.notConnected > 0 ? ` · ${t('announce.notConnectedCount', { n: s.notConnected })}` : ''),
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

/** A photo or a document sent while composing: the attachment, its caption the text. */
function attachmentOf(m: Message): AnnouncementAttachment | undefined {
  const photo = m.photo?.[m.photo.length - 1]?.file_id;
  if (photo) return { kind: 'photo', fileId: photo };
  if (m.document) return { kind: 'document', fileId: m.document.file_id };
  return undefined;
}

export function announcementsFeature() {
  const composer = new Composer<BotContext>();
  const privateChat = composer.chatType('private');

  privateChat.command('announce', async (ctx) => {
    const actor = ctx.actor;
    if (!actor) throw new AccessDenied();
    if (!canAnnounceWide(actor)) return showClasses(ctx, false);
    await saveDraft(ctx, { step: 'class' });
    const kb = new InlineKeyboard()
      .text(ctx.t('announce.scopeClass'), annScopeCb.pack({ k: 'class' }))
      .row()
      .text(ctx.t('announce.scopeGrade'), annScopeCb.pack({ k: 'grade' }))
      .row()
      .text(ctx.t('announce.scopeSchool'), annScopeCb.pack({ k: 'school' }))
      .row()
      .text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    await ctx.reply(ctx.t('announce.pickScope'), { reply_markup: kb });
  });

  composer.callbackQuery(annScopeCb.filter, async (ctx) => {
    const data = annScopeCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !ctx.actor || !draft) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    if (!canAnnounceWide(ctx.actor)) throw new AccessDenied();
    await ctx.answerCallbackQuery();
    if (data.k === 'class') return showClasses(ctx, true);
    if (data.k === 'school') {
      const next: Draft = { personId: draft.personId, at: draft.at, step: 'text', wholeSchool: true };
      await saveDraft(ctx, next);
      return askText(ctx, next);
    }
    const grades = await announceableGrades(ctx.deps.db, ctx.actor);
    const kb = new InlineKeyboard();
    grades.forEach((g, i) => {
      kb.text(ctx.t('announce.labelGrade', { grade: g }), annGradeCb.pack({ g }));
      if (i % 4 === 3) kb.row();
    });
    kb.row().text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    await showScreen(ctx, ctx.t('announce.pickGrade'), kb);
  });

  composer.callbackQuery(annGradeCb.filter, async (ctx) => {
    const data = annGradeCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !ctx.actor || !draft) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    if (!canAnnounceWide(ctx.actor)) throw new AccessDenied();
    const next: Draft = { personId: draft.personId, at: draft.at, step: 'text', grade: data.g };
    await saveDraft(ctx, next);
    await ctx.answerCallbackQuery();
    await askText(ctx, next);
  });

  composer.callbackQuery(annClassCb.filter, async (ctx) => {
    const data = annClassCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses a class the actor may not announce to (a forged button).
    const students = await classStudents(ctx.deps.db, ctx.actor, data.c);
    const [cls, groups] = await Promise.all([
      ctx.deps.db.models.SchoolClass.findById(data.c, { name: 1 }).lean(),
      announceableGroups(ctx.deps.db, ctx.actor, data.c),
    ]);
    await saveDraft(ctx, { step: 'class', classId: data.c, className: cls?.name ?? '—' });
    await ctx.answerCallbackQuery();
    const kb = new InlineKeyboard()
      .text(ctx.t('announce.wholeClass', { n: students.length }), annWholeCb.pack({ c: data.c }))
      .row()
      .text(ctx.t('announce.chooseStudents'), annPickCb.pack({ c: data.c }))
      .row();
    for (const g of groups.slice(0, 20)) kb.text(ctx.t('announce.groupButton', { group: g.name }).slice(0, 60), annGroupCb.pack({ g: g.groupId })).row();
    kb.text(ctx.t('announce.cancel'), annCancelCb.pack({}));
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

  composer.callbackQuery(annGroupCb.filter, async (ctx) => {
    const data = annGroupCb.unpack(ctx.callbackQuery.data);
    const draft = await loadDraft(ctx);
    if (!data || !ctx.actor || !draft) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses a group the actor may not announce to (a forged button); checked again on sending.
    const group = await groupForAnnouncement(ctx.deps.db, ctx.actor, data.g);
    if (!group) throw new AccessDenied();
    const cls = await ctx.deps.db.models.SchoolClass.findById(group.classId, { name: 1 }).lean();
    const next: Draft = {
      personId: draft.personId,
      at: draft.at,
      step: 'text',
      groupId: data.g,
      groupName: group.name,
      className: cls?.name ?? '—',
    };
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
    const hasAudience = Boolean(draft?.classId) || Boolean(draft?.groupId) || draft?.grade !== undefined || draft?.wholeSchool === true;
    if (!data || !ctx.actor || !draft || draft.step !== 'preview' || !hasAudience || !draft.text) {
      return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    }
    const sent = await sendAnnouncement(ctx.deps.db, ctx.actor, {
      ...(draft.wholeSchool
        ? { wholeSchool: true }
        : draft.grade !== undefined
          ? { grade: draft.grade }
          : draft.groupId
            ? { groupId: draft.groupId }
            : { classId: draft.classId }),
      studentIds: draft.studentIds,
      text: draft.text,
      attachments: filesOf(draft),
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
    const attachment = attachmentOf(m);
    if (draft?.step !== 'text') return next();
    // A sticker, a voice note, a poll, a location…: an announcement is text, or a photo or document with a caption.
    if (m.text === undefined && !attachment) return ctx.reply(ctx.t('announce.errors.unsupported'), { reply_markup: cancelKeyboard(ctx.t) });
    const files = [...filesOf(draft), ...(attachment ? [attachment] : [])];
    if (files.length > MAX_ANNOUNCEMENT_FILES) throw new DomainError('announce.errors.tooManyFiles', { max: MAX_ANNOUNCEMENT_FILES });
    const text = m.text ?? m.caption ?? '';
    if (attachment && text.trim() === '') {
      // A file without a caption: collected; the text (or more files) comes next.
      await saveDraft(ctx, { ...draft, attachments: files, attachment: undefined });
      return ctx.reply(ctx.t('announce.fileAdded', { n: files.length }), { reply_markup: cancelKeyboard(ctx.t) });
    }
    const max = files.length === 1 ? MAX_ANNOUNCEMENT_CAPTION : MAX_ANNOUNCEMENT_TEXT;
    // Refused here, before the preview, and again by the use case (issue 11 item 6).
    if (telegramLength(text) > max) throw new DomainError('announce.errors.tooLong', { max, length: telegramLength(text) });
    if (text.trim() === '') throw new DomainError('announce.errors.empty');
    await saveDraft(ctx, { ...draft, step: 'preview', text, attachments: files, attachment: undefined });
    const kb = new InlineKeyboard()
      .text(ctx.t('announce.send'), annSendCb.pack({ u: false }))
      .text(ctx.t('announce.sendUrgent'), annSendCb.pack({ u: true }))
      .row()
      .text(ctx.t('announce.cancel'), annCancelCb.pack({}));
    const preview = ctx.t('announce.preview', { audience: audienceOf(ctx.t, draft) });
    const body = escapeHtml(text);
    const other = { parse_mode: 'HTML' as const, reply_markup: kb };
    const only = files.length === 1 ? files[0] : undefined;
    if (only?.kind === 'photo') return ctx.replyWithPhoto(only.fileId, { ...other, caption: `${preview}\n\n${body}`.slice(0, 1024) });
    if (only) return ctx.replyWithDocument(only.fileId, { ...other, caption: `${preview}\n\n${body}`.slice(0, 1024) });
    const withFiles = files.length > 1 ? `\n\n${ctx.t('announce.previewFiles', { n: files.length })}` : '';
    await ctx.reply(`${preview}\n\n${body}${withFiles}`.slice(0, 4096), { parse_mode: 'HTML', reply_markup: kb });
  });

  return composer;
}
