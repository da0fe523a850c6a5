import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lessonCb } from '../../../src/bot/callbacks/journal.js';
import { grantRevokeAskCb, grantRevokeCb, grantsCb } from '../../../src/bot/callbacks/journal.js';
import type { Db } from '../../../src/db/index.js';
import { grantAccess } from '../../../src/domain/school/grants.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { actorFor, bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * R7: the deputy sees the access given to substitutes and revokes it; the substitute loses the
 * class at once. Nobody else can revoke, not even with a forged button. The clock is Monday
 * 2026-11-23, 12:00 in Moscow.
 */
let t: TestApp;
let f: JournalFixture;
let deputy: TestUser;
let spare: TestUser;
let teacher: TestUser;
const db = (): Db => t.app.db;
const TODAY = '2026-11-23';
const NOW = new Date('2026-11-23T09:00:00Z');

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db);
  deputy = t.world.user({ firstName: 'Нина' });
  spare = t.world.user({ firstName: 'Ирина' });
  teacher = t.world.user({ firstName: 'Анна' });
  await bindTelegram(db(), f.deputyId, deputy.id);
  await bindTelegram(db(), f.spareTeacherId, spare.id);
  await bindTelegram(db(), f.teacherId, teacher.id);
});

afterAll(async () => {
  await t?.close();
});

describe('revoking a substitute’s access (R7)', () => {
  it('the deputy lists the access in force from /grant, revokes one after confirming, and the substitute loses the class', async () => {
    await deputy.send('/grant');
    expect(deputy.buttons()).not.toContain('🗂 Действующие доступы: 1');
    await deputy.press('7Б');
    await deputy.press('Запасова Ирина Ивановна');
    await deputy.press('3 дн.');
    expect(deputy.lastText()).toContain('✅ Запасова Ирина Ивановна: доступ к журналу 7Б');
    await spare.send('/today');
    expect(spare.lastText()).toContain('7Б · Русский язык');
    const lessonId = String(await lessonOn(db(), f, f.russianSlot7, TODAY));

    await deputy.send('/grant');
    await deputy.press('🗂 Действующие доступы: 1');
    expect(deputy.lastText()).toContain('Запасова Ирина Ивановна · 7Б · 23.11.2026 – 25.11.2026');
    await deputy.press('✖ Запасова Ирина Ивановна · 7Б');
    expect(deputy.lastText()).toContain('Отозвать доступ: Запасова Ирина Ивановна к журналу 7Б (23.11.2026 – 25.11.2026)?');
    await deputy.press('✖ Отозвать');
    expect(deputy.lastText()).toContain('✅ Доступ Запасова Ирина Ивановна к журналу 7Б отозван.');
    expect(deputy.lastText()).toContain('Действующих доступов нет.');

    const grant = await db().models.AccessGrant.findOne({ teacherId: f.spareTeacherId }).lean();
    expect(grant?.revokedAt).toBeInstanceOf(Date);
    expect(await db().models.AuditEntry.countDocuments({ action: 'grant.revoked', 'entity.id': grant?._id })).toBe(1);

    await spare.send('/today');
    expect(spare.lastText()).toContain('Уроков нет.');
    const answer = await spare.pressData(lessonCb.pack({ l: lessonId }));
    expect(answer?.show_alert).toBe(true);

    // The confirmation pressed again (a second device, a double tap): the access is gone, nothing more happens.
    const again = await deputy.pressData(grantRevokeCb.pack({ g: String(grant?._id) }));
    expect(again?.text).toBe('Этот доступ уже закончился или отозван.');
    expect(await db().models.AuditEntry.countDocuments({ action: 'grant.revoked' })).toBe(1);
  });

  it('a teacher pressing forged grant buttons is refused and the access stays', async () => {
    const admin = await actorFor(db(), f.adminId);
    const { grantId } = await grantAccess(
      db(),
      admin,
      { teacherId: String(f.spareTeacherId), classId: String(f.class8.id), from: TODAY, to: '2026-11-30' },
      NOW,
    );
    await teacher.send('/today');
    for (const data of [grantsCb.pack({}), grantRevokeAskCb.pack({ g: grantId }), grantRevokeCb.pack({ g: grantId })]) {
      const answer = await teacher.pressData(data);
      expect(answer?.show_alert).toBe(true);
      expect(answer?.text).toBe('У вас нет доступа к этому.');
    }
    const grant = await db().models.AccessGrant.findById(grantId).lean();
    expect(grant?.revokedAt ?? null).toBeNull();
    expect(await db().models.AuditEntry.countDocuments({ action: 'grant.revoked', 'entity.id': grant?._id })).toBe(0);
    await spare.send('/today');
    expect(spare.lastText()).toContain('8А · Математика');
  });
});
