import { Composer, InlineKeyboard } from 'grammy';
import type { Message } from 'grammy/types';
import { z } from 'zod';
import { cachedSchool } from '../../../db/school-cache.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import {
  getOfficeHours,
  type Label,
  listFamilyContacts,
  listInbox,
  listTaughtStudents,
  listTeachingClasses,
  listWritableTeachers,
  type MessageContent,
  type OfficeHours,
  readReportedThread,
  readThread,
  recallMessage,
  reportThread,
  type SentMessage,
  sendMessage,
  sendMessages,
  setOfficeHours,
  setThreadMuted,
  startFamilyThreads,
  startThread,
  type TeacherOption,
  threadOfDelivered,
  threadPartner,
} from '../../../domain/messaging/threads.js';
import { listMyChildren } from '../../../domain/school/people.js';
import type { Translate } from '../../../i18n.js';
import { cbField, defineCallback } from '../../callbacks/index.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';

/**
 * Teacher–family messaging (R3, R24): /write (a parent picks the child, then the teacher), /inbox
 * (threads with unread counts, history by pages), the Reply button under a delivered message, and
 * Telegram's reply-to on it. While composing, whatever the user sends goes to the thread; that
 * state lives in MongoDB (`msg:<telegramId>`), so any bot process can take the next update.
 * Without it, messages pass on to the other features unchanged.
 */
export const writeChildCb = defineCallback('msgc', { s: cbField.objectId() });
export const writeTeacherCb = defineCallback('msgt', { s: cbField.objectId(), t: cbField.objectId() });
/** Made by src/notify/render.ts (`threadReplyData`). */
export const threadReplyCb = defineCallback('msgr', { t: cbField.objectId() });
export const threadOpenCb = defineCallback('msgo', { t: cbField.objectId(), p: cbField.int(0, 10_000) });
export const composeDoneCb = defineCallback('msgx', {});
/** Under the sender's confirmation: take the message back (10 minutes). */
export const recallCb = defineCallback('msgk', { m: cbField.objectId() });
export const muteCb = defineCallback('msgm', { t: cbField.objectId(), on: cbField.int(0, 1) });
export const reportCb = defineCallback('msgp', { t: cbField.objectId() });
/** The admin opens a reported conversation (made by src/notify/render.ts, `reportViewData`). */
export const reportViewCb = defineCallback('msga', { t: cbField.objectId(), p: cbField.int(0, 10_000) });
/** A teacher's /write: class → student → parent. */
export const teacherClassCb = defineCallback('msgwc', { c: cbField.objectId() });
export const teacherStudentCb = defineCallback('msgws', { s: cbField.objectId() });
export const teacherParentCb = defineCallback('msgwp', { s: cbField.objectId(), p: cbField.objectId() });
/** From the student's card: one message to every parent of the student who is in the bot. */
export const teacherAllParentsCb = defineCallback('msgwa', { s: cbField.objectId() });

const STATE_PREFIX = 'msg:';
const STATE_TTL_MS = 30 * 60_000;
const stateId = (telegramId: number) => `${STATE_PREFIX}${telegramId}`;

interface ComposeState {
  threadId: string;
  /** Several threads at once (a teacher writing to all parents of a student); the first is `threadId`. */
  threadIds?: string[];
  personId: string;
  at: number;
}

/** A label from the domain in the reader's language. */
export function labelText(t: Translate, label: Label): string {
  const vars = label.vars;
  return t(label.key, {
    ...vars,
    subjects: Array.isArray(vars.subjects) ? vars.subjects.join(', ') : vars.subjects,
    relation: typeof vars.relation === 'string' ? t(vars.relation) : undefined,
  });
}

function teacherButton(t: Translate, o: TeacherOption): string {
  // A button is short: at most two subjects (a primary class teacher teaches nearly all of them).
  const subjects = (o.subjects.length > 2 ? [...o.subjects.slice(0, 2), `+${o.subjects.length - 2}`] : o.subjects).join(', ');
  if (o.classTeacher && subjects) return t('messaging.teacherButtonClassSubjects', { name: o.name, subjects });
  if (o.classTeacher) return t('messaging.teacherButtonClass', { name: o.name });
  return t('messaging.teacherButtonSubjects', { name: o.name, subjects });
}

