import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { systemActor } from '../../src/domain/school/actor.js';
import { updateSchoolSettings } from '../../src/domain/school/rules.js';
import { runMonthlyReports, runPeriodEndReports, runWeeklyReports } from '../../src/jobs/reports.js';
import { bind } from '../notify/world.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import { addSchoolYear, buildJournalSchool, type JournalFixture } from '../support/journal-fixtures.js';
import type { TestUser } from '../support/users.js';

/**
 * The automatic reports (issue 14; R25–R28). 7Б has three students: s0's mother reads the bot; s1's
 * mother reads the bot but chose paper (R25); s2's family never joined. On Friday afternoon the class
 * teacher gets the week's filling and attendance and one PDF with the letters of s1 and s2 only.
 * Turned off (settings.reports.weekly) nothing goes; run twice, it goes once.
 */
let t: TestApp;
let f: JournalFixture;
let classTeacher: TestUser;
let deputy: TestUser;
const db = (): Db => t.app.db;
const FRIDAY_16 = '2026-11-27T13:00:00Z'; // 16:00 in Moscow
const api = () => t.app.bot.api;

function pdfText(data: Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'r3-'));
  const file = join(dir, 'letters.pdf');
  writeFileSync(file, data);
  return execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
}

async function parentOf(student: Types.ObjectId, n: number, opts: { joined: boolean; paper?: boolean }) {
  const parent = await db().models.Person.create({ schoolId: f.schoolId, externalId: `p-${n}`, lastName: `Родитель${n}`, firstName: 'Мария', roles: ['parent'] });
  await db().models.Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId: student, relation: 'mother' });
  if (opts.joined) await bind(db(), parent._id, t.world.user({ languageCode: 'ru' }), new Date('2026-11-01T09:00:00Z'));
  if (opts.paper) await db().models.NotifyPreference.create({ schoolId: f.schoolId, personId: parent._id, studentId: student, paper: true });
}

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(db(), { students7: 3, students8: 1 });
  await addSchoolYear(db(), f);
  const [s0, s1] = f.class7.studentIds as [Types.ObjectId, Types.ObjectId];
  await parentOf(s0, 0, { joined: true });
  await parentOf(s1, 1, { joined: true, paper: true });
  classTeacher = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
  deputy = t.world.user({ firstName: 'Нина', languageCode: 'ru' });
  await bind(db(), f.classTeacherId, classTeacher, new Date('2026-11-01T09:00:00Z'));
  await bind(db(), f.deputyId, deputy, new Date('2026-11-01T09:00:00Z'));
});

afterAll(async () => {
  await t?.close();
});

describe('scheduled reports', () => {
  it('weekly, turned off by the admin: nothing is sent', async () => {
    await updateSchoolSettings(db(), systemActor(f.schoolId), { reports: { weekly: false } }, new Date());
    t.clock.set(FRIDAY_16);
    expect(await runWeeklyReports(t.app.deps, api())).toBe(0);
    expect(classTeacher.messages()).toHaveLength(0);
    const school = await db().models.School.findById(f.schoolId).lean();
    expect((school?.settings as { reports?: unknown } | undefined)?.reports).toEqual({ weekly: false, monthly: true, periodEnd: true });
    await updateSchoolSettings(db(), systemActor(f.schoolId), { reports: { weekly: true } }, new Date());
  });

  it('not on Thursday, nor on Friday morning', async () => {
    t.clock.set('2026-11-26T13:00:00Z');
    expect(await runWeeklyReports(t.app.deps, api())).toBe(0);
    t.clock.set('2026-11-27T07:00:00Z');
    expect(await runWeeklyReports(t.app.deps, api())).toBe(0);
  });

  it('weekly, Friday afternoon: the class teacher gets the figures and the letters of the paper families only; twice → once (R25)', async () => {
    t.clock.set(FRIDAY_16);
    expect(await runWeeklyReports(t.app.deps, api())).toBe(1);
    expect(await runWeeklyReports(t.app.deps, api())).toBe(0);
    const texts = classTeacher.messages().filter((m) => m.kind === 'text');
    expect(texts).toHaveLength(1);
    expect(texts[0]?.content).toContain('Итоги недели · 7Б');
    expect(texts[0]?.content).toContain('Письма для семей без интернета: 2');
    expect(texts[0]?.content).toMatch(/Проведено уроков: \d+/);
    const docs = classTeacher.sentDocuments();
    expect(docs).toHaveLength(1);
    expect(docs[0]?.filename).toMatch(/^weekly-letters-7Б-.*\.pdf$/);
    const text = pdfText(docs[0]?.data as Buffer);
    expect(text).toContain('Ученик02');
    expect(text).toContain('Ученик03');
    expect(text).not.toContain('Ученик01');
  });

  it('monthly to the deputy (filling and coverage as XLSX) and at a period end to the administration, once each', async () => {
    t.clock.set('2026-11-02T08:00:00Z'); // 11:00 in Moscow, 2 November; q1 ended on 26 October
    expect(await runMonthlyReports(t.app.deps, api())).toBe(1);
    expect(await runMonthlyReports(t.app.deps, api())).toBe(0);
    const names = deputy.sentDocuments().map((d) => d.filename);
    expect(names).toEqual(['filling-school-2026-10-01-2026-10-31.xlsx', 'coverage-school-2026-10-01-2026-10-31.xlsx']);
    // The deputy (and the admin, not bound: skipped) get the q1 figures.
    expect(await runPeriodEndReports(t.app.deps, api())).toBe(1);
    expect(await runPeriodEndReports(t.app.deps, api())).toBe(0);
    expect(deputy.sentDocuments().map((d) => d.filename).slice(2)).toEqual(['progress-school-q1.xlsx', 'attendance-school-q1.xlsx']);
    expect(deputy.messages().some((m) => m.content.includes('Итоги периода · 1-я четверть'))).toBe(true);
  });
});
