/**
 * R2: the class teacher (their class's families) and the admin (anyone, staff included) see the
 * invites that still work and revoke one — a lost slip, a slip given to the wrong person. Every
 * check reads the invites in MongoDB, and every refusal is tried with forged callback data.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../src/domain/shared/vocabulary.js';
import { inviteOutstandingCb, inviteRevokeAskCb, inviteRevokeCb } from '../../../src/bot/callbacks/school.js';
import { createInvite } from '../../../src/domain/school/invites/create.js';
import { revokeInvite } from '../../../src/domain/school/invites/outstanding.js';
import { bind } from '../../notify/world.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import type { TestUser } from '../../support/users.js';

const DAY = 86_400_000;
const FORBIDDEN = 'У вас нет доступа к этому.';
let t: TestApp;
let s: SchoolFixture;
const db = () => t.app.db;

/** Invites of 5А as the class teacher issued them; `code` is what the paper slip carries. */
const inv: Record<string, { inviteId: string; code: string }> = {};
let fatherId: Types.ObjectId;
let teacher: TestUser;
let admin: TestUser;

async function issue(key: string, personId: Types.ObjectId, role: Role, by: Types.ObjectId, now = t.clock.now(), rebind = false) {
  inv[key] = await createInvite(db(), await actorOf(db(), by), { role, personId, now, rebind });
}

async function addPerson(externalId: string, lastName: string, firstName: string, roles: Role[], extra: Record<string, unknown> = {}) {
  return (await db().models.Person.create({ schoolId: s.schoolId, externalId, lastName, firstName, roles, ...extra }))._id;
}

const stored = (key: string) => db().models.Invite.findById(inv[key]?.inviteId).lean();
const seen = (u: TestUser) => u.messages().map((m) => m.content).join('\n');

beforeAll(async () => {
  t = await createTestApp();
  s = await makeSchool(db());
  const classA = s.classA.id;
  fatherId = await addPerson('p-a2', 'Иванов', 'Павел', ['parent']);
  await db().models.Guardianship.create({ schoolId: s.schoolId, parentId: fatherId, studentId: s.familyA.studentId, relation: 'father' });
  const student = { classId: classA, status: 'studying', form: 'regular' };
  const vera = await addPerson('s-o', 'Орлова', 'Вера', ['student'], { student });
  const nina = await addPerson('p-o', 'Орлова', 'Нина', ['parent']);
  await db().models.Guardianship.create({ schoolId: s.schoolId, parentId: nina, studentId: vera, relation: 'mother' });
  const oleg = await addPerson('s-z', 'Зуев', 'Олег', ['student'], { student });

  // 5А: three outstanding (Мария, Матвей's newer invite, Олег) and four that no longer work.
  await issue('maria', s.familyA.parentId, 'parent', s.teacherAId);
  await issue('pavel', fatherId, 'parent', s.teacherAId);
  await issue('nina', nina, 'parent', s.teacherAId, new Date(t.clock.now().getTime() - 20 * DAY)); // expired
  await issue('vera', vera, 'student', s.teacherAId);
  await revokeInvite(db(), await actorOf(db(), s.teacherAId), inv.vera?.inviteId ?? '', t.clock.now());
  await issue('matveyOld', s.familyA.studentId, 'student', s.teacherAId);
  await issue('matvey', s.familyA.studentId, 'student', s.teacherAId); // supersedes matveyOld
  await issue('oleg', oleg, 'student', s.teacherAId);
  // 5Б and staff.
  await issue('sidorova', s.familyB.parentId, 'parent', s.teacherBId);
  await issue('kuznetsov', s.subjectTeacherId, 'teacher', s.adminId);
  await issue('smirnova', s.teacherBId, 'teacher', s.adminId);

  // Павел joined with his invite: used, so not outstanding.
  const father = t.world.user({ firstName: 'Павел', languageCode: 'ru' });
  await father.send(`/start ${inv.pavel?.code}`);
  expect((await stored('pavel'))?.usedAt).toBeTruthy();

  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await bind(db(), s.teacherAId, teacher, t.clock.now());
  admin = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
  await bind(db(), s.adminId, admin, t.clock.now());
});
afterAll(async () => {
  await t?.close();
});