async function setComposing(ctx: BotContext, threadId: string, threadIds?: string[]): Promise<void> {
  const actor = ctx.actor;
  if (!actor?.personId || !ctx.from) return;
  const value: ComposeState = {
    threadId,
    ...(threadIds && threadIds.length > 1 ? { threadIds } : {}),
    personId: String(actor.personId),
    at: ctx.deps.now().getTime(),
  };
  await ctx.deps.db.models.ConversationState.updateOne(
    { _id: stateId(ctx.from.id) },
    { $set: { value, updatedAt: ctx.deps.now() } },
    { upsert: true },
  );
}

async function composing(ctx: BotContext): Promise<ComposeState | undefined> {
  if (!ctx.from || !ctx.actor?.personId) return undefined;
  const doc = await ctx.deps.db.models.ConversationState.findById(stateId(ctx.from.id), { value: 1 }).lean();
  const value = doc?.value as ComposeState | undefined;
  if (!value?.threadId) return undefined;
  if (value.personId !== String(ctx.actor.personId)) return undefined;
  if (ctx.deps.now().getTime() - (value.at ?? 0) > STATE_TTL_MS) return undefined;
  return value;
}

const stopComposing = (ctx: BotContext) =>
  ctx.from ? ctx.deps.db.models.ConversationState.deleteOne({ _id: stateId(ctx.from.id) }) : Promise.resolve();

/** What a message carries, or undefined for what cannot be sent to a teacher (stickers, polls, …). */
function contentOf(m: Message): MessageContent | undefined {
  if (m.text !== undefined) return { kind: 'text', text: m.text };
  if (m.photo && m.photo.length > 0) {
    const largest = m.photo[m.photo.length - 1];
    return { kind: 'photo', fileId: largest?.file_id, text: m.caption };
  }
  if (m.document) return { kind: 'document', fileId: m.document.file_id, text: m.caption };
  if (m.voice) return { kind: 'voice', fileId: m.voice.file_id, text: m.caption };
  return undefined;
}

const doneKeyboard = (t: Translate) => new InlineKeyboard().text(t('messaging.done'), composeDoneCb.pack({}));

/** The sender's confirmation: Recall, and Done while composing. */
function sentKeyboard(t: Translate, messageId: string, composing: boolean): InlineKeyboard {
  const kb = new InlineKeyboard().text(t('messaging.recall'), recallCb.pack({ m: messageId }));
  return composing ? kb.text(t('messaging.done'), composeDoneCb.pack({})) : kb;
}

