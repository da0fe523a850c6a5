import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { annReadCb } from '../../../src/bot/callbacks/notices.js';
import { announcementStatus } from '../../../src/domain/messaging/announcement-receipts.js';
import { sendAnnouncement } from '../../../src/domain/messaging/announcements.js';
import { bind } from '../../notify/world.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * Class announcements (issue 6, R23, R24): a class teacher writes to all 28 families of the class
 * through /announce; each parent gets one copy with a Read button; the status screen counts reads
 * and "Remind" re-sends only to those who have not read. Delivery stays within Telegram's limits.
 */
let t: TestApp;
let s: SchoolFixture;
const db = () => t.app.db;
const parents: Array<{ id: Types.ObjectId; user: TestUser }> = [];
let teacherA: TestUser;
let teacherB: TestUser;
let motherB: TestUser;

const copyOf = (u: TestUser, text: string) => u.messages().filter((m) => m.content.includes(text));

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  s = await makeSchool(db());
  const boundAt = new Date(t.clock.now().getTime() - 86_400_000);
  const user = (firstName: string) => t.world.user({ firstName, languageCode: 'ru' });
  // Family A of the fixture plus 27 more families in 5А: 28 parents.
  const first = user('Мария');
  await bind(db(), s.familyA.parentId, first, boundAt);
  parents.push({ id: s.familyA.parentId, user: first });
  for (let i = 1; i <= 27; i++) {
    const student = await db().models.Person.create({
      schoolId: s.schoolId,
      externalId: `s-x${i}`,
      lastName: `Ученик${i}`,
      firstName: 'Иван',
      roles: ['student'],
      student: { classId: s.classA.id, status: 'studying', form: 'regular', birthDate: '2015-03-01' },
    });
    const parent = await db().models.Person.create({
      schoolId: s.schoolId,
      externalId: `p-x${i}`,
      lastName: `Родитель${i}`,
      firstName: 'Ольга',
      roles: ['parent'],
    });
    await db().models.Guardianship.create({ schoolId: s.schoolId, parentId: parent._id, studentId: student._id, relation: 'mother' });
    const u = user(`Ольга${i}`);
    await bind(db(), parent._id, u, boundAt);
    parents.push({ id: parent._id, user: u });
  }
  teacherA = user('Анна');
  teacherB = user('Елена');
  motherB = user('Светлана');
  await bind(db(), s.teacherAId, teacherA, boundAt);
  await bind(db(), s.teacherBId, teacherB, boundAt);
  await bind(db(), s.familyB.parentId, motherB, boundAt);
});
afterAll(async () => {
  await t?.close();
});

