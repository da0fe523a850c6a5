import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyRecipients } from '../../../src/domain/notices/recipients.js';
import { type FamilyWorld, familyWorld } from '../../notify/world.js';
import { createTestApp, type TestApp } from '../../support/harness.js';

/**
 * Who hears about a student (R4, R23, R32), read in one aggregation (issue 12's round trips):
 * every bound guardian in the school and the bound student; not someone who blocked the bot, has
 * not accepted the privacy notice, was bound after the event, or is inactive.
 */
let t: TestApp;
let w: FamilyWorld;
beforeAll(async () => {
  t = await createTestApp();
  w = await familyWorld(t);
}, 60_000);
afterAll(async () => t?.close());

const names = async (at = new Date()) => {
  const list = await familyRecipients(t.app.db, w.s.schoolId, [w.s.familyA.studentId], at);
  return list.map((r) => `${r.relation}:${r.telegramId}`).sort();
};

describe('familyRecipients', () => {
  it('both parents and the student, once each', async () => {
    expect(await names()).toEqual([`parent:${w.fatherA.id}`, `parent:${w.motherA.id}`, `self:${w.studentA.id}`].sort());
  });

  it('leaves out a blocked account, a withdrawn consent, an inactive person and one bound after the event', async () => {
    const { Account, Person } = t.app.db.models;
    await Account.updateOne({ telegramId: w.fatherA.id }, { $set: { chatStatus: 'blocked' } });
    await Person.updateOne({ _id: w.s.familyA.studentId }, { $unset: { consent: 1 } });
    try {
      expect(await names()).toEqual([`parent:${w.motherA.id}`]);
      await Person.updateOne({ _id: w.s.familyA.parentId }, { $set: { active: false } });
      expect(await names()).toEqual([]);
      await Person.updateOne({ _id: w.s.familyA.parentId }, { $set: { active: true } });
      expect(await names(new Date('2000-01-01T00:00:00Z'))).toEqual([]); // everyone was bound later
    } finally {
      await Account.updateOne({ telegramId: w.fatherA.id }, { $set: { chatStatus: 'active' } });
    }
  });

  it('a guardianship recorded in another school does not make a recipient here', async () => {
    const other = await t.app.db.models.Guardianship.findOne({ parentId: w.fatherAId }).lean();
    await t.app.db.models.Guardianship.updateOne({ _id: other?._id }, { $set: { schoolId: new Types.ObjectId() } });
    try {
      expect(await names()).not.toContain(`parent:${w.fatherA.id}`);
    } finally {
      await t.app.db.models.Guardianship.updateOne({ _id: other?._id }, { $set: { schoolId: w.s.schoolId } });
    }
  });
});
