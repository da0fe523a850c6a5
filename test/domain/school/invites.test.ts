import { createHash } from 'node:crypto';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { systemActor } from '../../../src/domain/school/actor.js';
import { inviteQrPng } from '../../../src/documents/invite-qr.js';
import { inviteSheetPdf } from '../../../src/documents/invite-sheet.js';
import { inviteLink } from '../../../src/domain/school/invites/code.js';
import {
  classInviteOverview,
  createClassInvites,
  createInvite,
  createStaffInvites,
  createStudentFamilyInvites,
} from '../../../src/domain/school/invites/create.js';
import {
  getOutstandingInvite,
  listOutstandingInvites,
  OUTSTANDING_PAGE_SIZE,
  revokeInvite,
} from '../../../src/domain/school/invites/outstanding.js';
import { INVITE_THROTTLE, redeemInvite } from '../../../src/domain/school/invites/redeem.js';
import {
  acceptConsent,
  getStudentCard,
  listClassStudents,
  listMyChildren,
  maskPhone,
  privacyReport,
} from '../../../src/domain/school/people.js';
import { testMongoUri } from '../../support/db.js';
import { actorOf, makeSchool, type SchoolFixture } from '../../support/fixtures.js';

const NOW = new Date('2026-11-23T09:00:00Z');
const MIN = 60_000;
const DAY = 86_400_000;
let conn: Connection;
let db: Db;
let s: SchoolFixture;
let nextTelegramId = 9_100_000;
const tg = () => nextTelegramId++;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('invites'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});
beforeEach(async () => {
  // A fresh school per test: codes, throttles and bindings never leak between tests.
  s = await makeSchool(db, { tag: String(nextTelegramId) });
});

const redeem = (code: string, telegramId: number, now = NOW) =>
  redeemInvite(db, { telegramId, firstName: 'Мария', lastName: 'Иванова', code, now });

