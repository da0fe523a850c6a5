import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTeacherCb } from '../../../src/bot/callbacks/messaging.js';
import { familyWorld, type FamilyWorld } from '../../notify/world.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * Teacher–parent messaging (R3, R24): a parent writes through /write, the teacher answers with
 * Telegram's reply-to and with the Reply button; delivery goes through the outbox worker. Each
 * side sees the other only by role and name. Forged buttons, long texts, floods and stickers are
 * refused with a clear answer.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

/** Polls until `check` returns a value (the delivery worker sends on its own schedule). */
const delivered = (u: TestUser, text: string) => waitFor(() => u.messages().find((m) => m.content.includes(text)));

/** Phone digits, usernames and Telegram ids never appear in what either side reads. */
function assertNoContacts(u: TestUser, others: TestUser[]): void {
  for (const m of u.messages()) {
    expect(m.content).not.toMatch(/900|123-45-67|@\w/);
    for (const o of others) expect(m.content).not.toContain(String(o.id));
  }
}

describe('teacher–parent messaging', () => {
  it('a parent writes, the teacher answers by reply-to and by the Reply button', async () => {
    const mother = w.motherA;
    const teacher = w.mathTeacher;
    await mother.send('/write');
    // One child: straight to the teachers — the class teacher and the subject teacher, with subjects.
    expect(mother.buttons()).toEqual(['Классный руководитель Петрова А. И.', 'Кузнецов И. — Математика']);
    await mother.press('Кузнецов И. — Математика');
    expect(mother.lastText()).toContain('Напишите сообщение');
    await mother.send('Здравствуйте! Матвей сегодня болеет.');
    expect(mother.inboxTexts()).toEqual(['Отправлено ✓']);

    const first = await delivered(teacher, 'Матвей сегодня болеет');
    // Who writes and about which subject.
    expect(first.content).toContain('Мама ученика Иванов Матвей, 5А · Математика');
    expect(first.buttons.flat()).toEqual(['Ответить']);

    // Reply-to on the delivered message goes to the same thread.
    await teacher.replyTo(first.messageId, 'Выздоравливайте, задание пришлю.');
    expect(teacher.inboxTexts()).toEqual(['Отправлено ✓']);
    const answer = await delivered(mother, 'Выздоравливайте');
    expect(answer.content).toContain('Учитель (Математика) Кузнецов И.');

    // The Reply button: the next message goes to the thread.
    await teacher.press('Ответить', { messageId: first.messageId });
    expect(teacher.lastText()).toContain('Напишите ответ');
    await teacher.send('Параграф 12, задачи 1–5.');
    await delivered(mother, 'Параграф 12');
    await teacher.press('Готово');

    // The parent answers by reply-to too; her composing state is still on, the reply wins anyway.
    await mother.replyTo(answer.messageId, 'Спасибо!');
    await delivered(teacher, 'Спасибо!');

    const thread = await db().models.MessageThread.findOne({ teacherId: w.s.subjectTeacherId }).lean();
    expect(thread && String(thread.parentId)).toBe(String(w.s.familyA.parentId));
    expect(await db().models.ThreadMessage.countDocuments({ threadId: thread?._id })).toBe(4);

    assertNoContacts(teacher, [mother, w.fatherA, w.studentA]);
    assertNoContacts(mother, [teacher]);
    await mother.press('Готово');
  });

  it('/inbox lists threads with unread counts and opens the history', async () => {
    const teacher = w.mathTeacher;
    // The teacher has answered since the first message: only the parent's thanks are unread.
    await teacher.send('/inbox');
    expect(teacher.lastText()).toContain('Мама ученика Иванов Матвей, 5А · Математика — непрочитанных: 1');
    await teacher.press(/Мама ученика Иванов Матвей/);
    const history = teacher.lastText() ?? '';
    expect(history).toContain('Переписка: Мама ученика Иванов Матвей, 5А · Математика (страница 1 из 1)');
    expect(history).toContain('Вы: Выздоравливайте');
    expect(history).toContain('Собеседник: Спасибо!');
    await teacher.send('/inbox');
    expect(teacher.lastText()).toContain('непрочитанных: 0');
  });

  it('refuses a teacher who does not teach the child (forged button)', async () => {
    const mother = w.motherA;
    await mother.send('/write');
    const forged = writeTeacherCb.pack({ s: String(w.s.familyA.studentId), t: String(w.s.teacherBId) });
    const answer = await mother.pressData(forged);
    expect(answer?.text).toContain('Писать можно только классному руководителю');
    expect(await db().models.MessageThread.countDocuments({ teacherId: w.s.teacherBId })).toBe(0);
  });

  it('refuses a text over 3800 characters (so the copy with its header fits 4096) and explains unsupported content', async () => {
    const mother = w.motherA;
    await mother.send('/write');
    await mother.press('Классный руководитель Петрова А. И.');
    const before = await db().models.ThreadMessage.countDocuments({});
    await mother.send('а'.repeat(3801));
    expect(mother.lastText()).toContain('Сообщение слишком длинное (3801 символов): не больше 3800');
    await mother.sendSticker();
    expect(mother.lastText()).toContain('Это нельзя отправить учителю');
    await mother.sendPhoto(undefined, 'б'.repeat(801));
    expect(mother.lastText()).toContain('Сообщение слишком длинное (801 символов): не больше 800');
    expect(await db().models.ThreadMessage.countDocuments({})).toBe(before);
    // The longest text arrives whole, header and all: nothing is cut at delivery.
    const longest = `${'в'.repeat(3799)}!`;
    await mother.send(longest);
    expect(mother.lastText()).toBe('Отправлено ✓');
    const copy = await waitFor(() => w.classTeacherA.messages().find((m) => m.content.includes('ввв!')));
    expect(copy.content).toContain(longest);
    expect(copy.content).toContain('Мама ученика Иванов Матвей, 5А');
    // A photo is fine.
    await mother.sendPhoto(undefined, 'справка');
    expect(mother.lastText()).toBe('Отправлено ✓');
    const photo = await waitFor(() => w.classTeacherA.sentPhotos().at(-1));
    expect(photo.caption ?? '').toContain('Мама ученика Иванов Матвей, 5А');
  });

  it('limits a sender to 20 messages a minute', async () => {
    const mother = w.motherA;
    t.clock.advance(5 * 60_000);
    for (let i = 1; i <= 20; i++) {
      await mother.send(`Сообщение ${i}`);
      expect(mother.lastText()).toBe('Отправлено ✓');
      t.clock.advance(1000);
    }
    await mother.send('Сообщение 21');
    expect(mother.lastText()).toContain('Слишком много сообщений: не больше 20 в минуту');
    t.clock.advance(60_000);
    await mother.send('Сообщение 22');
    expect(mother.lastText()).toBe('Отправлено ✓');
  });

  it('without composing, messages behave as before', async () => {
    const mother = w.motherA;
    await mother.press('Готово');
    expect(mother.lastText()).toContain('Ответы придут сюда');
    await mother.send('привет');
    expect(mother.lastText()).not.toBe('Отправлено ✓');
    expect(await db().models.ThreadMessage.countDocuments({ text: 'привет' })).toBe(0);
  });
});
