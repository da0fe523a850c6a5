import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { type FamilyWorld, familyWorld } from '../../notify/world.js';

/**
 * Issue 11, R3, R32: an invite never silently takes over a connected family member. /invite shows
 * who has joined; tapping a student whose parents are connected issues nothing for them; moving a
 * parent to a new phone is an explicit, confirmed re-bind that is audited, tells the old account
 * (through the outbox) and makes the new account accept the privacy notice like anyone.
 */
let t: TestApp;
let w: FamilyWorld;
const db = () => t.app.db;
const deliver = () => t.app.delivery.runUntilIdle(20_000);
const invitesOf = (personId: Types.ObjectId) => db().models.Invite.countDocuments({ personId });

beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
});
afterAll(async () => {
  await t?.close();
});

describe('/invite and connected families', () => {
  it('the student list shows who has joined; a tap on a connected family issues no invite for them', async () => {
    const teacher = w.classTeacherA;
    const child = w.s.familyA.childName;
    await teacher.send('/invite');
    expect(teacher.buttons()).toContain(`✅ ${child}`);
    expect(teacher.lastText()).toContain('✅ — родители подключились (1 из 1)');
    const photos = teacher.sentPhotos().length;
    await teacher.press(`✅ ${child}`);
    expect(teacher.sentPhotos()).toHaveLength(photos);
    expect(await invitesOf(w.s.familyA.parentId)).toBe(0);
    expect(await invitesOf(w.fatherAId)).toBe(0);
    expect(teacher.lastText()).toContain('Уже подключены: Иванова Мария');
    expect(teacher.buttons()).toEqual([
      '🔁 Перепривязать к новому телефону: Иванова Мария',
      '🔁 Перепривязать к новому телефону: Иванов Пётр',
      '🎒 Пригласить самого ученика',
    ]);
    // The mother still has her diary.
    await w.motherA.send('/children');
    expect(w.motherA.lastText()).toContain(w.s.familyA.childFirstName);
  });

  it('the re-bind asks first; "Cancel" issues nothing', async () => {
    const teacher = w.classTeacherA;
    await teacher.press('🔁 Перепривязать к новому телефону: Иванова Мария');
    expect(teacher.lastText()).toContain('Перепривязать Иванова Мария к новому телефону?');
    expect(teacher.lastText()).toContain('заново принять уведомление');
    await teacher.press('Отмена');
    expect(teacher.lastText()).toBe('Отменено.');
    expect(await invitesOf(w.s.familyA.parentId)).toBe(0);
  });

  it('the confirmed re-bind: a QR code, an audit entry, the old account told; the new phone accepts the notice first', async () => {
    const teacher = w.classTeacherA;
    await teacher.send('/invite');
    await teacher.press(`✅ ${w.s.familyA.childName}`);
    await teacher.press('🔁 Перепривязать к новому телефону: Иванова Мария');
    await teacher.press('🔁 Да, выдать новое приглашение');
    const qr = teacher.sentPhotos().at(-1);
    const caption = teacher.messages().at(-1)?.content ?? '';
    expect(qr).toBeDefined();
    expect(caption).toContain('Приглашение для перепривязки: Иванова Мария');
    const code = /start=([A-Za-z0-9_-]+)/.exec(caption)?.[1];
    expect(code).toBeDefined();
    expect(await db().models.AuditEntry.countDocuments({ schoolId: w.s.schoolId, action: 'invite.rebind' })).toBe(1);

    await deliver();
    expect(w.motherA.lastText()).toContain('выдано новое приглашение');
    expect(w.motherA.lastText()).not.toContain(w.s.familyA.childFirstName);

    const newPhone = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
    await newPhone.send(`/start ${code}`);
    expect(newPhone.buttons()).toEqual(['✅ Принимаю']);
    expect(newPhone.messages().map((m) => m.content).join('\n')).not.toContain(w.s.familyA.childFirstName);
    await newPhone.send('/children');
    expect(newPhone.lastText()).not.toContain(w.s.familyA.childFirstName);

    await deliver();
    expect(w.motherA.lastText()).toContain('перенесён на другой Telegram');
    await w.motherA.send('/children');
    expect(w.motherA.lastText()).not.toContain(w.s.familyA.childFirstName);
  });

  it('a staff member who has joined (✅) is not re-invited by a tap either', async () => {
    const admin = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
    await db().models.Person.updateOne({ _id: w.s.adminId }, { $set: { telegramId: admin.id } });
    await admin.send('/invite');
    await admin.press('👥 Сотрудников');
    await admin.press(/^✅ Кузнецов/);
    expect(admin.sentPhotos()).toHaveLength(0);
    expect(admin.lastText()).toContain('к новому телефону?');
    expect(await invitesOf(w.s.subjectTeacherId)).toBe(0);
  });
});