describe('creating invites (R2)', () => {
  it('a class teacher invites a parent of their class: a deep-link-safe code, stored only as its SHA-256 hash', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    const inv = await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    expect(inv.code).toMatch(/^[A-Za-z0-9_-]{22,64}$/);
    expect(inviteLink('my_bot', inv.code)).toBe(`https://t.me/my_bot?start=${inv.code}`);
    expect(inv.expiresAt.getTime() - NOW.getTime()).toBe(14 * DAY);
    const stored = await db.models.Invite.findById(inv.inviteId).lean();
    expect(stored?.codeHash).toBe(createHash('sha256').update(inv.code).digest('hex'));
    expect(JSON.stringify(stored)).not.toContain(inv.code);
    const audit = await db.models.AuditEntry.find({ schoolId: s.schoolId, action: 'invite.create' }).lean();
    expect(JSON.stringify(audit)).not.toContain(inv.code);
  });

  it('codes are random: thirty of them never repeat', async () => {
    const admin = await actorOf(db, s.adminId);
    const codes = new Set<string>();
    for (let i = 0; i < 30; i++) {
      codes.add((await createInvite(db, admin, { role: 'teacher', personId: s.subjectTeacherId, now: NOW })).code);
    }
    expect(codes.size).toBe(30);
  });

  it("the expiry follows the school's inviteTtlDays, else the deployment default", async () => {
    await db.models.School.updateOne({ _id: s.schoolId }, { $set: { 'settings.inviteTtlDays': 3 } });
    const admin = await actorOf(db, s.adminId);
    const inv = await createInvite(db, admin, { role: 'teacher', personId: s.teacherAId, now: NOW, defaultTtlDays: 30 });
    expect(inv.expiresAt.getTime() - NOW.getTime()).toBe(3 * DAY);
    await db.models.School.updateOne({ _id: s.schoolId }, { $unset: { 'settings.inviteTtlDays': 1 } });
    const other = await createInvite(db, admin, { role: 'teacher', personId: s.teacherBId, now: NOW, defaultTtlDays: 30 });
    expect(other.expiresAt.getTime() - NOW.getTime()).toBe(30 * DAY);
  });

  it('R2: only the class teacher of that class (or the admin) invites a family; only the admin invites staff', async () => {
    const teacherA = await actorOf(db, s.teacherAId);
    const subjectTeacher = await actorOf(db, s.subjectTeacherId);
    const admin = await actorOf(db, s.adminId);
    const parentA = await actorOf(db, s.familyA.parentId);
    const denied = { key: 'errors.forbidden' };
    await expect(createInvite(db, teacherA, { role: 'parent', personId: s.familyB.parentId, now: NOW })).rejects.toMatchObject(denied);
    await expect(createInvite(db, teacherA, { role: 'student', personId: s.familyB.studentId, now: NOW })).rejects.toMatchObject(denied);
    await expect(createInvite(db, subjectTeacher, { role: 'parent', personId: s.familyA.parentId, now: NOW })).rejects.toMatchObject(denied);
    await expect(createInvite(db, teacherA, { role: 'teacher', personId: s.teacherBId, now: NOW })).rejects.toMatchObject(denied);
    await expect(createInvite(db, parentA, { role: 'parent', personId: s.familyA.parentId, now: NOW })).rejects.toMatchObject(denied);
    // A role the person does not hold is refused too (no promoting a parent to admin by invite).
    await expect(createInvite(db, admin, { role: 'admin', personId: s.familyA.parentId, now: NOW })).rejects.toMatchObject(denied);
    // Role-only invites are for the first admin of a school, from the operator only.
    await expect(createInvite(db, admin, { role: 'admin', now: NOW })).rejects.toMatchObject(denied);
    await expect(createInvite(db, teacherA, { role: 'student', personId: s.familyA.studentId, now: NOW })).resolves.toBeTruthy();
    await expect(createInvite(db, admin, { role: 'parent', personId: s.familyB.parentId, now: NOW })).resolves.toBeTruthy();
    await expect(createInvite(db, admin, { role: 'teacher', personId: s.teacherBId, now: NOW })).resolves.toBeTruthy();
  });

  it('a forged or foreign-school person id is refused', async () => {
    const other = await makeSchool(db, { tag: `x${nextTelegramId}` });
    const admin = await actorOf(db, s.adminId);
    await expect(createInvite(db, admin, { role: 'teacher', personId: other.teacherAId, now: NOW })).rejects.toMatchObject({
      key: 'errors.forbidden',
    });
    await expect(createInvite(db, admin, { role: 'teacher', personId: 'not-an-id', now: NOW })).rejects.toMatchObject({
      key: 'errors.forbidden',
    });
  });

  it('a new invite for a person supersedes their older unused one', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    const first = await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    const second = await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    await expect(redeem(first.code, tg())).rejects.toMatchObject({ key: 'invite.revoked' });
    await expect(redeem(second.code, tg())).resolves.toMatchObject({ role: 'parent' });
  });

  it('class invites: one per parent, with the child, skipping parents who already joined', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    const invites = await createClassInvites(db, teacher, { classId: String(s.classA.id), role: 'parent', now: NOW });
    expect(invites).toHaveLength(1);
    expect(invites[0]).toMatchObject({ personId: String(s.familyA.parentId), role: 'parent' });
    expect(invites[0]?.personName).toContain('Мария');
    expect(invites[0]?.children.map((c) => c.name)).toEqual([s.familyA.childName]);
    await redeem(invites[0]?.code ?? '', tg());
    await expect(
      createClassInvites(db, teacher, { classId: String(s.classA.id), role: 'parent', now: NOW }),
    ).rejects.toMatchObject({ key: 'invite.nobodyToInvite' });
    await expect(
      createClassInvites(db, teacher, { classId: String(s.classB.id), role: 'parent', now: NOW }),
    ).rejects.toMatchObject({ key: 'errors.forbidden' });
    const students = await createClassInvites(db, teacher, { classId: String(s.classA.id), role: 'student', now: NOW });
    expect(students.map((i) => i.personId)).toEqual([String(s.familyA.studentId)]);
  });

  it('staff invites: everyone without an account, admin only', async () => {
    const admin = await actorOf(db, s.adminId);
    const invites = await createStaffInvites(db, admin, { now: NOW });
    expect(invites.map((i) => i.personId).sort()).toEqual(
      [s.teacherAId, s.teacherBId, s.subjectTeacherId].map(String).sort(),
    );
    await expect(createStaffInvites(db, await actorOf(db, s.teacherAId), { now: NOW })).rejects.toMatchObject({
      key: 'errors.forbidden',
    });
  });
});

