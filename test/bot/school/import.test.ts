import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ExcelJS from 'exceljs';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot } from '../../../src/bot/index.js';
import { importCb } from '../../../src/bot/callbacks/school.js';
import { systemActor } from '../../../src/domain/school/actor.js';
import { type ImportKind, importFile } from '../../../src/domain/imports/index.js';
import { createSchool } from '../../../src/domain/school/schools.js';
import { createTestApp, TEST_BOT_INFO, type TestApp } from '../../support/harness.js';
import { createTelegramWorld, type TestUser } from '../../support/users.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const template = (kind: ImportKind) => readFileSync(join(ROOT, 'docs', 'import', `${kind}.csv`));
const CSV = 'text/csv';
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

let t: TestApp;
let schoolId: Types.ObjectId;
let admin: TestUser;
let deputy: TestUser;
let parent: TestUser;

const db = () => t.app.db;
const students = () => db().models.Person.countDocuments({ schoolId, roles: 'student' });
const imports = (action = 'import.students') => db().models.AuditEntry.countDocuments({ schoolId, action });

async function bind(externalId: string, user: TestUser) {
  await db().models.Person.updateOne({ schoolId, externalId }, { $set: { telegramId: user.id, boundAt: t.clock.now() } });
}

beforeAll(async () => {
  t = await createTestApp();
  const school = await createSchool(db(), { name: 'Школа №3', timezone: 'Europe/Moscow', now: t.clock.now() });
  schoolId = school._id;
  for (const kind of ['staff', 'subjects', 'classes'] as const) {
    const report = await importFile(db(), systemActor(schoolId, 'cli'), {
      kind,
      data: template(kind),
      filename: `${kind}.csv`,
      now: t.clock.now(),
    });
    expect(report.errors).toEqual([]);
  }
  admin = t.world.user({ firstName: 'Наталья', languageCode: 'en' });
  deputy = t.world.user({ firstName: 'Игорь', languageCode: 'en' });
  parent = t.world.user({ firstName: 'Ольга', languageCode: 'en' });
  await bind('T001', admin); // admin (R5)
  await bind('T002', deputy); // deputy + teacher (R7)
  await db().models.Person.create({
    schoolId,
    externalId: 'PX1',
    lastName: 'Родителева',
    firstName: 'Ольга',
    roles: ['parent'],
    telegramId: parent.id,
  });
});
afterAll(async () => {
  await t?.close();
});

