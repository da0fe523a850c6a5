import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { addSchoolYear, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';
import { bind } from '../../notify/world.js';

/** /calendar (R5, R15): the admin reads and changes the school year in the bot; others may not change it. */
let t: TestApp;
let f: JournalFixture;
let admin: TestUser;
let teacher: TestUser;
const db = (): Db => t.app.db;

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(db(), { students7: 2, students8: 2 });
  await addSchoolYear(db(), f, { holidays: [{ name: 'Осенние каникулы', startsOn: '2026-10-27', endsOn: '2026-11-04' }] });
  const boundAt = new Date('2026-11-01T09:00:00Z');
  admin = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
  teacher = t.world.user({ firstName: 'Анна', languageCode: 'ru' });
  await bind(db(), f.adminId, admin, boundAt);
  await bind(db(), f.teacherId, teacher, boundAt);
});

afterAll(async () => {
  await t?.close();
});

describe('/calendar', () => {
  it('shows the year, its periods with their mark windows and the holidays', async () => {
    await admin.send('/calendar');
    const text = admin.lastText() ?? '';
    expect(text).toContain('Учебный год 2026/2027: 01.09.2026 — 31.05.2027');
    expect(text).toContain('2-я четверть (q2) 05.11.2026 — 28.12.2026');
    expect(text).toContain('окно отметок: 22.12.2026 — 28.12.2026');
    expect(text).toContain('Осенние каникулы: 27.10.2026 — 04.11.2026');
  });

  it('the admin adds halves for grades 10–11 with one line; an overlap or a bad line is refused and changes nothing', async () => {
    // Quarters are for every grade until the admin limits them: halves for 10–11 would overlap them.
    await admin.send('/calendar h1 01.09.2026 28.12.2026 10,11');
    expect(admin.lastText()).toContain('Периоды h1 и q1 пересекаются для 10 класса');
    await admin.send('/calendar q1 01.09.2026 26.10.2026 1-9');
    await admin.send('/calendar q2 05.11.2026 28.12.2026 1-9');
    await admin.send('/calendar h1 01.09.2026 28.12.2026 10,11');
    expect(admin.lastText()).toContain('Календарь изменён');
    expect(admin.lastText()).toContain('1-е полугодие (h1) 01.09.2026 — 28.12.2026 (классы 10,11)');
    const before = await db().models.AcademicYear.findOne({ schoolId: f.schoolId }).lean();
    await admin.send('/calendar h2 01.12.2026 31.05.2027 10-11');
    expect(admin.lastText()).toContain('Периоды h1 и h2 пересекаются для 10 класса');
    await admin.send('/calendar q2 35.11.2026 28.12.2026');
    expect(admin.lastText()).toContain('Не понял строку');
    const after = await db().models.AcademicYear.findOne({ schoolId: f.schoolId }).lean();
    expect(after?.periods).toEqual(before?.periods);
    expect(await db().models.AuditEntry.countDocuments({ action: 'year.calendar' })).toBe(3);
  });

  it('the admin opens the quarter window now for the whole school with a button', async () => {
    await admin.send('/calendar');
    await admin.press('q2: Открыть окно');
    expect(admin.lastText()).toContain('✏️ окно отметок открыто: 23.11.2026 — 28.12.2026');
  });

  it('a teacher can neither read nor change it, and a forged window button is refused', async () => {
    await teacher.send('/calendar q2 01.11.2026 28.12.2026');
    expect(teacher.lastText()).not.toContain('Календарь изменён');
    const audit = await db().models.AuditEntry.countDocuments({});
    await teacher.pressData('calw:q2:close');
    expect(await db().models.AuditEntry.countDocuments({})).toBe(audit);
  });
});
