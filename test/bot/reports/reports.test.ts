import ExcelJS from 'exceljs';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shortId } from '../../../src/bot/callbacks/index.js';
import { REPORT_KIND_CODES, reportGoCb } from '../../../src/bot/callbacks/reports.js';
import { REPORT_KINDS } from '../../../src/domain/reports/catalog.js';
import { resumeStaleRequests, STALE_MS } from '../../../src/bot/features/reports/requests.js';
import type { Db } from '../../../src/db/index.js';
import { reportTasks } from '../../../src/domain/reports/tasks.js';
import { bind } from '../../notify/world.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { addSchoolYear, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';
import { waitFor } from '../../support/wait.js';

/**
 * /reports (issue 14, "How people get them"; R26–R28, R4). 7Б has four students with q1 marks:
 *
 *            math  russian
 *   s0        5      5       success, quality
 *   s1        4      5       success, quality
 *   s2        3      4       success
 *   s3        2      3       neither
 *
 * success 3/4 = 75 %, quality 2/4 = 50 %, СОУ (5×3·100 + 4×2·64 + 3×2·36 + 2·16)/8 = 516/8 = 64.5,
 * average 31/8 = 3.875. The class teacher (Классова) gets these figures as text and the PDF; the
 * mother of s0 gets her child's report card only; Другова (Russian in 7Б only) is refused 8А.
 */
let t: TestApp;
let f: JournalFixture;
let classTeacher: TestUser;
let russianTeacher: TestUser;
let mother: TestUser;
let yearId: Types.ObjectId;
const db = (): Db => t.app.db;

async function q1(subjectId: Types.ObjectId, values: string[]) {
  await db().models.PeriodMark.insertMany(
    values.map((value, i) => ({ schoolId: f.schoolId, yearId, periodCode: 'q1', studentId: f.class7.studentIds[i], subjectId, value, source: 'teacher' })),
  );
}

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(db(), { students7: 4, students8: 2 });
  yearId = await addSchoolYear(db(), f);
  await q1(f.mathId, ['5', '4', '3', '2']);
  await q1(f.russianId, ['5', '5', '4', '3']);
  const boundAt = new Date('2026-11-01T09:00:00Z');
  classTeacher = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
  russianTeacher = t.world.user({ firstName: 'Вера', languageCode: 'ru' });
  mother = t.world.user({ firstName: 'Mary', languageCode: 'ru' });
  await bind(db(), f.classTeacherId, classTeacher, boundAt);
  await bind(db(), f.otherTeacherId, russianTeacher, boundAt);
  const parent = await db().models.Person.create({ schoolId: f.schoolId, externalId: 'p-0', lastName: 'Мамина', firstName: 'Мария', roles: ['parent'] });
  await db().models.Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId: f.class7.studentIds[0] as Types.ObjectId, relation: 'mother' });
  await bind(db(), parent._id, mother, boundAt);
});

afterAll(async () => {
  await t?.close();
});

const docs = (u: TestUser) => u.sentDocuments();