describe('import by sending a file', () => {
  it('an admin sends a CSV: a preview with counts and Confirm / Cancel; nothing written yet', async () => {
    await admin.sendDocument('students.csv', template('students'), CSV, 'ученики');
    const text = admin.inboxTexts().join('\n');
    expect(text).toContain('Import: students and parents');
    expect(text).toContain('The file is good. Nothing has been written yet');
    expect(text).toContain('Students: 4 new, 0 updated, 0 unchanged');
    expect(text).toContain('Parents: 4 new, 0 updated, 0 unchanged');
    expect(text).toContain('Import this file?');
    expect(admin.buttons()).toEqual(['✅ Import', '✖️ Cancel']);
    expect(await students()).toBe(0);
    expect(await db().models.PendingImport.countDocuments({ schoolId, status: 'pending' })).toBe(1);
  });

  it('Confirm imports; a second press imports nothing more', async () => {
    const preview = admin.lastMessage();
    const answer = await admin.press('✅ Import');
    expect(answer?.text).toBe('Importing…');
    expect(admin.inboxTexts().join('\n')).toContain('Imported:');
    expect(await students()).toBe(4);
    expect(await imports()).toBe(1);
    const audit = await db().models.AuditEntry.findOne({ schoolId, action: 'import.students' }).lean();
    expect(audit).toMatchObject({ via: 'import', actorRole: 'admin' });
    // The buttons are gone; a replayed press (a double tap that arrives late) is refused.
    expect(admin.messages().find((m) => m.messageId === preview?.messageId)?.buttons ?? []).toEqual([]);
    const pending = await db().models.PendingImport.findOne({ schoolId }).lean();
    expect(pending?.status).toBe('done');
    const again = await admin.pressData(importCb.pack({ a: 'ok', id: String(pending?._id) }), preview?.messageId);
    expect(again?.text).toBe('This import has already been done or cancelled.');
    expect(await imports()).toBe(1);
  });

  it('Confirm works after a restart: a fresh bot instance with no memory of the preview completes it', async () => {
    await admin.sendDocument('groups.xlsx', await groupsXlsx(), XLSX); // kind guessed from the headers
    expect(admin.inboxTexts().join('\n')).toContain('Groups: 2 new, 0 updated, 0 unchanged');
    // "Restart": a new bot built from the same config and database, answering the same chat.
    const restarted = createBot(t.config, t.app.deps, {
      client: { fetch: t.fake.fetch, apiRoot: 'http://fake-bot-api.local' },
      botInfo: TEST_BOT_INFO,
    });
    const world = createTelegramWorld(t.fake, (update) => restarted.handleUpdate(update));
    const sameAdmin = world.user({ id: admin.id, firstName: 'Наталья', languageCode: 'en' });
    await sameAdmin.press('✅ Import');
    expect(await db().models.Group.countDocuments({ schoolId })).toBe(2);
    expect(sameAdmin.inboxTexts().join('\n')).toContain('Imported:');
  });

  it('Cancel writes nothing, and the cancelled preview cannot be confirmed later', async () => {
    await admin.sendDocument('load.csv', template('load'), CSV, 'нагрузка');
    const preview = admin.lastMessage();
    await admin.press('✖️ Cancel');
    expect(admin.inboxTexts().join('\n')).toContain('Import cancelled. Nothing was changed.');
    const pending = await db().models.PendingImport.findOne({ schoolId, kind: 'load' }).lean();
    expect(pending?.status).toBe('cancelled');
    const late = await admin.pressData(importCb.pack({ a: 'ok', id: String(pending?._id) }), preview?.messageId);
    expect(late?.text).toBe('This import has already been done or cancelled.');
    expect(await db().models.TeachingLoad.countDocuments({ schoolId })).toBe(0);
  });

  it('a file with bad rows gets the list of rows and no buttons; nothing is written', async () => {
    const bad = Buffer.from(
      ['student_id;last_name;first_name;class_id', 'N1;Орлов;Олег;5A', 'N2;Орлов;1;5A', 'N3;Орлова;Ольга;9Z', 'N4;;Ира;5A'].join('\n'),
    );
    await admin.sendDocument('bad.csv', bad, CSV, 'students');
    const text = admin.inboxTexts().join('\n');
    expect(text).toContain('The file was not imported: 3 problem(s)');
    expect(text).toContain('Row 3, first_name:');
    expect(text).toContain('Row 4, class_id: no class with the code 9Z');
    expect(text).toContain('Row 5, last_name: a value is required');
    expect(admin.buttons()).toEqual([]);
    expect(await students()).toBe(4);
  });

  it('cell text shown back in a report is escaped for HTML (Telegram would refuse the message otherwise)', async () => {
    await admin.sendDocument('x.csv', Buffer.from('student_id;last_name;first_name;class_id\n<b>&;Орлов;Олег;5A\n'), CSV, 'students');
    expect(admin.lastText()).toContain('Row 2, student_id: "<b>&" is not a valid code');
  });

  it('a long list of bad rows is split under 4096 characters and attached in full as CSV', async () => {
    const lines = ['student_id;last_name;first_name;class_id'];
    for (let i = 0; i < 400; i++) lines.push(`Z${i};Петров;Пётр;NOCLASS${i}`);
    await admin.sendDocument('many.csv', Buffer.from(lines.join('\n')), CSV, 'students');
    const inbox = admin.inbox();
    expect(inbox.length).toBeGreaterThanOrEqual(2);
    for (const m of inbox) expect(m.content.length).toBeLessThanOrEqual(4096);
    const docs = admin.sentDocuments();
    const errors = docs[docs.length - 1];
    expect(errors?.filename).toBe('errors-students.csv');
    const rows = errors?.data.toString('utf8').trim().split(/\r?\n/) ?? [];
    expect(rows).toHaveLength(401);
    expect(rows[1]).toContain('2;class_id;no class with the code NOCLASS0');
    expect(await students()).toBe(4);
  });

  it('the deputy may load the timetable side (kind from the headers) but not students (R7)', async () => {
    await deputy.sendDocument('subjects.csv', Buffer.from('subject_id;name\nBIO;Биология\n'), CSV);
    expect(deputy.inboxTexts().join('\n')).toContain('Subjects: 1 new');
    await deputy.press('✅ Import');
    expect(await db().models.Subject.countDocuments({ schoolId, externalId: 'BIO' })).toBe(1);

    await deputy.sendDocument('students.csv', template('students'), CSV, 'students');
    expect(deputy.lastText()).toBe('You may not load students and parents.');
    expect(deputy.buttons()).toEqual([]);
  });

  it('a parent’s file is not an import: the usual answer, nothing written; a forged Confirm is refused', async () => {
    const before = await db().models.Person.countDocuments({ schoolId });
    await parent.sendDocument('students.csv', template('students'), CSV, 'students');
    expect(parent.lastText()).toBe(t.app.deps.i18n.getFixedT('en')('unknown.media'));
    expect(await db().models.Person.countDocuments({ schoolId })).toBe(before);
    expect(await db().models.PendingImport.countDocuments({ personId: { $exists: true }, chatId: parent.chatId })).toBe(0);

    // Someone else's pending import cannot be confirmed by pressing forged data.
    await admin.sendDocument('load.csv', template('load'), CSV, 'load');
    const pending = await db().models.PendingImport.findOne({ schoolId, kind: 'load', status: 'pending' }).lean();
    const answer = await parent.pressData(importCb.pack({ a: 'ok', id: String(pending?._id) }));
    expect(answer?.text).toBe('You do not have access to this.');
    expect(await db().models.TeachingLoad.countDocuments({ schoolId })).toBe(0);
    expect((await db().models.PendingImport.findById(pending?._id).lean())?.status).toBe('pending');
  });
});

async function groupsXlsx(): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Группы');
  sheet.addRow(['group_id', 'class_id', 'subject_id', 'name', 'student_ids']);
  sheet.addRow(['5A-ENG-1', '5A', 'ENG', 'Английский, группа 1', 'S0001']);
  sheet.addRow(['5A-ENG-2', '5A', 'ENG', 'Английский, группа 2', 'S0003']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
