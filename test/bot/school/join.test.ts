import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../src/domain/shared/vocabulary.js';
import { systemActor } from '../../../src/domain/school/actor.js';
import { createInvite } from '../../../src/domain/school/invites/create.js';
import { revokeInvite } from '../../../src/domain/school/invites/outstanding.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, TEST_BOT_INFO, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';

const DAY = 86_400_000;
const MIN = 60_000;
let t: TestApp;
let s: SchoolFixture;

beforeAll(async () => {
  t = await createTestApp();
  s = await makeSchool(t.app.db);
});
afterAll(async () => {
  await t?.close();
});

const db = () => t.app.db;
/** An invite issued by `by` (default: the admin for staff, the class teacher of 5А for families). */
async function invite(personId: unknown, role: Role, by = s.adminId): Promise<string> {
  const actor = await actorOf(db(), by);
  const inv = await createInvite(db(), actor, { role, personId: String(personId), now: t.clock.now() });
  return inv.code;
}
const codeIn = (text: string | undefined) => /\?start=([A-Za-z0-9_-]+)/.exec(text ?? '')?.[1];
const allText = (u: TestUser) => u.messages().map((m) => m.content).join('\n');
const chatCommands = (u: TestUser, lang = 'ru') =>
  t.fake.commands({ type: 'chat', chat_id: u.chatId }, lang).map((c) => c.command);

