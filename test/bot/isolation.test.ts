/**
 * R4: parents and students see only their own (their children's) data; a teacher only their classes;
 * nobody anything of another school. Every check here goes through the bot with forged or replayed
 * input, so it tests the domain checks, not the keyboards.
 */
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSENT_VERSION } from '../../src/domain/school/people.js';
import { makeSchool, type SchoolFixture } from '../support/fixtures.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import type { TestUser } from '../support/users.js';

let t: TestApp;
let s: SchoolFixture;
let other: SchoolFixture;

/** Binds a person to a new Telegram user directly (joining itself is tested in join.test.ts). */
async function userFor(personId: Types.ObjectId, opts: { consent?: boolean; languageCode?: string } = {}): Promise<TestUser> {
  const user = t.world.user({ languageCode: opts.languageCode ?? 'ru' });
  const set: Record<string, unknown> = { telegramId: user.id, boundAt: t.clock.now() };
  if (opts.consent !== false) set.consent = { acceptedAt: t.clock.now(), version: CONSENT_VERSION };
  await t.app.db.models.Person.updateOne({ _id: personId }, { $set: set });
  await user.send('/start'); // the role menu: a message for replayed buttons to hang on
  return user;
}

const seen = (u: TestUser) => u.messages().map((m) => m.content).join('\n');
const FORBIDDEN = 'У вас нет доступа к этому.';

beforeAll(async () => {
  t = await createTestApp();
  s = await makeSchool(t.app.db);
  // A second school in the same database, with its own people (surnames tagged "2").
  other = await makeSchool(t.app.db, { tag: '2', name: 'Школа №2' });
});
afterAll(async () => {
  await t?.close();
});

describe('a parent sees only their own child', () => {
  let parent: TestUser;
  beforeAll(async () => {
    parent = await userFor(s.familyA.parentId);
  });

  it('(control) their own child opens', async () => {
    await parent.send('/children');
    expect(parent.lastText()).toContain(s.familyA.childName);
    expect(parent.buttons()).toEqual([s.familyA.childName]);
    await parent.press(s.familyA.childName);
    expect(parent.lastText()).toContain('Класс: 5А');
  });

  it('a replayed button naming another child is refused and shows nothing of that child', async () => {
    const answer = await parent.pressData(`child:${s.familyB.studentId}`);
    expect(answer?.text).toBe(FORBIDDEN);
    expect(answer?.show_alert).toBe(true);
    expect(seen(parent)).not.toContain(s.familyB.childFirstName);
    expect(seen(parent)).not.toContain('5Б');
  });

  it('a command naming another child is refused the same way', async () => {
    await parent.send(`/children ${s.familyB.studentId}`);
    expect(parent.lastText()).toBe(FORBIDDEN);
    await parent.send(`/children ${s.familyB.parentId}`);
    expect(parent.lastText()).toBe(FORBIDDEN);
    await parent.send('/children not-an-id');
    expect(parent.lastText()).toBe(FORBIDDEN);
    expect(seen(parent)).not.toContain(s.familyB.childFirstName);
  });

  it('malformed data is a stale button, not an error', async () => {
    const answer = await parent.pressData('child:zzz');
    expect(answer?.text).toContain('устарела');
  });

  it('invite buttons of a class teacher do nothing for a parent', async () => {
    for (const data of [
      `invc:${s.classA.id}`,
      `invs:${s.classA.id}:p`,
      `invst:${s.familyB.studentId}:p`,
      `invst:${s.familyA.studentId}:s`,
      `invp:${s.teacherAId}`,
      'inva',
      'invm:staff',
    ]) {
      const answer = await parent.pressData(data);
      expect(answer?.text, data).toBe(FORBIDDEN);
    }
    expect(parent.sentDocuments()).toEqual([]);
    expect(parent.sentPhotos()).toEqual([]);
    expect(seen(parent)).not.toContain(s.familyB.childFirstName);
    expect(await t.app.db.models.Invite.countDocuments({ schoolId: s.schoolId })).toBe(0);
  });

  it('switching to a person of someone else is refused', async () => {
    const answer = await parent.pressData(`prof:${s.familyB.parentId}`);
    expect(answer?.text).toBe(FORBIDDEN);
    const account = await t.app.db.models.Account.findOne({ telegramId: parent.id }).lean();
    expect(String(account?.currentPersonId ?? '')).not.toBe(String(s.familyB.parentId));
  });
});

