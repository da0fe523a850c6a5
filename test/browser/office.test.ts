/**
 * The office's screens of the Mini App (issue 15) in a real headless Chromium against the real app:
 * the deputy's report figures with a chart, the admin saving a school rule, the deputy setting a
 * substitution (and seeing it listed), the secretary transferring a student. Screenshots at 390×844 go
 * to test-results/screenshots/office-*.png to be looked at.
 */
import type { Types } from 'mongoose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInitData } from '../../src/web/init-data.js';
import { appUrl, chromiumPath, ensureWebapp, launchBrowser, phonePage, screenshot } from '../support/browser.js';
import { TEST_TOKEN, type TestApp, createTestApp } from '../support/harness.js';
import { type JournalFixture, addSchoolYear, bindTelegram, buildJournalSchool, lessonOn } from '../support/journal-fixtures.js';
import { waitFor } from '../support/wait.js';

const ADMIN_TG = 7_101;
const DEPUTY_TG = 7_102;
const SECRETARY_TG = 7_103;
const CLASS_TEACHER_TG = 7_104;
const chromium = chromiumPath();

describe.skipIf(!chromium)('the office in the Mini App (issue 15)', () => {
  let t: TestApp;
  let f: JournalFixture;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    await ensureWebapp();
    t = await createTestApp({ web: true });
    base = t.app.web!.url;
    const db = t.app.db;
    f = await buildJournalSchool(db, { students7: 12, students8: 10 });
    const yearId = await addSchoolYear(db, f);
    const sec = await db.models.Person.create({ schoolId: f.schoolId, externalId: 'sec', lastName: 'Секретарёва', firstName: 'Ольга', roles: ['secretary'] });
    for (const [id, tg] of [
      [f.adminId, ADMIN_TG],
      [f.deputyId, DEPUTY_TG],
      [sec._id, SECRETARY_TG],
      [f.classTeacherId, CLASS_TEACHER_TG],
    ] as Array<[Types.ObjectId, number]>) {
      await bindTelegram(db, id, tg);
    }
    // q2's period marks (as teachers set them in the window) for the report's figures.
    const values = ['5', '4', '4', '3', '5', '2', '4', '3'];
    const marks = [
      ...f.class7.studentIds.flatMap((s, i) => [
        { studentId: s, subjectId: f.mathId, value: values[i % values.length] },
        { studentId: s, subjectId: f.russianId, value: values[(i + 3) % values.length] },
      ]),
      ...f.class8.studentIds.map((s, i) => ({ studentId: s, subjectId: f.mathId, value: values[(i + 1) % values.length] })),
    ];
    await db.models.PeriodMark.insertMany(marks.map((m) => ({ ...m, schoolId: f.schoolId, yearId, periodCode: 'q2' })));
    // Two weeks of lessons in 7Б and 8А, most with attendance and a topic, some students absent: the filling and missed lessons.
    const days = ['2026-11-10', '2026-11-11', '2026-11-12', '2026-11-13', '2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];
    for (const [i, date] of days.entries()) {
      for (const [slots, students] of [
        [f.mathSlot7, f.class7.studentIds],
        [f.russianSlot7, f.class7.studentIds],
        [f.mathSlot8, f.class8.studentIds],
      ] as const) {
        const lessonId = await lessonOn(db, f, slots, date);
        const filled = i % 4 !== 3;
        await db.models.Lesson.updateOne({ _id: lessonId }, { $set: filled ? { attendanceTakenAt: new Date(`${date}T09:00:00Z`), topic: `Тема ${i + 1}` } : {} });
        if (filled && i % 2 === 0) {
          const lesson = await db.models.Lesson.findById(lessonId).lean();
          await db.models.Absence.create({ schoolId: f.schoolId, lessonId, studentId: students[i % students.length], classId: lesson?.classId, date, code: 'Н' });
        }
      }
    }
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function open(tg: number, name: string): Promise<Page & { errors: string[] }> {
    const page = await phonePage(browser);
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: tg, first_name: name, language_code: 'ru' })));
    // With another face too (a teacher's grid) the office is a tab; alone, it is the screen.
    await page.waitForSelector('main[data-screen], [role="tab"]');
    const tab = page.getByRole('tab', { name: 'Школа' });
    if ((await tab.count()) > 0) await tab.click();
    await page.waitForSelector('main[data-screen="office"]');
    return page;
  }

  it('the deputy sees the school’s figures as a chart and a table, and a class’s', { timeout: 90_000 }, async () => {
    const page = await open(DEPUTY_TG, 'Завучева');
    await page.waitForSelector('[data-testid="report"] [data-testid="bars-chart"] canvas');
    expect(await page.getAttribute('[data-testid="bars-chart"]', 'data-bars')).toBe('2');
    expect(await page.locator('.office-table tbody th').allTextContents()).toEqual(expect.arrayContaining(['7Б', '8А']));
    expect(await page.locator('.kpi strong').first().textContent()).toMatch(/%/);
    await screenshot(page, 'office-reports-school');
    // Missed lessons and the journal's filling, below the chart.
    expect(await page.locator('[data-testid="filling"] .meter').count()).toBe(4);
    await page.locator('[data-testid="filling"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'office-reports-filling');
    await page.selectOption('select[name="scope"]', { label: '7Б' });
    await page.waitForSelector('[data-testid="report"][data-title="7Б"]');
    expect(await page.locator('.office-table tbody th').first().textContent()).toBeTruthy();
    await screenshot(page, 'office-reports-class');
    expect(page.errors).toEqual([]);
  });

  it('in Telegram’s dark theme the figures and the chart stay readable', { timeout: 60_000 }, async () => {
    const page = await phonePage(browser);
    const theme = JSON.stringify({ bg_color: '#17212b', text_color: '#f5f5f5', secondary_bg_color: '#232e3c', hint_color: '#708499', button_color: '#5288c1', button_text_color: '#ffffff' });
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: DEPUTY_TG, first_name: 'Завучева', language_code: 'ru' }), { tgWebAppPlatform: 'android', tgWebAppThemeParams: theme }));
    await page.waitForSelector('[data-testid="report"] [data-testid="bars-chart"] canvas');
    const colour = await page.evaluate("getComputedStyle(document.querySelector('.kpi strong')).color");
    expect(colour).toBe('rgb(245, 245, 245)');
    await screenshot(page, 'office-reports-dark');
  });

  it('a class teacher sees only their class’s figures and no office sections', { timeout: 60_000 }, async () => {
    const page = await open(CLASS_TEACHER_TG, 'Классова');
    await page.waitForSelector('[data-testid="report"][data-title="7Б"]');
    expect(await page.locator('.office-nav').count()).toBe(0);
    expect(await page.locator('select[name="scope"]').count()).toBe(0);
  });

  it('the admin changes a school rule and it is saved', { timeout: 60_000 }, async () => {
    const page = await open(ADMIN_TG, 'Админова');
    await page.locator('[data-section="settings"]').click();
    await page.waitForSelector('[data-testid="office-settings"] input[name="lockAfterDays"]');
    await page.fill('input[name="lockAfterDays"]', '10');
    await page.fill('input[name="writtenWorkDueDays"]', '4');
    const answered = page.waitForResponse((r) => r.url().endsWith('/app/api/office/settings'));
    await page.locator('[data-testid="office-settings"] [data-action="save"]').click();
    await page.getByText('Правила сохранены.').waitFor();
    await answered;
    // The confirmation stays once the screen has the new rules, and there is nothing left to save.
    await page.waitForTimeout(500);
    expect(await page.getByText('Правила сохранены.').isVisible()).toBe(true);
    expect(await page.locator('[data-testid="office-settings"] [data-action="save"]').isDisabled()).toBe(true);
    expect(await page.inputValue('input[name="lockAfterDays"]')).toBe('10');
    const school = await t.app.db.models.School.findById(f.schoolId).lean();
    expect(school?.settings?.lockAfterDays).toBe(10);
    expect(school?.settings?.writtenWorkDueDays).toBe(4);
    expect(await t.app.db.models.AuditEntry.countDocuments({ schoolId: f.schoolId, action: 'school.settings' })).toBe(1);
    await screenshot(page, 'office-settings-saved');
    // The kinds of work: the control work's weight 2 → 3.
    await page.fill('input[name="weight-control"]', '3');
    await page.locator('[data-action="save-kinds"]').click();
    await page.getByText('Виды работ сохранены.').waitFor();
    const kinds = (await t.app.db.models.School.findById(f.schoolId).lean())?.settings?.workKinds ?? [];
    expect(kinds.find((k) => k.code === 'control')?.weight).toBe(3);
    await page.locator('[data-testid="office-kinds"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'office-kinds-saved');
    await page.locator('[data-section="calendar"]').click();
    await page.waitForSelector('[data-testid="office-calendar"] [data-period="q2"]');
    await screenshot(page, 'office-calendar');
  });

  it('the deputy sets a substitution and sees it listed', { timeout: 60_000 }, async () => {
    const page = await open(DEPUTY_TG, 'Завучева');
    await page.locator('[data-section="subs"]').click();
    await page.waitForSelector('select[name="slot"]');
    const slot = await page.locator('select[name="slot"] option', { hasText: '7Б · Математика' }).getAttribute('value');
    await page.selectOption('select[name="slot"]', slot!);
    await page.selectOption('select[name="substitute"]', { label: 'Запасова Ирина Ивановна' });
    await page.fill('input[name="reason"]', 'курсы');
    await page.locator('[data-action="create-sub"]').click();
    await page.getByText('Замена назначена.').waitFor();
    await page.locator('[data-sub] .sub-name', { hasText: 'Запасова Ирина Ивановна' }).waitFor();
    const sub = await t.app.db.models.Substitution.findOne({ schoolId: f.schoolId }).lean();
    expect(String(sub?.substituteId)).toBe(String(f.spareTeacherId));
    expect(sub?.reason).toBe('курсы');
    await screenshot(page, 'office-substitution');
    // A substitute's access to 8А's math for some days (R7), listed and revocable.
    await page.selectOption('select[name="grantTeacher"]', { label: 'Запасова Ирина Ивановна' });
    await page.selectOption('select[name="grantClass"]', { label: '8А' });
    await page.selectOption('select[name="grantSubject"]', { label: 'Математика' });
    await page.locator('[data-action="grant"]').click();
    await page.locator('[data-grant]', { hasText: '8А · Математика' }).waitFor();
    const grant = await t.app.db.models.AccessGrant.findOne({ schoolId: f.schoolId }).lean();
    expect([String(grant?.classId), String(grant?.subjectId)]).toEqual([String(f.class8.id), String(f.mathId)]);
    await page.locator('[data-testid="office-grants"]').scrollIntoViewIfNeeded();
    await screenshot(page, 'office-grant');
  });

  it('the secretary transfers a student to another class', { timeout: 60_000 }, async () => {
    const page = await open(SECRETARY_TG, 'Секретарёва');
    // The secretary has no figures: the office opens on the students.
    await page.waitForSelector('[data-testid="office-students"] [data-student]');
    expect(await page.locator('.office-nav [data-section]').evaluateAll((els) => els.map((e) => e.getAttribute('data-section')))).toEqual(['students', 'calendar', 'settings']);
    const student = String(f.class7.studentIds[0]);
    await page.locator(`[data-student="${student}"]`).click();
    await page.waitForSelector('[data-testid="move-form"]');
    await page.selectOption('select[name="toClass"]', { label: '8А' });
    await screenshot(page, 'office-move-form');
    await page.locator('[data-action="move"]').click();
    await page.getByText(/переведён\(а\) из 7Б в 8А/).waitFor();
    await waitFor(async () => String((await t.app.db.models.Person.findById(student).lean())?.student?.classId) === String(f.class8.id));
    // The class list is read again: the student has left 7Б.
    await page.locator(`[data-student="${student}"]`).waitFor({ state: 'detached' });
    await screenshot(page, 'office-moved');
    await page.selectOption('select[name="class"]', { label: '8А' });
    await page.locator(`[data-student="${student}"]`).waitFor();
    expect(page.errors).toEqual([]);
  });
});
