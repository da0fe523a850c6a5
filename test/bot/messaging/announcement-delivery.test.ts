import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendAnnouncement } from '../../../src/domain/messaging/announcements.js';
import { RATE_LIMIT_PER_MINUTE } from '../../../src/domain/messaging/send.js';
import { familyWorld, type FamilyWorld } from '../../notify/world.js';
import { actorOf } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * How an announcement reaches families (issue 6, R3, R23): quiet hours hold a normal one until the
 * morning while an urgent one goes at once; it counts against the sender's 20 a minute; several
 * files go first, each as its own message, then the text with Read.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;

const delivered = (u: TestUser, text: string) => waitFor(() => u.messages().find((m) => m.content.includes(text)));
const settle = () => new Promise((r) => setTimeout(r, 400));
const has = (u: TestUser, text: string) => u.messages().some((m) => m.content.includes(text));

beforeAll(async () => {
  t = await createTestApp({ jobs: true });
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

describe('urgent announcements and quiet hours', () => {
  it('at night a normal announcement waits for the morning; an urgent one goes at once', async () => {
    const ct = w.classTeacherA;
    t.clock.set('2026-11-24T19:30:00Z'); // Tuesday 22:30 in Moscow: quiet hours
    const announce = async (text: string, button: string) => {
      await ct.send('/announce');
      await ct.press('5А');
      await ct.press(/Всему классу/);
      await ct.send(text);
      await ct.press(button);
    };
    await announce('Завтра субботник, форма свободная.', 'Отправить');
    await announce('Завтра занятия отменены: авария на теплотрассе.', '🚨 Срочно');
    const urgent = await delivered(w.motherA, 'авария на теплотрассе');
    expect(urgent.content).toContain('🚨 Срочное объявление');
    await settle();
    expect(has(w.motherA, 'субботник')).toBe(false);
    const waiting = await db().models.OutboxMessage.findOne({ 'payload.text': /субботник/, recipientId: w.s.familyA.parentId }).lean();
    expect(waiting?.status).toBe('pending');

    t.clock.set('2026-11-25T05:00:30Z'); // 08:00:30 in Moscow
    await delivered(w.motherA, 'субботник');
  });
});

describe('announcements count against the rate limit', () => {
  it('the 21st message of a minute, an announcement, is refused and nothing is stored', async () => {
    // A student whose parent has not joined: receipts, no deliveries.
    const kid = await db().models.Person.create({
      schoolId: w.s.schoolId,
      externalId: 's-rl',
      lastName: 'Тихонов',
      firstName: 'Тимур',
      roles: ['student'],
      student: { classId: w.s.classA.id, status: 'studying', form: 'regular', birthDate: '2015-02-01' },
    });
    const parent = await db().models.Person.create({ schoolId: w.s.schoolId, externalId: 'p-rl', lastName: 'Тихонова', firstName: 'Тамара', roles: ['parent'] });
    await db().models.Guardianship.create({ schoolId: w.s.schoolId, parentId: parent._id, studentId: kid._id, relation: 'mother' });
    const actor = await actorOf(db(), w.s.teacherAId);
    const now = new Date(t.clock.now().getTime() + 5 * 3_600_000);
    const send = (i: number) =>
      sendAnnouncement(db(), actor, { classId: String(w.s.classA.id), studentIds: [String(kid._id)], text: `Лимит ${i}`, now });
    for (let i = 1; i <= RATE_LIMIT_PER_MINUTE; i++) await send(i);
    await expect(send(21)).rejects.toMatchObject({ key: 'messaging.errors.rateLimited' });
    expect(await db().models.Announcement.countDocuments({ text: /^Лимит / })).toBe(20);
    // Those sends were 5 hours ahead of the test clock: forget them for the tests after this one.
    await db().models.SendRate.deleteOne({ _id: `msg:${String(w.s.teacherAId)}` });
  });
});

describe('an announcement with several files', () => {
  it('files collected before the text arrive first, each as its own message, then the text with Read', async () => {
    const ct = w.classTeacherA;
    t.clock.advance(3_600_000);
    await ct.send('/announce');
    await ct.press('5А');
    await ct.press(/Всему классу/);
    await ct.sendPhoto();
    expect(ct.lastText()).toContain('Файл добавлен (всего 1)');
    await ct.sendDocument('заявление.pdf', Buffer.from('%PDF-1.4 form'), 'application/pdf');
    expect(ct.lastText()).toContain('Файл добавлен (всего 2)');
    await ct.send('Экскурсия в музей в пятницу: расписание на фото, заявление — в файле.');
    expect(ct.lastText()).toContain('Файлов: 2');
    await ct.press('Отправить');

    const text = await delivered(w.fatherA, 'Экскурсия в музей');
    expect(text.content).toContain('📎 Файлов к объявлению: 2 (выше)');
    expect(text.buttons.flat()).toEqual(['Прочитано']);
    const mine = w.fatherA.messages();
    const photo = mine.findIndex((m) => m.kind === 'photo' && m.content.includes('файл 1 из 2'));
    const doc = mine.findIndex((m) => m.kind === 'document' && m.content.includes('файл 2 из 2'));
    const body = mine.findIndex((m) => m.content.includes('Экскурсия в музей'));
    expect(photo).toBeGreaterThanOrEqual(0);
    expect(doc).toBeGreaterThan(photo);
    expect(body).toBeGreaterThan(doc);
    expect(mine[doc]?.file?.data.toString()).toBe('%PDF-1.4 form');
    expect(mine[photo]?.buttons.flat()).toEqual([]);
    const a = await db().models.Announcement.findOne({ text: /Экскурсия в музей/ }).lean();
    expect(a?.attachmentKinds).toEqual(['photo', 'document']);
  });

  it('more than 10 files are refused; nothing is sent', async () => {
    const actor = await actorOf(db(), w.s.teacherAId);
    const files = Array.from({ length: 11 }, (_, i) => ({ kind: 'document' as const, fileId: `f${i}` }));
    await expect(
      sendAnnouncement(db(), actor, { classId: String(w.s.classA.id), text: 'Слишком много', attachments: files, now: new Date(t.clock.now().getTime() + 9_000_000) }),
    ).rejects.toMatchObject({ key: 'announce.errors.tooManyFiles' });
    expect(await db().models.Announcement.countDocuments({ text: 'Слишком много' })).toBe(0);
  });
});
