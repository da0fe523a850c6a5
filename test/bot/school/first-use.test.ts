import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../src/domain/shared/vocabulary.js';
import { createInvite } from '../../../src/domain/school/invites/create.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';

/**
 * Issue 11, "small things a person notices", played as new users do: a class teacher joins,
 * then a parent; each check is one thing a first user ran into.
 */
let t: TestApp;
let s: SchoolFixture;
let teacher: TestUser;
let parent: TestUser;
const db = () => t.app.db;

async function invite(personId: unknown, role: Role, by = s.adminId): Promise<string> {
  const inv = await createInvite(db(), await actorOf(db(), by), { role, personId: String(personId), now: t.clock.now() });
  return inv.code;
}

beforeAll(async () => {
  t = await createTestApp();
  s = await makeSchool(db());
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await teacher.send(`/start ${await invite(s.teacherAId, 'teacher')}`);
  // A second family in 5А whose parent never joins the bot.
  const student = await db().models.Person.create({
    schoolId: s.schoolId,
    externalId: 's-c',
    lastName: 'Козлов',
    firstName: 'Кирилл',
    roles: ['student'],
    student: { classId: s.classA.id, status: 'studying', form: 'regular', birthDate: '2015-03-01' },
  });
  const mother = await db().models.Person.create({ schoolId: s.schoolId, externalId: 'p-c', lastName: 'Козлова', firstName: 'Ксения', roles: ['parent'] });
  await db().models.Guardianship.create({ schoolId: s.schoolId, parentId: mother._id, studentId: student._id, relation: 'mother' });
});
afterAll(async () => {
  await t?.close();
});

describe('small things a first user notices (issue 11)', () => {
  it('a teacher’s /start menu has a button for today’s lessons', async () => {
    await teacher.send('/start');
    expect(teacher.buttons()).toContain('📅 Мои уроки сегодня');
    await teacher.press('📅 Мои уроки сегодня');
    expect(teacher.lastText()).toContain('Мои уроки');
  });

  it('teachers are offered “write to parents”, not “write to a teacher”; a class teacher’s /diary points to their own work', async () => {
    await teacher.send('/help');
    expect(teacher.lastText()).toContain('/write — написать родителям ученика');
    expect(teacher.lastText()).not.toContain('написать учителю');
    await teacher.send('/diary');
    expect(teacher.lastText()).not.toContain('классному руководителю');
    expect(teacher.lastText()).toContain('/today');
  });

  it('invite captions do not end a sentence in “г..”', async () => {
    await teacher.send('/invite');
    await teacher.press(s.familyA.childName);
    const caption = teacher.sentPhotos().at(-1)?.caption ?? '';
    expect(caption).toMatch(/Действует до \d+ \S+ \d{4}\./);
    expect(caption).not.toContain('г..');
  });

  it('typing at the privacy notice gets a specific hint; after accepting, the notice shows the consent', async () => {
    parent = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
    await parent.send(`/start ${await invite(s.familyA.parentId, 'parent', s.teacherAId)}`);
    const notice = parent.findButton('✅ Принимаю');
    expect(notice).toBeDefined();
    await parent.send('здравствуйте');
    expect(parent.lastText()).toContain('Сначала подтвердите согласие');
    expect(parent.lastText()).not.toContain('Я не понял');
    await parent.press('✅ Принимаю');
    const edited = t.fake.message(parent.chatId, notice?.messageId ?? -1)?.content ?? '';
    expect(edited).not.toContain('ещё не дано');
    expect(edited).not.toContain('подтвердите согласие');
    expect(edited).toMatch(/согласие на обработку данных: \d+ \S+ \d{4}/);
  });

  it('/absent: a note typed instead of a photo is kept as the note and reaches the class teacher', async () => {
    await parent.send('/absent');
    await parent.press('Сегодня');
    await parent.press('🤒 Болеет');
    await parent.send('Температура, будем дома до среды');
    expect(parent.lastText()).toContain('классный руководитель получил сообщение о пропуске');
    const report = await db().models.AbsenceReport.findOne({ parentId: s.familyA.parentId }).lean();
    expect(report?.note).toBe('Температура, будем дома до среды');
    await t.app.delivery.runUntilIdle(20_000);
    expect(teacher.messages().some((m) => m.content.includes('Пояснение родителя: Температура, будем дома до среды'))).toBe(true);
  });

  it('wrong invite codes: 4 may fail, the 5th pauses the account for 15 minutes (the right code too) and it is told how long is left', async () => {
    const stranger = t.world.user({ firstName: 'Гость', languageCode: 'ru' });
    for (let i = 0; i < 5; i++) await stranger.send('/start AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(stranger.lastText()).toContain('через 15 мин');
    t.clock.advance(6 * 60_000);
    await stranger.send(`/start ${await invite(s.familyB.parentId, 'parent', s.teacherBId)}`);
    expect(stranger.lastText()).toContain('через 9 мин');
  });

  it('announcement receipts show “not connected” for a parent who never joined', async () => {
    await teacher.send('/announce');
    await teacher.press('5А');
    await teacher.press(/Всему классу/);
    await teacher.send('Родительское собрание в четверг');
    await teacher.press('Отправить');
    await t.app.delivery.runUntilIdle(20_000);
    await teacher.press('🔄 Обновить');
    const screen = teacher.lastText() ?? '';
    expect(screen).toContain('Козлова Ксения (Козлов Кирилл) — не подключён к боту');
    expect(screen).toContain('не доставлено: 0');
    expect(screen).toContain('не подключены к боту: 1');
  });

  it('an admin is told that school files load by sending them, and gets the samples as files; an unknown file explains it', async () => {
    const admin = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
    await admin.send(`/start ${await invite(s.adminId, 'admin')}`);
    await admin.send('/start');
    expect(admin.lastText()).toContain('загружаются файлами: пришлите мне таблицу CSV или XLSX');
    await admin.press('📄 Образцы файлов для загрузки');
    const files = admin.sentDocuments().map((d) => d.filename);
    expect(files).toEqual(['staff.csv', 'subjects.csv', 'classes.csv', 'students.csv', 'groups.csv', 'load.csv', 'timetable.csv']);
    expect(admin.lastText()).toContain('Порядок загрузки: staff → subjects → classes → students → groups → load → timetable');
    await admin.sendDocument('data.csv', Buffer.from('a;b;c\n1;2;3\n', 'utf8'), 'text/csv');
    expect(admin.lastText()).toContain('пришлите сюда таблицу CSV или XLSX');
    expect(admin.lastText()).not.toContain('docs/import');
    expect(admin.buttons()).toContain('📄 Образцы файлов для загрузки');
  });

  it('no keyboard the bot sent had an empty row (as requested, before Telegram tidies it)', () => {
    const markups = t.fake.calls
      .map((c) => c.params.reply_markup)
      .filter((m): m is string | object => m !== undefined && m !== null)
      .map((m) => (typeof m === 'string' ? JSON.parse(m) : m) as { inline_keyboard?: unknown[][]; keyboard?: unknown[][] });
    expect(markups.length).toBeGreaterThan(10);
    const empty = markups.filter((m) => [...(m.inline_keyboard ?? []), ...(m.keyboard ?? [])].some((row) => row.length === 0));
    expect(empty).toEqual([]);
  });
});
