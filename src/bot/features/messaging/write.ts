import { Composer, InlineKeyboard } from 'grammy';
import { listFamilyContacts, listTaughtStudents, listTeachingClasses, listWritableTeachers, type TeacherOption } from '../../../domain/messaging/contacts.js';
import { startFamilyThreads, startThread, threadPartner } from '../../../domain/messaging/threads.js';
import type { Actor } from '../../../domain/school/actor.js';
import { listMyChildren } from '../../../domain/school/people.js';
import { AccessDenied } from '../../../domain/shared/errors.js';
import type { Translate } from '../../../i18n.js';
import type { BotContext } from '../../context.js';
import { showScreen } from '../../ui.js';
import {
  teacherAllParentsCb,
  teacherClassCb,
  teacherParentCb,
  teacherStudentCb,
  writeChildCb,
  writeTeacherCb,
} from '../../callbacks/messaging.js';
import { doneKeyboard, setComposing } from './compose.js';
import { labelText } from './format.js';

/**
 * /write (R3, R24): a parent (or the student) picks the child, then one of the child's teachers; a
 * teacher picks a class, a student, then a parent (or all of them). Then whatever they send goes to
 * the thread (./compose.ts).
 */
function teacherButton(t: Translate, o: TeacherOption): string {
  // A button is short: at most two subjects (a primary class teacher teaches nearly all of them).
  const subjects = (o.subjects.length > 2 ? [...o.subjects.slice(0, 2), `+${o.subjects.length - 2}`] : o.subjects).join(', ');
  if (o.classTeacher && subjects) return t('messaging.teacherButtonClassSubjects', { name: o.name, subjects });
  if (o.classTeacher) return t('messaging.teacherButtonClass', { name: o.name });
  return t('messaging.teacherButtonSubjects', { name: o.name, subjects });
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

/** After a button opened a thread (the domain checked access): composing in it begins. */
async function composeIn(ctx: BotContext, actor: Actor, threadId: string): Promise<void> {
  const partner = await threadPartner(ctx.deps.db, actor, threadId);
  await setComposing(ctx, threadId);
  await ctx.answerCallbackQuery();
  await ctx.editMessageReplyMarkup().catch(() => undefined);
  await ctx.reply(ctx.t('messaging.compose', { with: labelText(ctx.t, partner) }), { reply_markup: doneKeyboard(ctx.t) });
}

export function writeFeature() {
  const composer = new Composer<BotContext>();

  composer.chatType('private').command('write', async (ctx) => {
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
    await composeIn(ctx, ctx.actor, threadId);
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
    await composeIn(ctx, ctx.actor, threadId);
  });

  return composer;
}