describe('class announcements', () => {
  let announcementId = '';
  const TEXT = 'Завтра классный час переносится на 14:00.';

  it('the class teacher announces to the whole class: 28 copies, no 429', async () => {
    await teacherA.send('/announce');
    expect(teacherA.buttons()).toContain('5А');
    expect(teacherA.buttons()).not.toContain('5Б');
    await teacherA.press('5А');
    await teacherA.press(/Всему классу/);
    expect(teacherA.lastText()).toContain('Напишите текст объявления');
    // A sticker is explained, and the draft waits for the text.
    await teacherA.sendSticker();
    expect(teacherA.lastText()).toContain('Стикеры, голосовые, опросы и геопозицию разослать нельзя');
    await teacherA.send(TEXT);
    expect(teacherA.lastText()).toContain('Предпросмотр');
    expect(teacherA.buttons()).toEqual(['Отправить', '🚨 Срочно', 'Отмена']);

    const before = t.fake.stats.tooManyRequests;
    t.fake.enforceRateLimits({ perSecond: 30, perChatPerSecond: 1 });
    await teacherA.press('Отправить');
    for (const p of parents) await waitFor(() => copyOf(p.user, TEXT)[0]);
    expect(t.fake.stats.tooManyRequests - before).toBe(0);
    t.fake.disableRateLimits();

    for (const p of parents) {
      const copies = copyOf(p.user, TEXT);
      expect(copies).toHaveLength(1);
      expect(copies[0]?.content).toContain('Объявление: Петрова А. И., 5А');
      expect(copies[0]?.buttons.flat()).toEqual(['Прочитано']);
    }
    const ann = await db().models.Announcement.findOne({ senderId: s.teacherAId }).lean();
    announcementId = String(ann?._id);
    expect(await db().models.AnnouncementReceipt.countDocuments({ announcementId: ann?._id })).toBe(28);
    expect(await db().models.OutboxMessage.countDocuments({ key: { $regex: `^msg:ann:${announcementId}:` } })).toBe(28);
    // A parent of another class gets nothing.
    expect(copyOf(motherB, TEXT)).toHaveLength(0);
    expect(teacherA.lastText()).toContain('Получателей: 28');
  });

  it('reads are counted on the status screen; Remind re-sends only to the unread', async () => {
    const readers = parents.slice(0, 10);
    for (const p of readers) {
      const copy = copyOf(p.user, TEXT)[0];
      await p.user.press('Прочитано', { messageId: copy?.messageId });
    }
    const after = copyOf(readers[0]?.user as TestUser, TEXT)[0];
    expect(after?.buttons.flat()).toEqual(['✅ Прочитано']);
    // Pressing again changes nothing.
    await readers[0]?.user.press('✅ Прочитано', { messageId: after?.messageId });
    expect(await db().models.AnnouncementReceipt.countDocuments({ readAt: { $exists: true } })).toBe(10);

    await teacherA.press('🔄 Обновить');
    const screen = teacherA.lastText() ?? '';
    expect(screen).toContain('Получателей: 28 · доставлено: 28 · прочитали: 10');
    expect(screen).toContain('Родитель27 Ольга (Ученик27 Иван)');
    expect(screen).not.toContain('Иванова Мария');

    await teacherA.press('🔔 Напомнить');
    for (const p of parents.slice(10)) await waitFor(() => (copyOf(p.user, TEXT).length === 2 ? true : undefined));
    // Give the worker a moment: nothing more arrives for those who read it.
    await new Promise((r) => setTimeout(r, 300));
    for (const p of readers) expect(copyOf(p.user, TEXT)).toHaveLength(1);
    expect(copyOf(parents[27]?.user as TestUser, TEXT)[1]?.content).toContain('Напоминание');
    expect(copyOf(motherB, TEXT)).toHaveLength(0);
  });

  it('a forged Read button for an announcement not sent to the parent is refused', async () => {
    await motherB.send('/help');
    const answer = await motherB.pressData(annReadCb.pack({ a: announcementId }));
    expect(answer?.text).toContain('нет доступа');
    expect(answer?.text).not.toContain('Спасибо');
    expect(await db().models.AnnouncementReceipt.countDocuments({ parentId: s.familyB.parentId })).toBe(0);
  });

  it('a teacher who is not the class teacher cannot announce to that class', async () => {
    const actor = await actorOf(db(), s.teacherBId);
    await expect(
      sendAnnouncement(db(), actor, { classId: String(s.classA.id), text: 'Чужой класс', now: t.clock.now() }),
    ).rejects.toMatchObject({ key: 'errors.forbidden' });
    expect(await db().models.Announcement.countDocuments({ senderId: s.teacherBId })).toBe(0);
    // Nor see the status of another teacher's announcement.
    await expect(announcementStatus(db(), actor, announcementId)).rejects.toMatchObject({ key: 'errors.forbidden' });
    // Teacher B's /announce offers only 5Б.
    await teacherB.send('/announce');
    expect(teacherB.buttons()).toEqual(['5Б', 'Отмена']);
  });

  it('a reply to a copy goes only to the sender as a private thread', async () => {
    const p = parents[5];
    const copy = copyOf(p?.user as TestUser, TEXT)[0];
    await p?.user.replyTo(copy?.messageId as number, 'Хорошо, будем.');
    expect(p?.user.lastText()).toContain('Ответ отправлен автору объявления');
    const thread = await db().models.MessageThread.findOne({ parentId: p?.id, teacherId: s.teacherAId }).lean();
    expect(thread).toBeTruthy();
    await waitFor(() => teacherA.messages().find((m) => m.content.includes('Хорошо, будем.')));
    for (const other of parents.filter((x) => x !== p)) {
      expect(other.user.messages().some((m) => m.content.includes('Хорошо, будем.'))).toBe(false);
    }
  });
});