describe('redeeming invites (R2, R3)', () => {
  it('binds the person to the Telegram account, makes it current, and audits it', async () => {
    const inv = await createInvite(db, await actorOf(db, s.teacherAId), {
      role: 'parent',
      personId: s.familyA.parentId,
      now: NOW,
    });
    const telegramId = tg();
    const r = await redeem(inv.code, telegramId);
    expect(r).toMatchObject({ personId: String(s.familyA.parentId), role: 'parent', rebound: false, alreadyJoined: false });
    const person = await db.models.Person.findById(s.familyA.parentId).lean();
    expect(person?.telegramId).toBe(telegramId);
    expect(person?.boundAt?.toISOString()).toBe(NOW.toISOString());
    const account = await db.models.Account.findOne({ telegramId }).lean();
    expect(String(account?.currentPersonId)).toBe(String(s.familyA.parentId));
    const audit = await db.models.AuditEntry.findOne({ schoolId: s.schoolId, action: 'invite.redeem' }).lean();
    expect(String(audit?.entity?.id)).toBe(String(s.familyA.parentId));
    // Pressing the same link again by the same account is harmless.
    await expect(redeem(inv.code, telegramId)).resolves.toMatchObject({ alreadyJoined: true });
  });

  it('is single-use even when eight accounts press at the same moment', async () => {
    const inv = await createInvite(db, await actorOf(db, s.adminId), { role: 'teacher', personId: s.teacherBId, now: NOW });
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => redeem(inv.code, tg())));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((x) => x.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ key: 'invite.used' });
    }
  });

  it('refuses expired, revoked and unknown codes with their own message', async () => {
    const admin = await actorOf(db, s.adminId);
    const expiring = await createInvite(db, admin, { role: 'teacher', personId: s.teacherAId, now: NOW, ttlDays: 1 });
    await expect(redeem(expiring.code, tg(), new Date(NOW.getTime() + DAY + 1))).rejects.toMatchObject({
      key: 'invite.expired',
    });
    const revoked = await createInvite(db, admin, { role: 'teacher', personId: s.teacherBId, now: NOW });
    await revokeInvite(db, admin, revoked.inviteId, NOW);
    await expect(redeem(revoked.code, tg())).rejects.toMatchObject({ key: 'invite.revoked' });
    expect(await db.models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'invite.revoke' })).toBe(1);
    await expect(redeem('A'.repeat(24), tg())).rejects.toMatchObject({ key: 'invite.unknown' });
    await expect(redeem('short', tg())).rejects.toMatchObject({ key: 'invite.unknown' });
    await expect(redeem('бяка-бяка-бяка-бяка-бяка', tg())).rejects.toMatchObject({ key: 'invite.unknown' });
    // A used invite cannot be revoked, and a teacher cannot revoke the admin's staff invite.
    await expect(revokeInvite(db, await actorOf(db, s.teacherAId), expiring.inviteId, NOW)).rejects.toMatchObject({
      key: 'errors.forbidden',
    });
  });

  it(`throttles: ${INVITE_THROTTLE.maxFailures} wrong codes block the account, even for a correct code, until the block ends`, async () => {
    const inv = await createInvite(db, await actorOf(db, s.teacherAId), {
      role: 'parent',
      personId: s.familyA.parentId,
      now: NOW,
    });
    const telegramId = tg();
    const keys: string[] = [];
    for (let i = 0; i < 20; i++) {
      const wrong = i % 3 === 0 ? 'garbage!' : `wrong${String(i).padStart(19, 'x')}`;
      await redeem(wrong, telegramId, new Date(NOW.getTime() + i * 1000)).catch((e: { key: string }) => keys.push(e.key));
    }
    expect(keys.slice(0, 4)).toEqual(Array(4).fill('invite.unknown'));
    expect(keys.slice(4)).toEqual(Array(16).fill('invite.throttled'));
    // Blocked at the 5th failure (NOW + 4 s) for 15 minutes: 5 minutes are left at NOW + 4 s + 10 min.
    const during = new Date(NOW.getTime() + 4000 + 10 * MIN);
    await expect(redeem(inv.code, telegramId, during)).rejects.toMatchObject({ key: 'invite.throttled', vars: { minutes: 5 } });
    expect((await db.models.Person.findById(s.familyA.parentId).lean())?.telegramId).toBeUndefined();
    // Another account is not affected by this one's block.
    const other = tg();
    await expect(redeem('A'.repeat(24), other, during)).rejects.toMatchObject({ key: 'invite.unknown' });
    // After the block the correct code works.
    await expect(redeem(inv.code, telegramId, new Date(NOW.getTime() + 16 * MIN))).resolves.toMatchObject({ role: 'parent' });
  });

  it('failures spread over more than the window do not block', async () => {
    const spaced = tg();
    for (let i = 0; i < 8; i++) {
      await expect(redeem('C'.repeat(24), spaced, new Date(NOW.getTime() + i * 16 * MIN))).rejects.toMatchObject({
        key: 'invite.unknown',
      });
    }
  });

  it('a joined person is never re-invited silently: only the explicit re-bind, audited, the old account told twice, consent anew', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    const oldAccount = tg();
    const newAccount = tg();
    await redeem((await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW })).code, oldAccount);
    await acceptConsent(db, await actorOf(db, s.familyA.parentId), NOW);
    // A plain invite for her is refused: it would cut her current account off without a word.
    await expect(createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW })).rejects.toMatchObject({
      key: 'invite.alreadyJoined',
    });
    const rebind = await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW, rebind: true });
    const audit = await db.models.AuditEntry.find({ schoolId: s.schoolId, action: 'invite.rebind' }).lean();
    expect(audit).toHaveLength(1);
    expect(String(audit[0]?.actorId)).toBe(String(s.teacherAId));
    const told = () => db.models.OutboxMessage.find({ schoolId: s.schoolId, kind: 'accountRebind' }).sort({ _id: 1 }).lean();
    expect((await told()).map((m) => [m.chatId, (m.payload as { stage: string }).stage])).toEqual([[oldAccount, 'issued']]);
    // Still hers until the invite is used.
    expect((await db.models.Person.findById(s.familyA.parentId).lean())?.telegramId).toBe(oldAccount);

    await expect(redeem(rebind.code, newAccount)).resolves.toMatchObject({ rebound: true });
    const moved = await db.models.Person.findById(s.familyA.parentId).lean();
    expect(moved?.telegramId).toBe(newAccount);
    // The new account has not read the privacy notice: no consent carried over (R32).
    expect(moved?.consent?.acceptedAt).toBeUndefined();
    await expect(listMyChildren(db, await actorOf(db, s.familyA.parentId))).rejects.toMatchObject({ key: 'privacy.consentRequired' });
    expect((await told()).map((m) => [m.chatId, (m.payload as { stage: string }).stage])).toEqual([
      [oldAccount, 'issued'],
      [oldAccount, 'moved'],
    ]);
    expect(await db.models.Person.countDocuments({ telegramId: oldAccount })).toBe(0);

    const admin = await actorOf(db, s.adminId);
    await redeem((await createInvite(db, admin, { role: 'teacher', personId: s.teacherBId, now: NOW })).code, newAccount);
    const bound = await db.models.Person.find({ telegramId: newAccount }).lean();
    expect(bound.map((p) => String(p._id)).sort()).toEqual([String(s.familyA.parentId), String(s.teacherBId)].sort());
  });

  it('a student tap invites only the parents who have not joined; the overview and the count of revoked links say so', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    const father = await db.models.Person.create({
      schoolId: s.schoolId,
      externalId: `${s.schoolId}-father`,
      lastName: 'Иванов',
      firstName: 'Пётр',
      roles: ['parent'],
    });
    await db.models.Guardianship.create({ schoolId: s.schoolId, parentId: father._id, studentId: s.familyA.studentId, relation: 'father' });
    const first = await createStudentFamilyInvites(db, teacher, { studentId: String(s.familyA.studentId), role: 'parent', now: NOW });
    expect(first.invites).toHaveLength(2);
    expect(first.connected).toEqual([]);
    const mother = first.invites.find((i) => i.personId === String(s.familyA.parentId));
    await redeem(mother?.code ?? '', tg());

    const overview = await classInviteOverview(db, teacher, String(s.classA.id));
    expect(overview.students.find((x) => x.studentId === String(s.familyA.studentId))).toMatchObject({ parents: 2, parentsJoined: 1 });
    const again = await createStudentFamilyInvites(db, teacher, { studentId: String(s.familyA.studentId), role: 'parent', now: NOW });
    // The mother is connected: listed for the re-bind, no invite; the father's earlier link is revoked (said).
    expect(again.invites.map((i) => [i.personId, i.superseded])).toEqual([[String(father._id), 1]]);
    expect(again.connected).toEqual([{ personId: String(s.familyA.parentId), name: expect.stringMatching(/^Иванова/), role: 'parent' }]);
    expect((await db.models.Person.findById(s.familyA.parentId).lean())?.telegramId).toBeDefined();
  });

  it("a role-only invite makes the school's first admin from the Telegram name", async () => {
    const school = await db.models.School.create({ name: 'Новая школа', timezone: 'Europe/Moscow' });
    const inv = await createInvite(db, systemActor(school._id), { role: 'admin', now: NOW });
    const telegramId = tg();
    const r = await redeemInvite(db, { telegramId, firstName: 'Ольга', lastName: 'Петровна', code: inv.code, now: NOW });
    const admin = await db.models.Person.findById(r.personId).lean();
    expect(admin).toMatchObject({ firstName: 'Ольга', lastName: 'Петровна', roles: ['admin'], telegramId });
    expect(String(admin?.schoolId)).toBe(String(school._id));
  });
});