describe('a teacher sees only their classes', () => {
  let teacherA: TestUser;
  beforeAll(async () => {
    teacherA = await userFor(s.teacherAId);
  });

  it('(control) their own class opens on /invite', async () => {
    await teacherA.send('/invite');
    // ✅: the parents have joined (issue 11: the list shows who has).
    expect(teacherA.buttons()).toContain(`✅ ${s.familyA.childName}`);
  });

  it("another teacher's class, its sheet and its students are refused", async () => {
    for (const data of [`invc:${s.classB.id}`, `invs:${s.classB.id}:p`, `invs:${s.classB.id}:s`, `invst:${s.familyB.studentId}:p`]) {
      const answer = await teacherA.pressData(data);
      expect(answer?.text, data).toBe(FORBIDDEN);
    }
    expect(teacherA.sentDocuments()).toEqual([]);
    expect(teacherA.sentPhotos()).toEqual([]);
    expect(await t.app.db.models.Invite.countDocuments({ personId: s.familyB.parentId })).toBe(0);
  });

  it("a student of another class is not readable; a subject teacher of that class can read it (control)", async () => {
    const answer = await teacherA.pressData(`child:${s.familyB.studentId}`);
    expect(answer?.text).toBe(FORBIDDEN);
    expect(seen(teacherA)).not.toContain(s.familyB.childFirstName);

    const math = await userFor(s.subjectTeacherId);
    await math.send(`/children ${s.familyB.studentId}`);
    expect(math.lastText()).toContain(s.familyB.childFirstName);
    // ...but a subject teacher does not get the parents' phones, and cannot invite.
    expect(math.lastText()).not.toContain('+7');
    expect((await math.pressData(`invst:${s.familyB.studentId}:p`))?.text).toBe(FORBIDDEN);
  });

  it('a teacher cannot invite staff', async () => {
    expect((await teacherA.pressData(`invp:${s.teacherBId}`))?.text).toBe(FORBIDDEN);
    expect((await teacherA.pressData('inva'))?.text).toBe(FORBIDDEN);
    expect(teacherA.sentPhotos()).toEqual([]);
  });
});

describe('two schools in one database', () => {
  it('a parent of school 1 cannot open a child of school 2', async () => {
    const parent = await userFor(s.familyB.parentId);
    const answer = await parent.pressData(`child:${other.familyB.studentId}`);
    expect(answer?.text).toBe(FORBIDDEN);
    await parent.send(`/children ${other.familyA.studentId}`);
    expect(parent.lastText()).toBe(FORBIDDEN);
    expect(seen(parent)).not.toContain(other.familyB.childName);
    expect(seen(parent)).not.toContain(other.familyA.childName);
  });

  it('the admin of school 1 cannot invite or list people of school 2', async () => {
    const admin = await userFor(s.adminId);
    for (const data of [
      `invp:${other.teacherAId}`,
      `invc:${other.classA.id}`,
      `invs:${other.classA.id}:p`,
      `invst:${other.familyA.studentId}:p`,
      `child:${other.familyA.studentId}`,
    ]) {
      expect((await admin.pressData(data))?.text, data).toBe(FORBIDDEN);
    }
    expect(admin.sentPhotos()).toEqual([]);
    expect(admin.sentDocuments()).toEqual([]);
    expect(await t.app.db.models.Invite.countDocuments({ schoolId: other.schoolId })).toBe(0);
    // Its own staff list names nobody of school 2 (control: it names its own).
    await admin.send('/invite');
    await admin.press('👥 Сотрудников');
    const buttons = admin.buttons().join('\n');
    expect(buttons).toContain('Петрова Анна');
    expect(buttons).not.toContain('Петрова2');
  });

  it("school 1's class teacher cannot reach a class of school 2 with the same name", async () => {
    const teacher = await userFor(s.teacherBId);
    expect((await teacher.pressData(`invc:${other.classB.id}`))?.text).toBe(FORBIDDEN);
    await teacher.send('/invite');
    expect(teacher.buttons()).toContain(`✅ ${s.familyB.childName}`);
    expect(teacher.buttons().join('\n')).not.toContain(other.familyB.childName);
  });
});
