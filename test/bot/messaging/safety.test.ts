import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportViewCb } from '../../../src/bot/callbacks/notices.js';
import { teacherParentCb, teacherStudentCb } from '../../../src/bot/callbacks/messaging.js';
import { reportViewData } from '../../../src/bot/callbacks/notices.js';
import { officeHoursStart } from '../../../src/domain/messaging/office-hours.js';
import { startThread } from '../../../src/domain/messaging/threads.js';
import { actorOf } from '../../support/fixtures.js';
import { bind, familyWorld, type FamilyWorld } from '../../notify/world.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * Safety and records of teacher–family messaging (issue 6, R3, R31): the sender recalls a message
 * within 10 minutes; a teacher mutes a thread and anyone in it reports it to the admins (audited);
 * office hours hold messages until they begin; a teacher starts a thread with a family of a child
 * they teach, and only such a family.
 */
let t: TestApp;
let w: FamilyWorld;
let admin: TestUser;
const db = () => t.app.db;

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  w = await familyWorld(t);
  admin = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
  await bind(db(), w.s.adminId, admin, new Date(t.clock.now().getTime() - 86_400_000));
});
afterAll(async () => {
  await t?.close();
});

const delivered = (u: TestUser, text: string) => waitFor(() => u.messages().find((m) => m.content.includes(text)));
const settle = () => new Promise((r) => setTimeout(r, 400));

/** Waits until the outbox recorded the Telegram id of the copy (what recall deletes). */
const recorded = (text: string) =>
  waitFor(async () => {
    const doc = await db().models.OutboxMessage.findOne({ 'payload.text': text, status: 'sent' }).lean();
    return typeof doc?.messageId === 'number' ? doc : undefined;
  });

async function writeToMathTeacher(text: string): Promise<number> {
  const mother = w.motherA;
  await mother.send('/write');
  await mother.press('Кузнецов И. — Математика');
  await mother.send(text);
  const confirmation = mother.lastMessage();
  if (!confirmation) throw new Error('no confirmation');
  return confirmation.messageId;
}

describe('recall', () => {
  it('within 10 minutes removes the message from the recipient’s chat and the record says recalled', async () => {
    const confirmation = await writeToMathTeacher('Сообщение по ошибке');
    expect(w.motherA.lastText()).toBe('Отправлено ✓');
    expect(w.motherA.buttons()).toEqual(['Отозвать', 'Готово']);
    await delivered(w.mathTeacher, 'Сообщение по ошибке');
    await recorded('Сообщение по ошибке');

    t.clock.advance(9 * 60_000);
    const answer = await w.motherA.press('Отозвать', { messageId: confirmation });
    expect(answer?.text).toBe('Сообщение отозвано.');
    expect(w.mathTeacher.messages().some((m) => m.content.includes('Сообщение по ошибке'))).toBe(false);
    const record = await db().models.ThreadMessage.findOne({ text: 'Сообщение по ошибке' }).lean();
    expect(record?.recalledAt).toBeInstanceOf(Date);

    await w.mathTeacher.send('/inbox');
    await w.mathTeacher.press(/Мама ученика Иванов Матвей/);
    expect(w.mathTeacher.lastText()).toContain('Собеседник: [сообщение отозвано]');
    expect(w.mathTeacher.lastText()).not.toContain('Сообщение по ошибке');
  });

  it('after 10 minutes is refused and the message stays', async () => {
    const confirmation = await writeToMathTeacher('Поздно отзывать');
    await delivered(w.mathTeacher, 'Поздно отзывать');
    await recorded('Поздно отзывать');
    t.clock.advance(10 * 60_000 + 1000);
    const answer = await w.motherA.press('Отозвать', { messageId: confirmation });
    expect(answer?.text).toContain('только в течение 10 минут');
    expect(w.mathTeacher.messages().some((m) => m.content.includes('Поздно отзывать'))).toBe(true);
    const record = await db().models.ThreadMessage.findOne({ text: 'Поздно отзывать' }).lean();
    expect(record?.recalledAt).toBeUndefined();
  });
});