describe('outstanding invites (R2)', () => {
  const denied = { key: 'errors.forbidden' };
  const classScope = (id: unknown) => ({ kind: 'class' as const, classId: String(id) });

  it('lists only invites that still work, never their code or hash, and pages them', async () => {
    const teacher = await actorOf(db, s.teacherAId);
    for (let i = 0; i < 11; i++) {
      await db.models.Person.create({
        schoolId: s.schoolId,
        externalId: `${s.schoolId}-extra-${i}`,
        lastName: `Яковлев${String(i).padStart(2, '0')}`,
        firstName: 'Ян',
        roles: ['student'],
        student: { classId: s.classA.id, status: 'studying', form: 'regular' },
      });
    }
    const created = await createClassInvites(db, teacher, { classId: String(s.classA.id), role: 'student', now: NOW });
    expect(created).toHaveLength(12);
    const parent = await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    // One used, one revoked, one expired: 12 + 1 - 3 = 10 left.
    await redeem(created[0]?.code ?? '', tg());
    await revokeInvite(db, teacher, created[1]?.inviteId ?? '', NOW);
    await db.models.Invite.updateOne({ _id: created[2]?.inviteId }, { $set: { expiresAt: NOW } });
    const first = await listOutstandingInvites(db, teacher, { scope: classScope(s.classA.id), now: NOW });
    expect(first).toMatchObject({ total: 10, page: 0, pages: 1, className: '5А' });
    const ids = first.items.map((i) => i.inviteId);
    expect(ids).not.toContain(created[0]?.inviteId);
    expect(ids).not.toContain(created[1]?.inviteId);
    expect(ids).not.toContain(created[2]?.inviteId);
    // The mother comes right after her child.
    const matvey = first.items.findIndex((i) => i.personName === s.familyA.childName);
    expect(first.items[matvey + 1]).toMatchObject({
      inviteId: parent.inviteId,
      kind: 'parent',
      role: 'parent',
      personName: expect.stringMatching(/^Мария Иванова/),
      className: '5А',
      children: [{ name: s.familyA.childName, relation: 'mother' }],
    });
    expect(first.items[matvey + 1]?.expiresAt.toISOString()).toBe(new Date(NOW.getTime() + 14 * DAY).toISOString());
    const json = JSON.stringify(first);
    const hashes = (await db.models.Invite.find({ schoolId: s.schoolId }, { codeHash: 1 }).lean()).map((d) => d.codeHash);
    for (const secret of [...created.map((c) => c.code), parent.code, ...hashes]) expect(json).not.toContain(secret);
    expect(Object.keys(first.items[0] ?? {}).sort()).toEqual(
      ['children', 'className', 'createdAt', 'expiresAt', 'inviteId', 'kind', 'personName', 'role'].sort(),
    );

    // Two more make two pages; a page past the end shows the last one.
    await createInvite(db, teacher, { role: 'parent', personId: s.familyA.parentId, now: NOW }); // supersedes `parent`
    // created[0]'s student has joined: a new invite for them is the explicit re-bind (issue 11).
    await createInvite(db, await actorOf(db, s.adminId), { role: 'student', personId: created[0]?.personId ?? '', now: NOW, rebind: true });
    await createInvite(db, await actorOf(db, s.adminId), { role: 'student', personId: created[1]?.personId ?? '', now: NOW });
    const p2 = await listOutstandingInvites(db, teacher, { scope: classScope(s.classA.id), page: 99, now: NOW });
    expect(p2).toMatchObject({ total: 12, page: 1, pages: 2 });
    expect(p2.items).toHaveLength(12 - OUTSTANDING_PAGE_SIZE);
    expect(p2.items.map((i) => i.inviteId)).not.toContain(parent.inviteId);
  });

  it('R2: the class teacher lists their classes only; the admin lists staff and everything', async () => {
    const teacherA = await actorOf(db, s.teacherAId);
    const admin = await actorOf(db, s.adminId);
    const a = await createInvite(db, teacherA, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    const b = await createInvite(db, admin, { role: 'parent', personId: s.familyB.parentId, now: NOW });
    const staff = await createInvite(db, admin, { role: 'teacher', personId: s.subjectTeacherId, now: NOW });
    const ids = (p: { items: Array<{ inviteId: string }> }) => p.items.map((i) => i.inviteId).sort();
    expect(ids(await listOutstandingInvites(db, teacherA, { scope: { kind: 'all' }, now: NOW }))).toEqual([a.inviteId]);
    await expect(listOutstandingInvites(db, teacherA, { scope: classScope(s.classB.id), now: NOW })).rejects.toMatchObject(denied);
    await expect(listOutstandingInvites(db, teacherA, { scope: { kind: 'staff' }, now: NOW })).rejects.toMatchObject(denied);
    await expect(listOutstandingInvites(db, teacherA, { scope: classScope('forged'), now: NOW })).rejects.toMatchObject(denied);
    for (const who of [s.subjectTeacherId, s.familyA.parentId]) {
      const actor = await actorOf(db, who);
      await expect(listOutstandingInvites(db, actor, { scope: { kind: 'all' }, now: NOW })).rejects.toMatchObject(denied);
      await expect(listOutstandingInvites(db, actor, { scope: classScope(s.classA.id), now: NOW })).rejects.toMatchObject(denied);
    }
    const staffList = await listOutstandingInvites(db, admin, { scope: { kind: 'staff' }, now: NOW });
    expect(staffList.items).toMatchObject([{ inviteId: staff.inviteId, kind: 'staff', role: 'teacher', personName: expect.stringMatching(/^Игорь Кузнецов/) }]);
    expect(staffList.items[0]?.className).toBeUndefined();
    expect(ids(await listOutstandingInvites(db, admin, { scope: classScope(s.classB.id), now: NOW }))).toEqual([b.inviteId]);
    const all = await listOutstandingInvites(db, admin, { scope: { kind: 'all' }, now: NOW });
    expect(ids(all)).toEqual([a.inviteId, b.inviteId, staff.inviteId].sort());
    // Another school's admin sees none of it.
    const other = await makeSchool(db, { tag: `o${nextTelegramId}` });
    const otherAdmin = await actorOf(db, other.adminId);
    expect((await listOutstandingInvites(db, otherAdmin, { scope: { kind: 'all' }, now: NOW })).total).toBe(0);
    await expect(
      listOutstandingInvites(db, otherAdmin, { scope: classScope(s.classA.id), now: NOW }),
    ).rejects.toMatchObject(denied);
  });

  it('one invite for the confirmation: refused like revokeInvite, and only the children the actor may see', async () => {
    const teacherA = await actorOf(db, s.teacherAId);
    const admin = await actorOf(db, s.adminId);
    // Мария is also the guardian of the 5Б child: the 5А class teacher does not see that child.
    await db.models.Guardianship.create({ schoolId: s.schoolId, parentId: s.familyA.parentId, studentId: s.familyB.studentId });
    const inv = await createInvite(db, teacherA, { role: 'parent', personId: s.familyA.parentId, now: NOW });
    const mine = await getOutstandingInvite(db, teacherA, inv.inviteId, NOW);
    expect(mine.children).toEqual([{ name: s.familyA.childName, relation: 'mother' }]);
    expect(mine.className).toBe('5А');
    const all = await getOutstandingInvite(db, admin, inv.inviteId, NOW);
    expect(all.children.map((c) => c.name).sort()).toEqual([s.familyA.childName, s.familyB.childName].sort());
    expect(JSON.stringify(all)).not.toContain(inv.code);

    const b = await createInvite(db, admin, { role: 'student', personId: s.familyB.studentId, now: NOW });
    const staff = await createInvite(db, admin, { role: 'teacher', personId: s.teacherBId, now: NOW });
    const other = await makeSchool(db, { tag: `q${nextTelegramId}` });
    const foreign = await createInvite(db, await actorOf(db, other.adminId), { role: 'teacher', personId: other.teacherAId, now: NOW });
    for (const id of [b.inviteId, staff.inviteId, foreign.inviteId, '0123456789abcdef01234567', 'zzz']) {
      await expect(getOutstandingInvite(db, teacherA, id, NOW)).rejects.toMatchObject(denied);
    }
    await expect(getOutstandingInvite(db, admin, foreign.inviteId, NOW)).rejects.toMatchObject(denied);
    await revokeInvite(db, teacherA, inv.inviteId, NOW);
    await expect(getOutstandingInvite(db, teacherA, inv.inviteId, NOW)).rejects.toMatchObject({ key: 'invite.outstanding.gone' });
    await expect(getOutstandingInvite(db, admin, staff.inviteId, new Date(NOW.getTime() + 15 * DAY))).rejects.toMatchObject({
      key: 'invite.outstanding.gone',
    });
    // The refusal comes before the state: a revoked invite of another class is still just "forbidden".
    await revokeInvite(db, admin, b.inviteId, NOW);
    await expect(getOutstandingInvite(db, teacherA, b.inviteId, NOW)).rejects.toMatchObject(denied);
  });
});

describe('people (R4, R32)', () => {
  it('a parent sees nothing of the children before accepting the privacy notice, then their child only', async () => {
    const parent = await actorOf(db, s.familyA.parentId);
    await expect(listMyChildren(db, parent)).rejects.toMatchObject({ key: 'privacy.consentRequired' });
    await expect(getStudentCard(db, parent, String(s.familyA.studentId))).rejects.toMatchObject({
      key: 'privacy.consentRequired',
    });
    const before = await privacyReport(db, parent);
    expect(before.consentRequired).toBe(true);
    expect(before.children).toEqual([]);
    expect(before.phoneMasked).toBe('+7********67');
    expect(JSON.stringify(before)).not.toContain('123-45');

    await acceptConsent(db, parent, NOW);
    expect(await db.models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'consent.accept' })).toBe(1);
    await acceptConsent(db, parent, NOW); // repeating it changes nothing
    expect(await db.models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'consent.accept' })).toBe(1);
    expect(await listMyChildren(db, parent)).toEqual([
      { studentId: String(s.familyA.studentId), name: s.familyA.childName, classId: String(s.classA.id), className: '5А' },
    ]);
    const after = await privacyReport(db, parent);
    expect(after.consentAt?.toISOString()).toBe(NOW.toISOString());
    expect(after.children).toEqual([{ name: s.familyA.childName, className: '5А', birthDate: true }]);
    const card = await getStudentCard(db, parent, String(s.familyA.studentId));
    expect(card.className).toBe('5А');
    expect(card.classTeacherName).toContain('Анна Ивановна');
    expect(card.guardians).toBeUndefined();
    await expect(getStudentCard(db, parent, String(s.familyB.studentId))).rejects.toMatchObject({ key: 'errors.forbidden' });
    await expect(getStudentCard(db, parent, 'zzz')).rejects.toMatchObject({ key: 'errors.forbidden' });
  });

  it('class lists: the class teacher and the teachers of the class, nobody else', async () => {
    const teacherA = await actorOf(db, s.teacherAId);
    const math = await actorOf(db, s.subjectTeacherId);
    const parent = await actorOf(db, s.familyA.parentId);
    expect((await listClassStudents(db, teacherA, String(s.classA.id))).map((x) => x.name)).toEqual([s.familyA.childName]);
    expect((await listClassStudents(db, math, String(s.classB.id))).map((x) => x.name)).toEqual([s.familyB.childName]);
    await expect(listClassStudents(db, teacherA, String(s.classB.id))).rejects.toMatchObject({ key: 'errors.forbidden' });
    await expect(listClassStudents(db, parent, String(s.classA.id))).rejects.toMatchObject({ key: 'errors.forbidden' });
    // The class teacher's card names the parents (to write to them through the bot) without their
    // phones (issue 6: no phone number changes hands); the admin's has the phone; a subject teacher's has neither.
    const card = await getStudentCard(db, teacherA, String(s.familyA.studentId));
    expect(card.guardians?.[0]?.name).toContain('Мария');
    expect(card.guardians?.[0]?.phone).toBeUndefined();
    const adminCard = await getStudentCard(db, await actorOf(db, s.adminId), String(s.familyA.studentId));
    expect(adminCard.guardians?.[0]?.phone).toBe('+7 900 123-45-67');
    expect((await getStudentCard(db, math, String(s.familyA.studentId))).guardians).toBeUndefined();
  });

  it('masks phones', () => {
    expect(maskPhone('+7 (900) 123-45-67')).toBe('+7********67');
    expect(maskPhone('89001234567')).toBe('8********67');
    expect(maskPhone(undefined)).toBeUndefined();
  });
});

describe('invite documents', () => {
  it('the QR code is a PNG of the requested size', async () => {
    const png = await inviteQrPng('https://t.me/bot?start=abc', 512);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(512);
  });

  it('the sheet is an A4 PDF with one block per child, several pages when needed', async () => {
    const blocks = Array.from({ length: 6 }, (_, i) => ({
      childName: `Ученик ${i}`,
      parentName: `Родитель ${i}`,
      link: `https://t.me/bot?start=${'x'.repeat(24)}${i}`,
    }));
    const pdf = await inviteSheetPdf({
      title: '5Б: приглашения',
      childLabel: 'Ученик',
      parentLabel: 'Родитель',
      instructions: 'Наведите камеру на QR-код.',
      blocks,
    });
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-')).toBe(true);
    expect(text.match(/\/Type \/Page\b/g)).toHaveLength(2);
    expect(text).toContain('/MediaBox [0 0 595.28 841.89]');
    expect(text).toContain('DejaVu');
    // Each link is clickable in the PDF.
    for (const b of blocks) expect(text).toContain(b.link);
  });
});