const SHORT_TIME = { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' } as const;

/** Dates and times as the reader reads them, in the school's time zone. */
async function schoolTimeFormat(ctx: BotContext, opts: Intl.DateTimeFormatOptions): Promise<Intl.DateTimeFormat> {
  const school = ctx.actor ? await cachedSchool(ctx.deps.db, ctx.actor.schoolId) : null;
  return new Intl.DateTimeFormat(ctx.locale === 'ru' ? 'ru-RU' : 'en-GB', { timeZone: school?.timezone ?? 'UTC', ...opts });
}

async function sentText(ctx: BotContext, sent: SentMessage): Promise<string> {
  const lines = [ctx.t('messaging.sent')];
  if (sent.mutedNotice) lines.push('', ctx.t('messaging.mutedNotice'));
  if (sent.heldUntil) {
    const at = (await schoolTimeFormat(ctx, { weekday: 'short', ...SHORT_TIME })).format(sent.heldUntil);
    lines.push('', ctx.t('messaging.heldNotice', { at }));
  }
  return lines.join('\n');
}

const WEEKDAYS: Record<string, number> = {
  mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6, sun: 7,
  пн: 1, вт: 2, ср: 3, чт: 4, пт: 5, сб: 6, вс: 7,
};
const hhmm = (h: string, m: string) => `${h.padStart(2, '0')}:${m}`;

/** "Mon-Fri 15:00-17:00", "Пн-Пт 15:00-17:00", "Wed 14:00-15:30". */
export const officeHoursInput = z
  .string()
  .trim()
  .toLowerCase()
  .transform((s, ctx): OfficeHours => {
    const m = /^(\p{L}{2,3})(?:\s*[-–]\s*(\p{L}{2,3}))?\s+(\d{1,2}):([0-5]\d)\s*[-–]\s*(\d{1,2}):([0-5]\d)$/u.exec(s);
    const first = m?.[1] ? WEEKDAYS[m[1]] : undefined;
    const last = m?.[2] ? WEEKDAYS[m[2]] : first;
    if (!m || first === undefined || last === undefined || last < first) {
      ctx.addIssue({ code: 'custom', message: 'format' });
      return z.NEVER;
    }
    const [fh, fm, th, tm] = [m[3] ?? '', m[4] ?? '', m[5] ?? '', m[6] ?? ''];
    const from = hhmm(fh, fm);
    const to = hhmm(th, tm);
    if (Number(fh) > 23 || Number(th) > 23 || to <= from) {
      ctx.addIssue({ code: 'custom', message: 'times' });
      return z.NEVER;
    }
    const weekdays: number[] = [];
    for (let d = first; d <= last; d++) weekdays.push(d);
    return { weekdays, from, to };
  });

const DAY_NAMES = ['', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
function officeHoursText(t: Translate, h: OfficeHours): string {
  const first = h.weekdays[0] ?? 1;
  const last = h.weekdays[h.weekdays.length - 1] ?? first;
  const day = (d: number) => t(`messaging.officeHours.day.${DAY_NAMES[d]}`);
  const days = first === last ? day(first) : `${day(first)}–${day(last)}`;
  return `${days} ${h.from}–${h.to}`;
}

async function teacherWrite(ctx: BotContext): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const classes = await listTeachingClasses(ctx.deps.db, actor);
  if (classes.length === 0) {
    await ctx.reply(ctx.t('messaging.teacherWrite.noClasses'));
    return;
  }
  const kb = new InlineKeyboard();
  for (const c of classes) kb.text(c.name, teacherClassCb.pack({ c: c.id })).row();
  await ctx.reply(ctx.t('messaging.teacherWrite.pickClass'), { reply_markup: kb });
}

async function showTeachers(ctx: BotContext, studentId: string, edit: boolean): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const [teachers, children] = await Promise.all([
    listWritableTeachers(ctx.deps.db, actor, studentId),
    listMyChildren(ctx.deps.db, actor),
  ]);
  const child = children.find((c) => c.studentId === studentId);
  if (teachers.length === 0) {
    await ctx.reply(ctx.t('messaging.noTeachers'));
    return;
  }
  const kb = new InlineKeyboard();
  for (const o of teachers) kb.text(teacherButton(ctx.t, o), writeTeacherCb.pack({ s: studentId, t: o.teacherId })).row();
  const text = ctx.t('messaging.pickTeacher', { student: child?.name ?? '—' });
  if (edit) await ctx.editMessageText(text, { reply_markup: kb });
  else await ctx.reply(text, { reply_markup: kb });
}

async function showThread(ctx: BotContext, threadId: string, page: number, edit: boolean): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const view = await readThread(ctx.deps.db, actor, threadId, page);
  const fmt = await schoolTimeFormat(ctx, SHORT_TIME);
  const lines = [
    ctx.t('messaging.threadTitle', { with: labelText(ctx.t, view.with), page: view.page + 1, pages: view.pages }),
    '',
  ];
  if (view.messages.length === 0) lines.push(ctx.t('messaging.threadEmpty'));
  for (const m of view.messages) {
    const who = m.mine ? ctx.t('messaging.me') : ctx.t('messaging.them');
    const media = m.kind === 'text' ? '' : `${ctx.t(`messaging.media.${m.kind}`)} `;
    const body = m.recalled ? ctx.t('messaging.recalled') : `${media}${(m.text ?? '').slice(0, 300)}`;
    lines.push(`${fmt.format(m.sentAt)} ${who}: ${body}`);
  }
  const kb = new InlineKeyboard();
  if (view.page + 1 < view.pages) kb.text(ctx.t('messaging.older'), threadOpenCb.pack({ t: threadId, p: view.page + 1 }));
  if (view.page > 0) kb.text(ctx.t('messaging.newer'), threadOpenCb.pack({ t: threadId, p: view.page - 1 }));
  kb.row().text(ctx.t('messaging.replyButton'), threadReplyCb.pack({ t: threadId }));
  if (view.side === 'teacher') {
    kb.row().text(
      view.muted ? ctx.t('messaging.unmute') : ctx.t('messaging.mute'),
      muteCb.pack({ t: threadId, on: view.muted ? 0 : 1 }),
    );
  }
  kb.text(ctx.t('messaging.report'), reportCb.pack({ t: threadId }));
  if (view.muted) lines.push('', ctx.t('messaging.mutedState'));
  const text = lines.join('\n').slice(0, 4096);
  if (edit) await ctx.editMessageText(text, { reply_markup: kb });
  else await ctx.reply(text, { reply_markup: kb });
}