describe('/reports', () => {
  it('the class teacher asks for the quarter report: the key figures as text, the PDF in the chat, one progress message edited', async () => {
    await classTeacher.send('/reports');
    await classTeacher.press('Отчёт классного руководителя');
    // One class: straight to the periods.
    await classTeacher.press(/1-я четверть · PDF/);
    const doc = await waitFor(() => docs(classTeacher)[0]);
    expect(doc.filename).toMatch(/^quarter-report-7Б-q1\.pdf$/);
    expect(doc.data.subarray(0, 5).toString()).toBe('%PDF-');
    const summary = await waitFor(() => classTeacher.messages().find((m) => m.content.includes('Успеваемость 75.0%')));
    expect(summary.content).toContain('качество 50.0%');
    expect(summary.content).toContain('СОУ 64.5%');
    expect(summary.content).toMatch(/средний балл 3\.8[78]/);
    expect(summary.content).toContain('Учеников: 4, аттестовано: 4');
    // The progress was shown by editing that one message.
    const edits = t.fake.callsOf('editMessageText').filter((c) => Number(c.params.message_id) === summary.messageId);
    expect(edits.some((c) => /⏳ Строю отчёт… \d+%/.test(String(c.params.text)))).toBe(true);
    expect(await reportTasks(db()).countDocuments({})).toBe(0);
  });

  it('the XLSX of the same report opens and holds the figures', async () => {
    await classTeacher.send('/reports');
    await classTeacher.press('Отчёт классного руководителя');
    await classTeacher.press(/1-я четверть · XLSX/);
    const doc = await waitFor(() => docs(classTeacher).find((d) => d.filename.endsWith('.xlsx')));
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(doc.data as unknown as ArrayBuffer);
    const values = wb.worksheets[0]?.getSheetValues().flat().map(String) ?? [];
    expect(values).toContain('Математика');
  });

  it('a second request while one is being built says so, and only one file arrives', async () => {
    await classTeacher.send('/reports');
    await classTeacher.press('Сводная ведомость');
    const held = t.fake.holdNext('sendDocument', { chatId: classTeacher.id });
    const before = docs(classTeacher).length;
    const menu = classTeacher.lastMessage()?.messageId;
    await classTeacher.press(/Учебный год · PDF/, { messageId: menu });
    await held.reached;
    const answer = await classTeacher.press(/Учебный год · PDF/, { messageId: menu });
    expect(answer?.text).toContain('уже строится');
    expect(classTeacher.lastText()).toContain('уже строится');
    held.release();
    await waitFor(() => docs(classTeacher).length === before + 1 || undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(docs(classTeacher).length).toBe(before + 1);
    await waitFor(async () => ((await reportTasks(db()).countDocuments({})) === 0 ? true : undefined));
  });

  it('a parent gets only their own child’s report card', async () => {
    await mother.send('/reports');
    expect(mother.buttons().flat()).toEqual(['Табель', 'Письмо за неделю']);
    await mother.press('Табель');
    await mother.press(/1-я четверть/);
    const doc = await waitFor(() => docs(mother)[0]);
    expect(doc.filename).toMatch(/^report-card-7Б-Ученик01-q1\.pdf$/);
    // Another child of the class, through a forged button: refused, nothing built.
    const other = shortId(String(f.class7.studentIds[1]));
    const answer = await mother.pressData(reportGoCb.pack({ k: 'rc', t: 'p', i: other, s: '-', p: 'q1', f: 'p' }));
    expect(answer?.text).toMatch(/нет доступа|доступ/i);
    await new Promise((r) => setTimeout(r, 200));
    expect(docs(mother)).toHaveLength(1);
  });

  it('the class teacher gets one student’s report card: the class’s students, then the period; a student of another class is refused', async () => {
    const before = docs(classTeacher).length;
    await classTeacher.send('/reports');
    await classTeacher.press('Табель');
    // Her one class: straight to its students (studying ones, by name).
    expect(classTeacher.buttons().flat().filter((b) => b.startsWith('Ученик'))).toHaveLength(4);
    await classTeacher.press(/^Ученик02/);
    await classTeacher.press(/1-я четверть/);
    const doc = await waitFor(() => docs(classTeacher)[before]);
    expect(doc.filename).toMatch(/^report-card-7Б-Ученик02-q1\.pdf$/);
    expect(doc.data.subarray(0, 5).toString()).toBe('%PDF-');
    // 8А is not hers: its student's report card through a forged button is refused, nothing built.
    const foreign = shortId(String(f.class8.studentIds[0]));
    const answer = await classTeacher.pressData(reportGoCb.pack({ k: 'rc', t: 'p', i: foreign, s: '-', p: 'q1', f: 'p' }));
    expect(answer?.text).toMatch(/доступ/i);
    await new Promise((r) => setTimeout(r, 200));
    expect(docs(classTeacher)).toHaveLength(before + 1);
  });

  it('a parent opens the report card from the diary, in one step to its periods', async () => {
    const before = docs(mother).length;
    await mother.send('/diary');
    await mother.press('📄 Табель');
    await mother.press(/2-я четверть/);
    const doc = await waitFor(() => docs(mother)[before]);
    expect(doc.filename).toMatch(/^report-card-7Б-Ученик01-q2\.pdf$/);
  });

  it('a teacher asking for another class through a forged button is refused in the domain', async () => {
    await russianTeacher.send('/reports');
    const answer = await russianTeacher.pressData(reportGoCb.pack({ k: 'pr', t: 'c', i: shortId(String(f.class8.id)), s: '-', p: 'q1', f: 'x' }));
    expect(answer?.text).toMatch(/доступ/i);
    // Her own class and subject is fine.
    await russianTeacher.pressData(reportGoCb.pack({ k: 'pr', t: 'c', i: shortId(String(f.class7.id)), s: '-', p: 'q1', f: 'x' }));
    const doc = await waitFor(() => docs(russianTeacher)[0]);
    expect(doc.filename).toBe('progress-7Б-q1.xlsx');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(doc.data as unknown as ArrayBuffer);
    const subjects = wb.getWorksheet('Предметы')?.getSheetValues().flat().map(String) ?? [];
    expect(subjects).toContain('Русский язык');
    expect(subjects).not.toContain('Математика');
    await new Promise((r) => setTimeout(r, 100));
    expect(docs(russianTeacher)).toHaveLength(1);
  });

  it('a request left building by a stopped process is taken over by reports:resume, and the file arrives', async () => {
    const chatId = classTeacher.id;
    const progress = await t.app.bot.api.sendMessage(chatId, '⏳ Строю отчёт… 10%');
    const old = new Date(t.clock.now().getTime() - STALE_MS - 1000);
    await reportTasks(db()).create({
      _id: 'req:stopped',
      type: 'request',
      schoolId: String(f.schoolId),
      personId: String(f.classTeacherId),
      status: 'building',
      kind: 'summary-sheet',
      params: { scope: 'class', classId: String(f.class7.id) },
      format: 'xlsx',
      chatId,
      messageId: progress.message_id,
      locale: 'ru',
      attempts: 1,
      heartbeatAt: old,
      createdAt: old,
    });
    const before = docs(classTeacher).length;
    expect(await resumeStaleRequests(t.app.deps, t.app.bot.api)).toBe(1);
    expect(docs(classTeacher)).toHaveLength(before + 1);
    expect(docs(classTeacher).at(-1)?.filename).toBe('summary-sheet-7Б-year.xlsx');
    expect(await reportTasks(db()).countDocuments({ _id: 'req:stopped' })).toBe(0);
    expect(await resumeStaleRequests(t.app.deps, t.app.bot.api)).toBe(0);
  });

  it('the buttons name the kinds in the domain’s order', () => {
    expect(REPORT_KIND_CODES).toHaveLength(REPORT_KINDS.length);
  });
});