describe('joining by invite: class teacher → parent → consent → child', () => {
  let teacher: TestUser;
  let parent: TestUser;
  let parentCode = '';

  it('the class teacher joins with the admin’s invite and gets a teacher menu (chat-scoped commands)', async () => {
    teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
    await teacher.send(`/start ${await invite(s.teacherAId, 'teacher')}`);
    expect(teacher.inboxTexts().join('\n')).toContain('Вы подключены к электронному журналу школы «Школа №1»');
    expect(teacher.inboxTexts().join('\n')).toContain('учитель');
    expect(chatCommands(teacher)).toEqual([
      'start',
      'today',
      'periodmarks',
      'plan',
      'acks',
      'write',
      'inbox',
      'officehours',
      'reports',
      'invite',
      'absences',
      'arrivals',
      'announce',
      'pe',
      'privacy',
      'language',
      'help',
    ]);
    expect(chatCommands(teacher, '')).toEqual(chatCommands(teacher));
    expect(teacher.buttons()).toContain('✉️ Пригласить');
    const bound = await db().models.Person.findById(s.teacherAId).lean();
    expect(bound?.telegramId).toBe(teacher.id);
  });

  it('/invite offers the class sheet and each student; a student gives a QR code per parent', async () => {
    await teacher.send('/invite');
    expect(teacher.lastText()).toContain('Приглашения: 5А');
    expect(teacher.buttons()).toEqual(['📄 Лист для родителей (PDF)', '📄 Лист для учеников (PDF)', s.familyA.childName]);
    await teacher.press(s.familyA.childName);
    const photos = teacher.sentPhotos();
    expect(photos).toHaveLength(1);
    expect(photos[0]?.data.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(photos[0]?.caption).toContain('Иванова Мария');
    expect(photos[0]?.caption).toContain(`https://t.me/${TEST_BOT_INFO.username}?start=`);
    parentCode = codeIn(photos[0]?.caption) ?? '';
    expect(parentCode).toMatch(/^[A-Za-z0-9_-]{24}$/);
  });

  it('the printable sheet for the whole class is a PDF document named after the class', async () => {
    await teacher.send('/invite');
    await teacher.press('📄 Лист для родителей (PDF)');
    const docs = teacher.sentDocuments();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.filename).toBe('invites-5А.pdf');
    expect(docs[0]?.data.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(docs[0]?.caption).toContain('5А');
    // The sheet superseded the QR code sent before: only the printed one works now.
    const sheetCode = codeIn(docs[0]?.data.toString('latin1'));
    expect(sheetCode).toBeDefined();
    expect(sheetCode).not.toBe(parentCode);
    parentCode = sheetCode ?? '';
  });

  it('the parent opens the deep link, is greeted as a parent and must accept the privacy notice first (R32)', async () => {
    parent = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
    await parent.send(`/start ${parentCode}`);
    const texts = parent.inboxTexts().join('\n');
    expect(texts).toContain('Ваша роль: родитель');
    expect(texts).toContain('Ваши данные в журнале школы');
    expect(texts).toContain('+7********67');
    expect(parent.buttons()).toEqual(['✅ Принимаю']);
    // Nothing of the child before the consent: not in the notice, not by command.
    expect(allText(parent)).not.toContain(s.familyA.childFirstName);
    await parent.send('/children');
    expect(parent.lastText()).toContain('подтвердите согласие');
    await parent.pressData(`child:${s.familyA.studentId}`);
    expect(allText(parent)).not.toContain(s.familyA.childFirstName);
    expect(chatCommands(parent)).toEqual(['start', 'children', 'diary', 'absent', 'notifications', 'write', 'inbox', 'reports', 'privacy', 'language', 'help']);
  });

  it('after “Accept” the parent sees their child with the class, and the card', async () => {
    expect(await db().models.OutboxMessage.countDocuments({ chatId: parent.id })).toBe(0);
    await parent.press('✅ Принимаю');
    expect(parent.inboxTexts().join('\n')).toContain(`${s.familyA.childName} — 5А`);
    // Joining mid-year: one summary of the current period is queued for this parent (not old marks one by one).
    const queued = await db().models.OutboxMessage.find({ chatId: parent.id }, { key: 1 }).lean();
    expect(queued.map((m) => m.key.split(':')[0])).toEqual(['join']);
    const person = await db().models.Person.findById(s.familyA.parentId).lean();
    expect(person?.consent?.acceptedAt?.toISOString()).toBe(t.clock.now().toISOString());
    await parent.press(s.familyA.childName);
    expect(parent.lastText()).toContain('Класс: 5А');
    expect(parent.lastText()).toContain('Классный руководитель: Петрова Анна Ивановна');
    await parent.send('/privacy');
    expect(parent.lastText()).toContain(`${s.familyA.childName} (5А)`);
    expect(parent.buttons()).toEqual([]);
  });

  it('/help and /start list what the parent can use', async () => {
    await parent.send('/help');
    expect(parent.lastText()).toContain('/children — мои дети');
    expect(parent.lastText()).not.toContain('/invite');
    await parent.send('/start');
    expect(parent.buttons()).toEqual(['👨‍👩‍👧 Мои дети', '🔒 Мои данные']);
    await parent.press('👨‍👩‍👧 Мои дети');
    expect(parent.lastText()).toContain(s.familyA.childName);
  });

  it('the student is invited too, accepts, and sees themself', async () => {
    await teacher.send('/invite');
    await teacher.press(s.familyA.childName);
    await teacher.press('🎒 Пригласить самого ученика');
    const photo = teacher.sentPhotos().at(-1);
    expect(photo?.caption).toContain('Приглашение для ученика');
    const student = t.world.user({ firstName: 'Матвей', languageCode: 'ru' });
    await student.send(`/start ${codeIn(photo?.caption)}`);
    expect(student.inboxTexts().join('\n')).toContain('Ваша роль: ученик');
    expect(student.lastText()).toContain('подтверди согласие');
    await student.press('✅ Принимаю');
    expect(student.lastText()).toContain(`${s.familyA.childName} — 5А`);
    expect(chatCommands(student)).toEqual(['start', 'diary', 'notifications', 'write', 'inbox', 'privacy', 'language', 'help']);
  });

  it('the used code is refused for anyone else', async () => {
    const stranger = t.world.user({ languageCode: 'ru' });
    await stranger.send(`/start ${parentCode}`);
    expect(stranger.lastText()).toContain('уже использовано');
    expect((await db().models.Person.findById(s.familyA.parentId).lean())?.telegramId).toBe(parent.id);
  });
});

describe('refused codes', () => {
  it('an expired code', async () => {
    const code = await invite(s.familyB.parentId, 'parent', s.teacherBId);
    t.clock.advance(15 * DAY);
    try {
      const user = t.world.user({ languageCode: 'ru' });
      await user.send(`/start ${code}`);
      expect(user.lastText()).toContain('Срок действия приглашения истёк');
    } finally {
      t.clock.advance(-15 * DAY);
    }
  });

  it('a revoked code', async () => {
    const admin = await actorOf(db(), s.adminId);
    const inv = await createInvite(db(), admin, { role: 'teacher', personId: s.teacherBId, now: t.clock.now() });
    await revokeInvite(db(), admin, inv.inviteId, t.clock.now());
    const user = t.world.user({ languageCode: 'en' });
    await user.send(`/start ${inv.code}`);
    expect(user.lastText()).toContain('This invite was cancelled');
  });

  it('an unknown code', async () => {
    const user = t.world.user({ languageCode: 'ru' });
    await user.send('/start AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(user.lastText()).toContain('Такого приглашения нет');
  });

  it('20 wrong codes in a row: blocked, and a correct code during the block is refused', async () => {
    const user = t.world.user({ languageCode: 'ru' });
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      await user.send(i % 2 ? `/start wrong-code-${String(i).padStart(14, '0')}` : '/start !!bad!!');
      answers.push(user.lastText() ?? '');
    }
    expect(answers.slice(0, 4).every((a) => a.includes('Такого приглашения нет'))).toBe(true);
    expect(answers.slice(4).every((a) => a.includes('Слишком много неверных кодов. Попробуйте снова через 15 мин.'))).toBe(
      true,
    );
    const good = await invite(s.subjectTeacherId, 'teacher');
    t.clock.advance(5 * MIN);
    await user.send(`/start ${good}`);
    expect(user.lastText()).toContain('Попробуйте снова через 10 мин.');
    expect((await db().models.Person.findById(s.subjectTeacherId).lean())?.telegramId).toBeUndefined();
    t.clock.advance(11 * MIN);
    await user.send(`/start ${good}`);
    expect(user.inboxTexts().join('\n')).toContain('Ваша роль: учитель');
  });
});

describe('admins, staff and profiles', () => {
  it("the school's first admin joins by a role-only invite and invites all staff with a PDF sheet", async () => {
    const school = await db().models.School.create({ name: 'Лицей', timezone: 'Europe/Moscow' });
    await db().models.Person.create({
      schoolId: school._id,
      externalId: 'T1',
      lastName: 'Орлов',
      firstName: 'Пётр',
      roles: ['teacher'],
    });
    const inv = await createInvite(db(), systemActor(school._id), { role: 'admin', now: t.clock.now() });
    const admin = t.world.user({ firstName: 'Ольга', lastName: 'Ли', languageCode: 'ru' });
    await admin.send(`/start ${inv.code}`);
    expect(admin.inboxTexts().join('\n')).toContain('Ваша роль: администратор');
    expect(chatCommands(admin)).toContain('invite');
    await admin.send('/invite');
    await admin.press('👥 Сотрудников');
    expect(admin.buttons()).toContain('📄 Всех неподключённых (1) — лист PDF');
    await admin.press('📄 Всех неподключённых (1) — лист PDF');
    expect(admin.sentDocuments().map((d) => d.filename)).toEqual(['invites-staff.pdf']);
    await admin.send('/invite');
    await admin.press('👥 Сотрудников');
    await admin.press('Орлов Пётр');
    const code = codeIn(admin.sentPhotos()[0]?.caption);
    const teacher = t.world.user({ languageCode: 'ru' });
    await teacher.send(`/start ${code}`);
    expect(teacher.inboxTexts().join('\n')).toContain('Лицей');
  });

  it('a teacher who is also a parent has two profiles and switches with /profile', async () => {
    const user = t.world.user({ firstName: 'Елена', languageCode: 'ru' });
    await user.send(`/start ${await invite(s.teacherBId, 'teacher')}`);
    const other = await makeSchool(db(), { tag: 'P', name: 'Гимназия' });
    await user.send(`/start ${await invite(other.familyA.parentId, 'parent', other.teacherAId)}`);
    // The new profile is current: a parent, so the privacy notice comes first.
    expect(user.buttons()).toEqual(['✅ Принимаю']);
    expect(chatCommands(user)).toContain('profile');
    await user.send('/profile');
    expect(user.buttons()).toEqual(['Школа №1: учитель', '✅ Гимназия: родитель']);
    await user.press('Школа №1: учитель');
    expect(user.lastText()).toContain('Вы: учитель, классный руководитель · Школа №1');
    expect(chatCommands(user)).toEqual([
      'start',
      'today',
      'periodmarks',
      'plan',
      'acks',
      'write',
      'inbox',
      'officehours',
      'reports',
      'invite',
      'absences',
      'arrivals',
      'announce',
      'pe',
      'privacy',
      'profile',
      'language',
      'help',
    ]);

    // A teacher who leads two classes picks the class first.
    await db().models.SchoolClass.create({
      schoolId: s.schoolId,
      externalId: '6V',
      grade: 6,
      letter: 'В',
      name: '6В',
      classTeacherId: s.teacherBId,
    });
    await user.send('/invite');
    expect(user.lastText()).toBe('Выберите класс:');
    expect(user.buttons()).toEqual(['5Б', '6В']);
    await user.press('5Б');
    expect(user.lastText()).toContain('Приглашения: 5Б');
    expect(user.buttons()).toContain(s.familyB.childName);
  });
});