/**
 * The student's card for writing (a teacher who teaches the student): the guardians by relation
 * and name, who is in the bot, a button per parent in the bot and "All parents" when there are
 * several. Never a phone number. Also reached from the /children card.
 */
export async function showFamilyCard(ctx: BotContext, studentId: string): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  const card = await listFamilyContacts(ctx.deps.db, actor, studentId);
  if (card.contacts.length === 0) {
    await showScreen(ctx, ctx.t('messaging.teacherWrite.noContacts', { student: card.student }));
    return;
  }
  const joined = card.contacts.filter((c) => c.joined);
  const contacts = card.contacts
    .map((c) => ctx.t(c.joined ? 'messaging.teacherWrite.cardJoined' : 'messaging.teacherWrite.cardNotJoined', { contact: labelText(ctx.t, c.label) }))
    .join('\n');
  const kb = new InlineKeyboard();
  if (joined.length > 1) kb.text(ctx.t('messaging.teacherWrite.allParents', { n: joined.length }), teacherAllParentsCb.pack({ s: studentId })).row();
  for (const c of joined) kb.text(labelText(ctx.t, c.label), teacherParentCb.pack({ s: studentId, p: c.personId })).row();
  const text =
    joined.length === 0
      ? `${ctx.t('messaging.teacherWrite.card', { student: card.student, className: card.className, contacts })}\n\n${ctx.t('messaging.teacherWrite.noneJoined', { student: card.student })}`
      : ctx.t('messaging.teacherWrite.card', { student: card.student, className: card.className, contacts });
  await showScreen(ctx, text, joined.length > 0 ? kb : undefined);
}

async function showReportedThread(ctx: BotContext, threadId: string, page: number): Promise<void> {
  const actor = ctx.actor;
  if (!actor) throw new AccessDenied();
  // Refuses anyone but the admin, and a conversation nobody reported.
  const view = await readReportedThread(ctx.deps.db, actor, threadId, page, ctx.deps.now());
  const fmt = await schoolTimeFormat(ctx, SHORT_TIME);
  const lines = [
    ctx.t('messaging.reported.title', {
      family: labelText(ctx.t, view.family),
      teacher: labelText(ctx.t, view.teacher),
      page: view.page + 1,
      pages: view.pages,
    }),
    '',
  ];
  for (const m of view.messages) {
    const who = ctx.t(m.side === 'teacher' ? 'messaging.reported.teacher' : 'messaging.reported.family');
    const media = m.kind === 'text' ? '' : `${ctx.t(`messaging.media.${m.kind}`)} `;
    const body = `${media}${(m.text ?? '').slice(0, 300)}`;
    lines.push(`${fmt.format(m.sentAt)} ${who}: ${m.recalled ? `${ctx.t('messaging.reported.recalled')} ` : ''}${body}`);
  }
  const kb = new InlineKeyboard();
  if (view.page + 1 < view.pages) kb.text(ctx.t('messaging.older'), reportViewCb.pack({ t: threadId, p: view.page + 1 }));
  if (view.page > 0) kb.text(ctx.t('messaging.newer'), reportViewCb.pack({ t: threadId, p: view.page - 1 }));
  await ctx.reply(lines.join('\n').slice(0, 4096), { reply_markup: kb });
}