describe('mute and report', () => {
  it('a muted thread is not delivered to the teacher; the parent is told once', async () => {
    const teacher = w.mathTeacher;
    await teacher.send('/inbox');
    await teacher.press(/Мама ученика Иванов Матвей/);
    const answer = await teacher.press('Не получать сообщения');
    expect(answer?.text).toContain('больше не приходят');
    expect(teacher.buttons()).toContain('Снова получать сообщения');

    await writeToMathTeacher('После отключения 1');
    expect(w.motherA.lastText()).toContain('Учитель отключил уведомления этой переписки');
    await w.motherA.send('После отключения 2');
    expect(w.motherA.lastText()).toBe('Отправлено ✓');
    await settle();
    expect(teacher.messages().some((m) => m.content.includes('После отключения'))).toBe(false);
    expect(await db().models.OutboxMessage.countDocuments({ 'payload.text': /После отключения/ })).toBe(0);
    // Kept in the thread all the same.
    expect(await db().models.ThreadMessage.countDocuments({ text: /После отключения/ })).toBe(2);

    await teacher.press('Снова получать сообщения');
    await w.motherA.send('После включения');
    await delivered(teacher, 'После включения');
  });

  it('a report reaches the admin with the participants and is audited', async () => {
    const teacher = w.mathTeacher;
    await teacher.send('/inbox');
    await teacher.press(/Мама ученика Иванов Матвей/);
    await teacher.press('Пожаловаться');
    expect(teacher.lastText()).toBe('Жалоба отправлена администрации школы.');
    const thread = await db().models.MessageThread.findOne({ teacherId: w.s.subjectTeacherId }).lean();
    const notice = await delivered(admin, 'Жалоба на переписку');
    expect(notice.content).toContain(String(thread?._id));
    expect(notice.content).toContain('Учитель (Математика) Кузнецов И.');
    expect(notice.content).toContain('Мама ученика Иванов Матвей, 5А');
    const audit = await db().models.AuditEntry.findOne({ action: 'messaging.thread.reported' }).lean();
    expect(String(audit?.actorId)).toBe(String(w.s.subjectTeacherId));
    expect(String(audit?.studentId)).toBe(String(w.s.familyA.studentId));

    // The admin opens the reported conversation from the notice: read-only, recalled messages
    // marked as such, and the opening is audited.
    expect(reportViewData(String(thread?._id))).toBe(reportViewCb.pack({ t: String(thread?._id), p: 0 }));
    expect(notice.buttons.flat()).toEqual(['Открыть переписку']);
    await admin.press('Открыть переписку', { messageId: notice.messageId });
    const history = admin.lastText() ?? '';
    expect(history).toContain('Переписка (по жалобе): Мама ученика Иванов Матвей, 5А · Математика ↔ Учитель (Математика) Кузнецов И.');
    expect(history).toContain('Семья: После включения');
    expect(history).toContain('Семья: [отозвано] Сообщение по ошибке');
    const viewed = await db().models.AuditEntry.findOne({ action: 'messaging.thread.viewed' }).lean();
    expect(String(viewed?.actorId)).toBe(String(w.s.adminId));

    // Nobody else, and no conversation that was not reported.
    const forged = await teacher.pressData(reportViewCb.pack({ t: String(thread?._id), p: 0 }));
    expect(forged?.text).toContain('У вас нет доступа');
    const mother = await actorOf(db(), w.s.familyA.parentId);
    const other = await startThread(db(), mother, { studentId: String(w.s.familyA.studentId), teacherId: String(w.s.teacherAId) }, t.clock.now());
    const notReported = await admin.pressData(reportViewCb.pack({ t: other.threadId, p: 0 }));
    expect(notReported?.text).toContain('У вас нет доступа');
  });
});

describe('office hours', () => {
  it('parses the format and computes when they begin', () => {
    const hours = { weekdays: [1, 2, 3, 4, 5], from: '15:00', to: '17:00' };
    // Monday 12:00 in Moscow → 15:00 the same day; 16:00 → inside; Friday 18:00 → Monday.
    expect(officeHoursStart(new Date('2026-11-23T09:00:00Z'), 'Europe/Moscow', hours)?.toISOString()).toBe('2026-11-23T12:00:00.000Z');
    expect(officeHoursStart(new Date('2026-11-23T13:00:00Z'), 'Europe/Moscow', hours)).toBeUndefined();
    expect(officeHoursStart(new Date('2026-11-27T15:00:00Z'), 'Europe/Moscow', hours)?.toISOString()).toBe('2026-11-30T12:00:00.000Z');
  });

  it('hold a message until they begin; the sender is told once', async () => {
    const teacher = w.classTeacherA;
    await teacher.send('/officehours когда-нибудь');
    expect(teacher.lastText()).toContain('Не понял «когда-нибудь»');
    await teacher.send('/officehours Пн-Пт 15:00-17:00');
    expect(teacher.lastText()).toContain('Часы приёма: Пн–Пт 15:00–17:00');

    t.clock.set('2026-11-23T10:00:00Z'); // Monday, 13:00 in Moscow
    const mother = w.motherA;
    await mother.send('/write');
    await mother.press('Классный руководитель Петрова А. И.');
    await mother.send('Вне часов приёма 1');
    expect(mother.lastText()).toContain('ваше сообщение будет доставлено');
    await mother.send('Вне часов приёма 2');
    expect(mother.lastText()).toBe('Отправлено ✓');
    await settle();
    expect(teacher.messages().some((m) => m.content.includes('Вне часов приёма'))).toBe(false);

    t.clock.set('2026-11-23T12:00:30Z'); // 15:00:30 in Moscow
    await delivered(teacher, 'Вне часов приёма 1');
    await delivered(teacher, 'Вне часов приёма 2');
    await mother.press('Готово');
  });
});

describe('teacher-started threads', () => {
  it('a teacher writes to a parent of a student they teach', async () => {
    const teacher = w.classTeacherA;
    await teacher.send('/write');
    expect(teacher.buttons()).toEqual(['5А']);
    await teacher.press('5А');
    expect(teacher.buttons()).toEqual(['Иванов Матвей']);
    await teacher.press('Иванов Матвей');
    expect(teacher.buttons()).toEqual(['Всем родителям (2)', 'Мама — Иванова М.', 'Папа — Иванов П.']);
    expect(teacher.lastText()).toContain('Мама — Иванова М. — в боте');
    await teacher.press('Папа — Иванов П.');
    expect(teacher.lastText()).toContain('Напишите сообщение для: Папа ученика Иванов Матвей, 5А');
    await teacher.send('Завтра родительское собрание в 18:00.');
    expect(teacher.lastText()).toBe('Отправлено ✓');
    const got = await delivered(w.fatherA, 'родительское собрание');
    expect(got.content).toContain('Классный руководитель Петрова А. И.');
    await teacher.press('Готово');
  });

  it('cannot with a student they do not teach (forged callbacks refused)', async () => {
    const teacher = w.classTeacherA;
    await teacher.send('/write');
    const s = String(w.s.familyB.studentId);
    const student = await teacher.pressData(teacherStudentCb.pack({ s }));
    expect(student?.text).toContain('У вас нет доступа');
    const parent = await teacher.pressData(teacherParentCb.pack({ s, p: String(w.s.familyB.parentId) }));
    expect(parent?.text).toContain('У вас нет доступа');
    expect(await db().models.MessageThread.countDocuments({ parentId: w.s.familyB.parentId })).toBe(0);
  });
});
