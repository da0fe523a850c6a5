import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandsFor } from '../../../src/bot/commands.js';
import { sendAnnouncement } from '../../../src/domain/messaging/announcements.js';
import { bind } from '../../notify/world.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * Announcements beyond one class (issue 6): a reply to a deputy's announcement reaches the deputy
 * (who does not teach the child); the deputy and the admin announce to a grade level or the whole
 * school; a photo goes with the text as its caption, under the Read button.
 */
let t: TestApp;
let s: SchoolFixture;
const db = () => t.app.db;
let deputy: TestUser;
let admin: TestUser;
let teacherA: TestUser;
let motherA: TestUser;
let motherB: TestUser;
let mother6: TestUser;
let deputyId: SchoolFixture['adminId'];

const copyOf = (u: TestUser, text: string) => u.messages().filter((m) => m.content.includes(text));
const families = () => [motherA, motherB, mother6];

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  s = await makeSchool(db());
  const boundAt = new Date(t.clock.now().getTime() - 86_400_000);
  const user = (firstName: string) => t.world.user({ firstName, languageCode: 'ru' });
  deputyId = (
    await db().models.Person.create({
      schoolId: s.schoolId,
      externalId: 'dep',
      lastName: 'Завучева',
      firstName: 'Нина',
      middleName: 'Петровна',
      roles: ['deputy'],
    })
  )._id;
  const class6 = await db().models.SchoolClass.create({ schoolId: s.schoolId, externalId: '6A', grade: 6, letter: 'А', name: '6А' });
  const student6 = await db().models.Person.create({
    schoolId: s.schoolId,
    externalId: 's-6a',
    lastName: 'Шестов',
    firstName: 'Пётр',
    roles: ['student'],
    student: { classId: class6._id, status: 'studying', form: 'regular', birthDate: '2014-03-01' },
  });
  const parent6 = await db().models.Person.create({
    schoolId: s.schoolId,
    externalId: 'p-6a',
    lastName: 'Шестова',
    firstName: 'Анна',
    roles: ['parent'],
  });
  await db().models.Guardianship.create({ schoolId: s.schoolId, parentId: parent6._id, studentId: student6._id, relation: 'mother' });
  deputy = user('Нина');
  admin = user('Ольга');
  teacherA = user('Анна');
  motherA = user('Мария');
  motherB = user('Светлана');
  mother6 = user('Анна');
  await bind(db(), deputyId, deputy, boundAt);
  await bind(db(), s.adminId, admin, boundAt);
  await bind(db(), s.teacherAId, teacherA, boundAt);
  await bind(db(), s.familyA.parentId, motherA, boundAt);
  await bind(db(), s.familyB.parentId, motherB, boundAt);
  await bind(db(), parent6._id, mother6, boundAt);
});
afterAll(async () => {
  await t?.close();
});

describe('announcements of the deputy and the admin', () => {
  it("a reply to a deputy's announcement goes to the deputy only, as a private thread", async () => {
    const TEXT = 'Собрание родителей 5А в четверг.';
    const actor = await actorOf(db(), deputyId);
    await sendAnnouncement(db(), actor, { classId: String(s.classA.id), text: TEXT, now: t.clock.now() });
    const copy = await waitFor(() => copyOf(motherA, TEXT)[0]);
    await motherA.replyTo(copy.messageId, 'Придём обязательно.');
    expect(motherA.lastText()).toContain('Ответ отправлен автору объявления');
    const thread = await db().models.MessageThread.findOne({ parentId: s.familyA.parentId, teacherId: deputyId }).lean();
    expect(thread).toBeTruthy();
    await waitFor(() => deputy.messages().find((m) => m.content.includes('Придём обязательно.')));
    await new Promise((r) => setTimeout(r, 200));
    for (const other of [motherB, mother6, teacherA, admin]) {
      expect(other.messages().some((m) => m.content.includes('Придём обязательно.'))).toBe(false);
    }
  });

  it('the deputy announces to a grade level: both 5th classes, not the 6th', async () => {
    const TEXT = 'Экскурсия пятых классов в пятницу.';
    await deputy.send('/announce');
    expect(commandsFor(['deputy'])).toEqual(['start', 'journal', 'periodmarks', 'absences', 'history', 'grant', 'announce', 'newyear', 'reports', 'privacy', 'language', 'help']);
    expect(deputy.buttons()).toEqual(['Классу', 'Параллели', 'Всей школе', 'Отмена']);
    await deputy.press('Параллели');
    expect(deputy.buttons()).toEqual(['5-е классы', '6-е классы', 'Отмена']);
    await deputy.press('5-е классы');
    expect(deputy.lastText()).toContain('родителям 5-х классов');
    await deputy.send(TEXT);
    expect(deputy.lastText()).toContain('Предпросмотр');
    await deputy.press('Отправить');
    for (const u of [motherA, motherB]) {
      const copy = await waitFor(() => copyOf(u, TEXT)[0]);
      expect(copy.content).toContain('Объявление: Завучева Н. П., 5-е классы');
      expect(copy.buttons.flat()).toEqual(['Прочитано']);
    }
    expect(deputy.lastText()).toContain('Получателей: 2');
    await new Promise((r) => setTimeout(r, 200));
    expect(copyOf(mother6, TEXT)).toHaveLength(0);
  });

  it('a class teacher cannot announce to a grade level or the whole school', async () => {
    const actor = await actorOf(db(), s.teacherAId);
    await expect(sendAnnouncement(db(), actor, { grade: 5, text: 'Всем пятым', now: t.clock.now() })).rejects.toMatchObject({
      key: 'errors.forbidden',
    });
    await expect(
      sendAnnouncement(db(), actor, { wholeSchool: true, text: 'Всей школе', now: t.clock.now() }),
    ).rejects.toMatchObject({ key: 'errors.forbidden' });
    expect(await db().models.Announcement.countDocuments({ senderId: s.teacherAId })).toBe(0);
    // Their /announce offers their class straight away.
    await teacherA.send('/announce');
    expect(teacherA.buttons()).toEqual(['5А', 'Отмена']);
  });

  it('the admin announces to the whole school with a photo: each copy is the photo, the caption and Read', async () => {
    const TEXT = 'Новое расписание звонков — на фото.';
    await admin.send('/announce');
    expect(commandsFor(['admin'])).toEqual(['start', 'invite', 'journal', 'periodmarks', 'calendar', 'history', 'announce', 'outcomes', 'newyear', 'reports', 'privacy', 'language', 'help']);
    await admin.press('Всей школе');
    expect(admin.lastText()).toContain('родителям всей школы');
    await admin.sendPhoto(undefined, TEXT);
    expect(admin.lastText()).toContain('Предпросмотр');
    await admin.press('Отправить');
    for (const u of families()) {
      const copy = await waitFor(() => copyOf(u, TEXT)[0]);
      expect(copy.kind).toBe('photo');
      expect(copy.content).toContain('Объявление: Админова О., вся школа');
      expect(copy.buttons.flat()).toEqual(['Прочитано']);
      expect(u.sentPhotos().some((p) => p.caption?.includes(TEXT))).toBe(true);
    }
    const ann = await db().models.Announcement.findOne({ senderId: s.adminId }).lean();
    expect(ann?.attachments).toHaveLength(1);
    expect(ann?.attachmentKind).toBe('photo');
    // Read works on a photo copy too.
    const copy = copyOf(motherB, TEXT)[0];
    await motherB.press('Прочитано', { messageId: copy?.messageId });
    expect(copyOf(motherB, TEXT)[0]?.buttons.flat()).toEqual(['✅ Прочитано']);
  });
});