export function messagingFeature() {
  const composer = new Composer<BotContext>();
  const privateChat = composer.chatType('private');

  privateChat.command('write', async (ctx) => {
    const actor = ctx.actor;
    if (!actor) throw new AccessDenied();
    if (!actor.roles.has('parent') && !actor.roles.has('student')) {
      // A teacher starts a thread with the family of a child they teach.
      if (actor.roles.has('teacher')) return teacherWrite(ctx);
      return ctx.reply(ctx.t('messaging.notFamily'));
    }
    const children = await listMyChildren(ctx.deps.db, actor);
    if (children.length === 0) return ctx.reply(ctx.t('messaging.noTeachers'));
    if (children.length === 1 && children[0]) return showTeachers(ctx, children[0].studentId, false);
    const kb = new InlineKeyboard();
    for (const c of children) {
      kb.text(c.className ? `${c.name}, ${c.className}` : c.name, writeChildCb.pack({ s: c.studentId })).row();
    }
    await ctx.reply(ctx.t('messaging.pickChild'), { reply_markup: kb });
  });

  privateChat.command('inbox', async (ctx) => {
    const actor = ctx.actor;
    if (!actor) throw new AccessDenied();
    const entries = await listInbox(ctx.deps.db, actor);
    if (entries.length === 0) return ctx.reply(ctx.t('messaging.inboxEmpty'));
    const kb = new InlineKeyboard();
    const lines = [ctx.t('messaging.inboxTitle'), ''];
    for (const e of entries) {
      const who = labelText(ctx.t, e.with);
      lines.push(ctx.t('messaging.inboxLine', { with: who, n: e.unread }));
      kb.text(`${e.unread > 0 ? `(${e.unread}) ` : ''}${who}`.slice(0, 60), threadOpenCb.pack({ t: e.threadId, p: 0 })).row();
    }
    await ctx.reply(lines.join('\n').slice(0, 4096), { reply_markup: kb });
  });

  privateChat.command('officehours', async (ctx) => {
    const actor = ctx.actor;
    if (!actor?.roles.has('teacher')) return ctx.reply(ctx.t('messaging.officeHours.teachersOnly'));
    const arg = String(ctx.match ?? '').trim();
    if (arg === '') {
      const current = await getOfficeHours(ctx.deps.db, actor);
      const now = current ? ctx.t('messaging.officeHours.current', { hours: officeHoursText(ctx.t, current) }) : ctx.t('messaging.officeHours.none');
      return ctx.reply(`${now}\n\n${ctx.t('messaging.officeHours.usage')}`);
    }
    if (/^(off|нет|выкл)$/i.test(arg)) {
      await setOfficeHours(ctx.deps.db, actor, undefined);
      return ctx.reply(ctx.t('messaging.officeHours.cleared'));
    }
    const parsed = officeHoursInput.safeParse(arg);
    if (!parsed.success) return ctx.reply(ctx.t('messaging.officeHours.invalid', { input: arg.slice(0, 60) }));
    await setOfficeHours(ctx.deps.db, actor, parsed.data);
    await ctx.reply(ctx.t('messaging.officeHours.saved', { hours: officeHoursText(ctx.t, parsed.data) }));
  });

  composer.callbackQuery(recallCb.filter, async (ctx) => {
    const data = recallCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // The domain refuses someone else's message and anything older than 10 minutes.
    const result = await recallMessage(ctx.deps.db, ctx.actor, data.m, ctx.deps.now());
    for (const d of result.deletes) {
      await ctx.api.deleteMessage(d.chatId, d.messageId).catch(() => undefined);
    }
    await ctx.answerCallbackQuery({ text: ctx.t('messaging.recallDone') });
    await ctx.editMessageText(ctx.t('messaging.recallDone')).catch(() => undefined);
  });

  composer.callbackQuery(muteCb.filter, async (ctx) => {
    const data = muteCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await setThreadMuted(ctx.deps.db, ctx.actor, data.t, data.on === 1);
    await ctx.answerCallbackQuery({ text: ctx.t(data.on === 1 ? 'messaging.mutedOk' : 'messaging.unmutedOk') });
    await showThread(ctx, data.t, 0, true);
  });

  composer.callbackQuery(reportCb.filter, async (ctx) => {
    const data = reportCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await reportThread(ctx.deps.db, ctx.actor, data.t, ctx.deps.now());
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t('messaging.reportDone'));
  });

  composer.callbackQuery(reportViewCb.filter, async (ctx) => {
    const data = reportViewCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showReportedThread(ctx, data.t, data.p);
    await ctx.answerCallbackQuery();
  });

  composer.callbackQuery(teacherClassCb.filter, async (ctx) => {
    const data = teacherClassCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    const students = await listTaughtStudents(ctx.deps.db, ctx.actor, data.c);
    const kb = new InlineKeyboard();
    for (const st of students) kb.text(st.name, teacherStudentCb.pack({ s: st.id })).row();
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(ctx.t('messaging.teacherWrite.pickStudent'), { reply_markup: kb });
  });

  composer.callbackQuery(teacherStudentCb.filter, async (ctx) => {
    const data = teacherStudentCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses a student the teacher does not teach (a forged button).
    await showFamilyCard(ctx, data.s);
    await ctx.answerCallbackQuery();
  });

  composer.callbackQuery(teacherAllParentsCb.filter, async (ctx) => {
    const data = teacherAllParentsCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // The domain checks that the teacher teaches the child; parents not in the bot are left out.
    const threadIds = await startFamilyThreads(ctx.deps.db, ctx.actor, data.s, ctx.deps.now());
    const first = threadIds[0];
    if (!first) throw new AccessDenied();
    const { student } = await listFamilyContacts(ctx.deps.db, ctx.actor, data.s);
    await setComposing(ctx, first, threadIds);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t('messaging.teacherWrite.composeAll', { student, n: threadIds.length }), { reply_markup: doneKeyboard(ctx.t) });
  });

  composer.callbackQuery(teacherParentCb.filter, async (ctx) => {
    const data = teacherParentCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // The domain checks that the teacher teaches the child and that this is the child's guardian.
    const { threadId } = await startThread(ctx.deps.db, ctx.actor, { studentId: data.s, parentId: data.p }, ctx.deps.now());
    const partner = await threadPartner(ctx.deps.db, ctx.actor, threadId);
    await setComposing(ctx, threadId);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t('messaging.compose', { with: labelText(ctx.t, partner) }), { reply_markup: doneKeyboard(ctx.t) });
  });

  composer.callbackQuery(writeChildCb.filter, async (ctx) => {
    const data = writeChildCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showTeachers(ctx, data.s, true);
    await ctx.answerCallbackQuery();
  });

  composer.callbackQuery(writeTeacherCb.filter, async (ctx) => {
    const data = writeTeacherCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // The domain checks that this teacher teaches the child: a forged button is refused there.
    const { threadId } = await startThread(ctx.deps.db, ctx.actor, { studentId: data.s, teacherId: data.t }, ctx.deps.now());
    const partner = await threadPartner(ctx.deps.db, ctx.actor, threadId);
    await setComposing(ctx, threadId);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t('messaging.compose', { with: labelText(ctx.t, partner) }), { reply_markup: doneKeyboard(ctx.t) });
  });

  composer.callbackQuery(threadReplyCb.filter, async (ctx) => {
    const data = threadReplyCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    // Refuses anyone who is not in the thread (a forwarded or forged button).
    const partner = await threadPartner(ctx.deps.db, ctx.actor, data.t);
    await setComposing(ctx, data.t);
    await ctx.answerCallbackQuery();
    await ctx.reply(ctx.t('messaging.composeReply', { with: labelText(ctx.t, partner) }), { reply_markup: doneKeyboard(ctx.t) });
  });

  composer.callbackQuery(threadOpenCb.filter, async (ctx) => {
    const data = threadOpenCb.unpack(ctx.callbackQuery.data);
    if (!data || !ctx.actor) return ctx.answerCallbackQuery({ text: ctx.t('common.stale') });
    await showThread(ctx, data.t, data.p, true);
    await ctx.answerCallbackQuery();
  });

  composer.callbackQuery(composeDoneCb.filter, async (ctx) => {
    await stopComposing(ctx);
    await ctx.answerCallbackQuery();
    await ctx.editMessageReplyMarkup().catch(() => undefined);
    await ctx.reply(ctx.t('messaging.stopped'));
  });

  // A reply to a delivered message, or anything sent while composing, goes to the thread;
  // everything else passes on unchanged.
  privateChat.on('message', async (ctx, next) => {
    const actor = ctx.actor;
    if (!actor?.personId) return next();
    const m = ctx.message;
    if (m.text?.startsWith('/')) {
      // A command ends composing and runs as usual.
      await stopComposing(ctx);
      return next();
    }
    const replyTo = m.reply_to_message?.message_id;
    let threadId = replyTo !== undefined ? await threadOfDelivered(ctx.deps.db, actor, ctx.chat.id, replyTo) : undefined;
    const state = threadId ? undefined : await composing(ctx);
    threadId ??= state?.threadId;
    if (!threadId) return next();
    const content = contentOf(m);
    if (!content) {
      await ctx.reply(ctx.t('messaging.unsupported'), { reply_markup: state ? doneKeyboard(ctx.t) : undefined });
      return;
    }
    if (state?.threadIds && state.threadIds.length > 1) {
      // One message to several parents; counted once, recalled together.
      const all = await sendMessages(ctx.deps.db, actor, state.threadIds, content, ctx.deps.now());
      await setComposing(ctx, state.threadId, state.threadIds);
      const firstId = all[0]?.messageId;
      if (!firstId) return;
      await ctx.reply(ctx.t('messaging.teacherWrite.sentAll', { n: all.length }), { reply_markup: sentKeyboard(ctx.t, firstId, true) });
      return;
    }
    const sent = await sendMessage(ctx.deps.db, actor, threadId, content, ctx.deps.now());
    if (state) await setComposing(ctx, threadId);
    await ctx.reply(await sentText(ctx, sent), { reply_markup: sentKeyboard(ctx.t, sent.messageId, Boolean(state)) });
  });

  return composer;
}