describe('the class teacher: outstanding invites of their class', () => {
  it('/invite → the class screen offers the outstanding invites; only the ones that still work are listed', async () => {
    await teacher.send('/invite');
    expect(teacher.lastText()).toContain('Приглашения: 5А');
    await teacher.press('📋 Выданные приглашения (3)');
    const text = teacher.lastText() ?? '';
    expect(text).toContain('Выданные приглашения: 5А');
    expect(text).toContain('1. Олег Зуев (ученик)');
    expect(text).toContain('2. Матвей Иванов (ученик)');
    expect(text).toContain('3. Мария Иванова (мама ученика Матвей Иванов)');
    expect(text).toContain('действует до');
    // Used (Павел), expired (Нина), revoked (Вера), superseded (Матвей's first) and 5Б's are not there.
    for (const name of ['Павел', 'Нина', 'Вера', 'Сидорова', 'Кузнецов']) expect(text).not.toContain(name);
    expect(text.match(/Матвей Иванов \(ученик\)/g)).toHaveLength(1);
    expect(teacher.buttons()).toEqual([
      '🚫 Отозвать: 1. Олег Зуев',
      '🚫 Отозвать: 2. Матвей Иванов',
      '🚫 Отозвать: 3. Мария Иванова',
      '« Назад',
    ]);
    // No code and no link on the screen or in its buttons.
    const markup = JSON.stringify(teacher.lastMessage()?.replyMarkup);
    for (const k of ['maria', 'matvey', 'oleg']) {
      expect(text).not.toContain(inv[k]?.code);
      expect(markup).not.toContain(inv[k]?.code);
    }
    expect(text).not.toContain('start=');
  });

  it('"No" on the confirmation changes nothing', async () => {
    await teacher.press('🚫 Отозвать: 1. Олег Зуев');
    expect(teacher.lastText()).toBe('Отозвать приглашение для Олег Зуев (ученик)? Ссылка перестанет работать.');
    expect(teacher.buttons()).toEqual(['✅ Да, отозвать', '✖️ Нет']);
    await teacher.press('✖️ Нет');
    expect((await stored('oleg'))?.revokedAt).toBeFalsy();
    expect(await db().models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'invite.revoke' })).toBe(1); // Вера's only
    expect(teacher.lastText()).toContain('1. Олег Зуев (ученик)');
    expect(teacher.buttons()).toHaveLength(4);
  });

  it('revokes the mother’s invite after the confirmation; the list comes back without it', async () => {
    await teacher.press('🚫 Отозвать: 3. Мария Иванова');
    expect(teacher.lastText()).toBe(
      'Отозвать приглашение для Мария Иванова (мама ученика Матвей Иванов)? Ссылка перестанет работать.',
    );
    await teacher.press('✅ Да, отозвать');
    const maria = await stored('maria');
    expect(maria?.revokedAt?.toISOString()).toBe(t.clock.now().toISOString());
    expect(String(maria?.revokedBy)).toBe(String(s.teacherAId));
    expect(maria?.usedAt).toBeFalsy();
    const audit = await db().models.AuditEntry.findOne({ schoolId: s.schoolId, action: 'invite.revoke', 'entity.id': maria?._id }).lean();
    expect(String(audit?.actorId)).toBe(String(s.teacherAId));
    const text = teacher.lastText() ?? '';
    expect(text).toContain('✅ Приглашение для Мария Иванова (мама ученика Матвей Иванов) отозвано');
    expect(text).toContain('ещё не использованы: 2');
    expect(text).not.toContain('3. Мария');
    expect(teacher.buttons()).toEqual(['🚫 Отозвать: 1. Олег Зуев', '🚫 Отозвать: 2. Матвей Иванов', '« Назад']);
    // The other invites still work.
    expect((await stored('oleg'))?.revokedAt).toBeFalsy();
    expect((await stored('matvey'))?.revokedAt).toBeFalsy();
  });

  it('the revoked deep link is refused and binds nobody', async () => {
    const mother = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
    await mother.send(`/start ${inv.maria?.code}`);
    expect(mother.lastText()).toContain('Это приглашение отменено');
    expect((await db().models.Person.findById(s.familyA.parentId).lean())?.telegramId).toBeUndefined();
    expect(await db().models.Person.countDocuments({ telegramId: mother.id })).toBe(0);
    expect((await stored('maria'))?.usedAt).toBeFalsy();
  });

  it('revoking twice (a replayed "Yes") is refused and changes nothing', async () => {
    const before = (await stored('maria'))?.revokedAt?.toISOString();
    const answer = await teacher.pressData(inviteRevokeCb.pack({ i: inv.maria?.inviteId ?? '', c: String(s.classA.id), n: 0 }));
    expect(answer?.text).toContain('уже не действует');
    expect((await stored('maria'))?.revokedAt?.toISOString()).toBe(before);
  });

  it('(control) an invite that was not revoked still works', async () => {
    const oleg = t.world.user({ firstName: 'Олег', languageCode: 'ru' });
    await oleg.send(`/start ${inv.oleg?.code}`);
    expect(oleg.inboxTexts().join('\n')).toContain('Ваша роль: ученик');
    expect((await stored('oleg'))?.usedByTelegramId).toBe(oleg.id);
  });
});

