/**
 * The Mini App in a real headless Chromium (Debian's, driven by playwright-core; never downloaded)
 * against the REAL app: createTestApp's web server on a free port, the test database, init data signed
 * with the bot token as Telegram signs it (issue 15). Screenshots at 390×844 go to
 * test-results/screenshots/ to be looked at.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAttendance, saveAttendance, toggleAttendance } from '../../src/domain/journal/attendance.js';
import { setHomework } from '../../src/domain/journal/homework.js';
import { recordMark } from '../../src/domain/journal/marks.js';
import { createSubstitution } from '../../src/domain/journal/substitutions.js';
import { signInitData } from '../../src/web/init-data.js';
import { appUrl, chromiumPath, ensureWebapp, launchBrowser, phonePage, screenshot } from '../support/browser.js';
import { TEST_TOKEN, type TestApp, createTestApp } from '../support/harness.js';
import {
  type JournalFixture,
  actorFor,
  addSchoolYear,
  bindTelegram,
  buildJournalSchool,
  lessonOn,
} from '../support/journal-fixtures.js';
import { waitFor } from '../support/wait.js';

const TEACHER_TG = 7_001;
const PARENT_TG = 7_002;
const SUBSTITUTE_TG = 7_003;
const chromium = chromiumPath();

if (!chromium) console.warn('[browser tests] skipped: no chromium binary (apt-get install chromium, or set CHROMIUM_PATH)');

describe.skipIf(!chromium)('the Mini App in a real browser (issue 15)', () => {
  let t: TestApp;
  let f: JournalFixture;
  let browser: Browser;
  let base: string;
  let child: string;

  beforeAll(async () => {
    await ensureWebapp();
    t = await createTestApp({ web: true });
    base = t.app.web!.url;
    const db = t.app.db;
    f = await buildJournalSchool(db);
    await addSchoolYear(db, f);
    await bindTelegram(db, f.teacherId, TEACHER_TG);
    await bindTelegram(db, f.spareTeacherId, SUBSTITUTE_TG);
    child = String(f.class7.studentIds[0]);
    const parent = await db.models.Person.create({
      schoolId: f.schoolId,
      externalId: 'w2-parent',
      lastName: 'Родителева',
      firstName: 'Анна',
      roles: ['parent'],
      telegramId: PARENT_TG,
      boundAt: new Date('2026-09-01T00:00:00Z'),
      consent: { acceptedAt: new Date('2026-09-01T00:00:00Z'), version: 1 },
    });
    await db.models.Guardianship.create({ schoolId: f.schoolId, parentId: parent._id, studentId: child, relation: 'mother' });
    // The child's marks in two subjects, each entered on its lesson's day (R13–R14: deadlines, the lock) (math by Учителева, Russian by Другова) for the chart.
    const teacher = await actorFor(db, f.teacherId);
    const russian = await actorFor(db, f.otherTeacherId);
    for (const [date, value] of [['2026-11-10', 4], ['2026-11-13', 5], ['2026-11-17', 3]] as const) {
      const lessonId = String(await lessonOn(db, f, f.mathSlot7, date));
      await recordMark(db, teacher, { lessonId, studentId: child, value, workKind: 'classwork' }, new Date(`${date}T12:00:00Z`));
    }
    for (const [date, value] of [['2026-11-11', 3], ['2026-11-18', 4]] as const) {
      const lessonId = String(await lessonOn(db, f, f.russianSlot7, date));
      await recordMark(db, russian, { lessonId, studentId: child, value, workKind: 'classwork' }, new Date(`${date}T12:00:00Z`));
    }
    // An absence (Н, as a teacher marks it) on 19 Nov and homework for this week, for the calendar and the homework list.
    const absentOn = String(await lessonOn(db, f, f.mathSlot7, '2026-11-19'));
    const at = new Date('2026-11-19T09:00:00Z');
    const sheet = await openAttendance(db, teacher, absentOn, at);
    const idx = sheet.students.find((s) => s.id === child)?.idx ?? -1;
    await toggleAttendance(db, teacher, absentOn, sheet.version, idx, at);
    await saveAttendance(db, teacher, absentOn, sheet.version, at);
    const hwLesson = String(await lessonOn(db, f, f.mathSlot7, '2026-11-23'));
    await setHomework(db, teacher, hwLesson, { text: '№ 245, 247; повторить формулы сокращённого умножения' }, new Date('2026-11-23T08:00:00Z'));
    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('a teacher opens the grid, enters a mark, sees it in the cell, and the parent’s notice is queued', { timeout: 90_000 }, async () => {
    const page = await phonePage(browser);
    // A mid-range phone: the CPU 4× slower than this machine's (Chrome DevTools' own preset).
    const url = appUrl(base, signInitData(TEST_TOKEN, { id: TEACHER_TG, first_name: 'Учителева', language_code: 'ru' }));
    // Once unthrottled first: the server's first requests (JIT, the quarter's lessons made) and the
    // download of the hashed assets are out of the figure, as for a teacher opening it a second time.
    await page.goto(url);
    await page.waitForSelector('table.grid tbody tr');
    await page.goto('about:blank');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await page.goto(url);
    // The grid's first paint: from navigation start to the first row in the page, stamped in the page
    // by a check on every animation frame (not after Playwright's own round trip). Issue 15's budget: 1 s.
    await page.waitForFunction(
      () => {
        // In the page (the test's own tsconfig has no DOM types).
        const g = globalThis as unknown as { document: { querySelector(s: string): unknown }; __gridAt?: number };
        if (g.document.querySelector('table.grid tbody tr')) g.__gridAt ??= performance.now();
        return g.__gridAt !== undefined;
      },
      undefined,
      { polling: 'raf' },
    );
    expect(await page.locator('table.grid tbody tr').count()).toBe(30);
    const timing = await page.evaluate(() => {
      const perf = performance as unknown as { getEntriesByType(type: string): Array<{ name: string; responseEnd: number }> };
      const at = (part: string) => Math.round(perf.getEntriesByType('resource').find((e) => e.name.includes(part))?.responseEnd ?? -1);
      return {
        paint: Math.round((globalThis as unknown as { __gridAt: number }).__gridAt),
        html: Math.round(perf.getEntriesByType('navigation')[0]?.responseEnd ?? -1),
        me: at('/app/api/me'),
        grid: at('/app/api/grid'),
      };
    });
    const paintMs = timing.paint;
    console.log(
      `[browser] the grid of 30 students drawn ${paintMs} ms after navigation (CPU ×4, warm server, assets cached); html ${timing.html} ms, /me answered ${timing.me} ms, /grid answered ${timing.grid} ms`,
    );
    // A loose bound (the machine running the tests is shared and loaded); the figure is in the log.
    expect(paintMs).toBeLessThan(10_000);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    await screenshot(page, 'teacher-grid');

    // The last lesson of the grid (the most recent one) for the first student, whose parent is connected.
    const lessonId = await page.locator('th.lesson-col').last().getAttribute('data-lesson');
    expect(lessonId).toBeTruthy();
    const cell = page.locator(`td.cell button[data-student="${child}"][data-lesson="${lessonId}"]`);
    await cell.click();
    await page.waitForSelector('[data-testid=mark-sheet]');
    await page.click('[data-testid=mark-sheet] button[data-value="4"]');
    await page.selectOption('[data-testid=mark-sheet] select[name=workKind]', 'control');
    await page.fill('[data-testid=mark-sheet] input[name=comment]', 'Контрольная по дробям');
    await screenshot(page, 'teacher-mark-sheet');
    await page.click('[data-testid=mark-sheet] [data-action=save]');

    // The cell shows the mark once the server has said ok (the sheet closes then).
    await page.waitForSelector('[data-testid=mark-sheet]', { state: 'detached' });
    await expect.poll(() => cell.textContent()).toContain('4');
    await screenshot(page, 'teacher-grid-saved');

    const mark = await t.app.db.models.Mark.findOne({ lessonId, studentId: child }).lean();
    expect(mark).toMatchObject({ value: 4, workKind: 'control', comment: 'Контрольная по дробям' });
    const notice = await waitFor(async () => (await t.app.db.models.OutboxMessage.findOne({ chatId: PARENT_TG, kind: 'mark' }).lean()) ?? undefined);
    expect(notice).toBeTruthy();
    expect(page.errors).toEqual([]);
  });

  it('a parent sees the child’s marks as a chart with one line per subject, the calendar and the homework', { timeout: 90_000 }, async () => {
    const page = await phonePage(browser);
    // The phone's calendar on the app's test day (the month the calendar opens on).
    await page.clock.setFixedTime(t.clock.now());
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: PARENT_TG, first_name: 'Анна', language_code: 'ru' })));
    const chart = page.locator('[data-testid=marks-chart]');
    await chart.locator('canvas').waitFor({ timeout: 15_000 }).catch(async (err: unknown) => {
      await screenshot(page, 'family-chart-missing');
      throw new Error(`no chart: ${await page.locator('body').innerText()}`, { cause: err });
    });
    expect(await chart.getAttribute('data-series')).toBe('2');
    expect(await page.locator('.chips .chip').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining('Математика'), expect.stringContaining('Русский язык')]),
    );
    await screenshot(page, 'family-chart');
    await page.getByRole('tab', { name: 'Пропуски' }).click();
    await page.waitForSelector('[data-testid=attendance] .cal-grid');
    expect(await page.locator('.cal-day[data-date="2026-11-19"]').getAttribute('data-code')).toBe('Н');
    await page.click('.cal-day[data-date="2026-11-19"]');
    expect(await page.locator('.cal-detail').innerText()).toContain('Математика');
    await screenshot(page, 'family-attendance');
    await page.getByRole('tab', { name: 'Задания' }).click();
    await page.waitForSelector('[data-testid=homework] .month-nav');
    expect(await page.locator('[data-testid=homework]').innerText()).toContain('формулы сокращённого умножения');
    await screenshot(page, 'family-homework');
    expect(page.errors).toEqual([]);
  });

  it('a refused mark shows the server’s message (R13 deadline); a mark is changed and deleted from the sheet', { timeout: 90_000 }, async () => {
    const db = t.app.db;
    const student = String(f.class7.studentIds[2]);
    // Friday's lesson on Monday: class work is past its 1-day deadline, a written test (5 days) is not.
    const lessonId = String(await lessonOn(db, f, f.mathSlot7, '2026-11-20'));
    const page = await phonePage(browser);
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: TEACHER_TG, first_name: 'Учителева', language_code: 'ru' })));
    const cell = page.locator(`td.cell button[data-student="${student}"][data-lesson="${lessonId}"]`);
    await cell.click();
    const sheet = page.locator('[data-testid=mark-sheet]');
    await sheet.locator('button[data-value="3"]').click();
    await sheet.locator('[data-action=save]').click();
    await expect.poll(() => sheet.locator('.notice-error').textContent()).toContain('Срок выставления');
    await screenshot(page, 'teacher-mark-refused');
    expect(await cell.textContent()).toBe('');
    expect(await db.models.Mark.countDocuments({ lessonId, studentId: student })).toBe(0);

    await sheet.locator('select[name=workKind]').selectOption('control');
    await sheet.locator('[data-action=save]').click();
    await sheet.waitFor({ state: 'detached' });
    await expect.poll(() => cell.textContent()).toContain('3');

    await cell.click();
    await sheet.locator('[data-action=edit]').click();
    await sheet.locator('button[data-value="5"]').click();
    await screenshot(page, 'teacher-mark-edit');
    await sheet.locator('[data-action=save]').click();
    await sheet.waitFor({ state: 'detached' });
    await expect.poll(() => cell.textContent()).toContain('5');
    expect(await db.models.Mark.findOne({ lessonId, studentId: student }).lean()).toMatchObject({ value: 5 });

    await cell.click();
    await sheet.locator('[data-action=delete]').click();
    expect(await sheet.locator('[data-action=delete]').textContent()).toContain('Точно удалить?');
    await sheet.locator('[data-action=delete]').click();
    await sheet.waitFor({ state: 'detached' });
    await expect.poll(() => cell.textContent()).toBe('');
    expect(await db.models.Mark.countDocuments({ lessonId, studentId: student, deletedAt: null })).toBe(0);
    // The refusal's 409 is the only thing the console reports.
    expect(page.errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
  });

  it('inside Telegram, Save is the main button and Back closes the sheet (through the bridge); the theme applies', { timeout: 90_000 }, async () => {
    const page = await phonePage(browser);
    // A Telegram client on a phone: window.TelegramWebviewProxy takes the app's events; the client's own
    // events come back through window.Telegram.WebView.receiveEvent (what @telegram-apps/bridge listens to).
    await page.addInitScript(() => {
      const w = globalThis as unknown as { posted: Array<[string, unknown]>; TelegramWebviewProxy: unknown };
      w.posted = [];
      w.TelegramWebviewProxy = { postEvent: (type: string, data: string) => w.posted.push([type, data ? JSON.parse(data) : null]) };
    });
    const theme = JSON.stringify({ bg_color: '#17212b', text_color: '#f5f5f5', secondary_bg_color: '#232e3c', hint_color: '#708499', button_color: '#5288c1', button_text_color: '#ffffff' });
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: TEACHER_TG, first_name: 'Учителева', language_code: 'ru' }), { tgWebAppPlatform: 'android', tgWebAppThemeParams: theme }));
    await page.waitForSelector('table.grid tbody tr');
    // The theme's colours reach the page through the CSS variables.
    expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(23, 33, 43)');
    const student = String(f.class7.studentIds[1]);
    const lessonId = await page.locator('th.lesson-col').last().getAttribute('data-lesson');
    const cell = page.locator(`td.cell button[data-student="${student}"][data-lesson="${lessonId}"]`);
    // Telegram's back button closes the sheet.
    await cell.click();
    await page.waitForSelector('[data-testid=mark-sheet]');
    const backs = () =>
      page.evaluate(() =>
        (globalThis as unknown as { posted: Array<[string, { is_visible?: boolean }]> }).posted.filter(([type]) => type === 'web_app_setup_back_button'),
      );
    await expect.poll(async () => (await backs()).at(-1)?.[1]).toMatchObject({ is_visible: true });
    await page.evaluate(() =>
      (globalThis as unknown as { Telegram: { WebView: { receiveEvent: (type: string, data: unknown) => void } } }).Telegram.WebView.receiveEvent('back_button_pressed', null),
    );
    await page.waitForSelector('[data-testid=mark-sheet]', { state: 'detached' });
    await expect.poll(async () => (await backs()).at(-1)?.[1]).toMatchObject({ is_visible: false });
    await cell.click();
    await page.click('[data-testid=mark-sheet] button[data-value="5"]');
    // No page button inside Telegram: the main button is set up instead.
    expect(await page.locator('[data-testid=mark-sheet] [data-action=save]').count()).toBe(0);
    const setups = () =>
      page.evaluate(() =>
        (globalThis as unknown as { posted: Array<[string, { is_visible?: boolean; text?: string }]> }).posted.filter(([type]) => type === 'web_app_setup_main_button'),
      );
    await expect.poll(async () => (await setups()).at(-1)?.[1]).toMatchObject({ is_visible: true, text: 'Сохранить оценку' });
    await screenshot(page, 'telegram-dark-sheet');
    await page.evaluate(() =>
      (globalThis as unknown as { Telegram: { WebView: { receiveEvent: (type: string, data: unknown) => void } } }).Telegram.WebView.receiveEvent('main_button_pressed', null),
    );
    await page.waitForSelector('[data-testid=mark-sheet]', { state: 'detached' });
    await expect.poll(() => cell.textContent()).toContain('5');
    expect(await t.app.db.models.Mark.countDocuments({ lessonId, studentId: student, value: 5 })).toBe(1);
    // The sheet closed: the main button is hidden again.
    await expect.poll(async () => (await setups()).at(-1)?.[1]).toMatchObject({ is_visible: false });
    const posted = await page.evaluate(() => (globalThis as unknown as { posted: Array<[string]> }).posted.map(([type]) => type));
    expect(posted).toContain('web_app_ready');
    expect(page.errors).toEqual([]);
  });

  it('in English: the grid’s words and dates, and the period switch shows the first quarter’s lessons (the switch stays while it loads)', { timeout: 90_000 }, async () => {
    const page = await phonePage(browser);
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: TEACHER_TG, first_name: 'Anna', language_code: 'en' })));
    await page.waitForSelector('table.grid tbody tr');
    const head = await page.locator('table.grid thead').innerText();
    for (const word of ['Student', 'Avg', 'Calc', 'Final']) expect(head).toContain(word);
    expect(await page.locator('label.field .field-label').allTextContents()).toContain('Period');
    const select = page.locator('select[name=period]');
    const options = await select.locator('option').allInnerTexts();
    expect(options.length).toBeGreaterThan(1);
    expect(options).toEqual(['Quarter 1', 'Quarter 2']); // in English, capitalized for a list
    const dates = () => page.locator('table.grid thead th.lesson-col').allInnerTexts();
    const q2 = await dates();
    expect(q2.join(' ')).toMatch(/Nov/); // dates in English too
    await screenshot(page, 'teacher-grid-en');
    // The first quarter: other lessons (September–October), nothing of November.
    await select.selectOption('q1');
    // While it loads, the switch stays (no jump of the toolbar).
    expect(await page.locator('select[name=period]').count()).toBe(1);
    await expect.poll(async () => (await dates()).join(' '), { timeout: 20_000 }).toMatch(/Sep/);
    const q1 = (await dates()).join(' ');
    expect(await page.locator('.grid-screen .muted').first().innerText()).toContain('Quarter 1');
    expect(q1).toMatch(/Oct/);
    expect(q1).not.toMatch(/Nov/);
    await screenshot(page, 'teacher-grid-en-q1');
    expect(page.errors).toEqual([]);
  });

  it('a substitute for one lesson (R7) sees that lesson’s column only, without the period’s figures, and marks in it', { timeout: 90_000 }, async () => {
    const deputy = await actorFor(t.app.db, f.deputyId);
    await createSubstitution(t.app.db, deputy, { slotId: String(f.mathSlot8[0]), date: '2026-11-23', substituteId: String(f.spareTeacherId) }, t.clock.now());
    const page = await phonePage(browser);
    await page.goto(appUrl(base, signInitData(TEST_TOKEN, { id: SUBSTITUTE_TG, first_name: 'Ирина', language_code: 'ru' })));
    await page.waitForSelector('table.grid tbody tr');
    expect(await page.locator('select[name=teaching] option').allInnerTexts()).toEqual(['8А · Математика']);
    expect(await page.locator('table.grid thead th.lesson-col').count()).toBe(1);
    expect(await page.locator('table.grid .period-col').count()).toBe(0);
    expect(await page.locator('table.grid tbody tr').count()).toBe(40);
    await screenshot(page, 'substitute-grid');
    await page.locator('table.grid tbody tr').first().locator('td.cell button').click();
    await page.waitForSelector('[data-testid=mark-sheet]');
    await page.click('[data-testid=mark-sheet] button[data-value="5"]');
    await page.click('[data-testid=mark-sheet] [data-action=save]');
    await page.waitForSelector('[data-testid=mark-sheet]', { state: 'detached' });
    await expect.poll(() => page.locator('table.grid tbody tr').first().locator('td.cell').textContent()).toContain('5');
    expect(await t.app.db.models.Mark.countDocuments({ teacherId: f.spareTeacherId, value: 5 })).toBe(1);
    expect(page.errors).toEqual([]);
  });

  it('forged init data gets the error screen and no data', async () => {
    const page = await phonePage(browser);
    const statuses: number[] = [];
    page.on('response', (res) => {
      if (res.url().includes('/app/api/')) statuses.push(res.status());
    });
    const forged = signInitData('123456:not-the-bot-token', { id: TEACHER_TG, first_name: 'Учителева' });
    await page.goto(appUrl(base, forged));
    await page.waitForSelector('[data-screen=error]');
    expect(statuses).toEqual([401]);
    expect(await page.locator('.error-message').textContent()).toBeTruthy();
    expect(await page.locator('table.grid').count()).toBe(0);
    expect(await page.content()).not.toContain('Ученик01');
    await screenshot(page, 'error-forged');
  });
});