describe("the class teacher cannot reach another class's or the staff's invites", () => {
  const classA = () => String(s.classA.id);
  const classB = () => String(s.classB.id);

  it('listing 5Б or the staff by forged buttons is refused and shows nobody', async () => {
    await teacher.send('/invite');
    for (const data of [inviteOutstandingCb.pack({ c: classB(), n: 0 }), inviteOutstandingCb.pack({ c: 's', n: 0 })]) {
      expect((await teacher.pressData(data))?.text, data).toBe(FORBIDDEN);
    }
    expect(seen(teacher)).not.toContain('Сидорова');
    expect(seen(teacher)).not.toContain('Кузнецов');
  });

  it("revoking 5Б's or a staff invite by forged buttons is refused; the invites still work", async () => {
    const forged = [
      inviteRevokeAskCb.pack({ i: inv.sidorova?.inviteId ?? '', c: classB(), n: 0 }),
      inviteRevokeAskCb.pack({ i: inv.sidorova?.inviteId ?? '', c: classA(), n: 0 }),
      inviteRevokeCb.pack({ i: inv.sidorova?.inviteId ?? '', c: classB(), n: 0 }),
      inviteRevokeCb.pack({ i: inv.sidorova?.inviteId ?? '', c: classA(), n: 0 }),
      inviteRevokeCb.pack({ i: inv.kuznetsov?.inviteId ?? '', c: 's', n: 0 }),
      inviteRevokeCb.pack({ i: inv.kuznetsov?.inviteId ?? '', c: classA(), n: 0 }),
      // An id that names no invite at all gets the very same answer.
      inviteRevokeCb.pack({ i: String(new Types.ObjectId()), c: classA(), n: 0 }),
    ];
    for (const data of forged) {
      expect((await teacher.pressData(data))?.text, data).toBe(FORBIDDEN);
    }
    for (const k of ['sidorova', 'kuznetsov']) {
      const doc = await stored(k);
      expect(doc?.revokedAt, k).toBeFalsy();
      expect(doc?.usedAt, k).toBeFalsy();
    }
    expect(seen(teacher)).not.toContain('Сидорова');
    const parentB = t.world.user({ firstName: 'Светлана', languageCode: 'ru' });
    await parentB.send(`/start ${inv.sidorova?.code}`);
    expect(parentB.inboxTexts().join('\n')).toContain('Ваша роль: родитель');
  });
});

describe('the admin: staff invites', () => {
  it('sees the outstanding staff invites from the staff screen and revokes one', async () => {
    await admin.send('/invite');
    await admin.press('👥 Сотрудников');
    await admin.press('📋 Выданные приглашения сотрудникам (2)');
    const text = admin.lastText() ?? '';
    expect(text).toContain('1. Игорь Кузнецов (учитель)');
    expect(text).toContain('2. Елена Смирнова (учитель)');
    expect(text).not.toContain('Олег');
    await admin.press('🚫 Отозвать: 1. Игорь Кузнецов');
    expect(admin.lastText()).toBe('Отозвать приглашение для Игорь Кузнецов (учитель)? Ссылка перестанет работать.');
    await admin.press('✅ Да, отозвать');
    const doc = await stored('kuznetsov');
    expect(doc?.revokedAt).toBeTruthy();
    expect(String(doc?.revokedBy)).toBe(String(s.adminId));
    expect((await stored('smirnova'))?.revokedAt).toBeFalsy();
    expect(admin.lastText()).toContain('✅ Приглашение для Игорь Кузнецов (учитель) отозвано');
    expect(admin.buttons()).toEqual(['🚫 Отозвать: 1. Елена Смирнова', '« Назад']);

    const kuznetsov = t.world.user({ firstName: 'Игорь', languageCode: 'ru' });
    await kuznetsov.send(`/start ${inv.kuznetsov?.code}`);
    expect(kuznetsov.lastText()).toContain('Это приглашение отменено');
    expect((await db().models.Person.findById(s.subjectTeacherId).lean())?.telegramId).toBeUndefined();
  });

  it('sees and may revoke family invites of any class (5Б: none left after Светлана joined)', async () => {
    // Светлана has joined: her new invite is a re-bind (issue 11), outstanding like any other.
    await issue('sidorova2', s.familyB.parentId, 'parent', s.adminId, t.clock.now(), true);
    await admin.send('/invite');
    await admin.press('🏫 Родителей и учеников класса');
    await admin.press('5Б');
    await admin.press('📋 Выданные приглашения (1)');
    expect(admin.lastText()).toContain('1. Светлана Сидорова (мама ученика Степан Сидоров)');
    await admin.press('🚫 Отозвать: 1. Светлана Сидорова');
    await admin.press('✅ Да, отозвать');
    expect((await stored('sidorova2'))?.revokedAt).toBeTruthy();
    expect(admin.lastText()).toContain('Действующих приглашений нет');
    expect(admin.buttons()).toEqual(['« Назад']);
  });
});
