import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { testMongoUri } from '../support/db.js';

/**
 * `npm run demo` as a person runs it (its own process, the local database, the fake Telegram), on
 * a fixed day so the calendar is known: Thursday 2026-12-03 is in the 2nd quarter (05.11–28.12),
 * whose 7-day period-mark window (R15) opens on Tuesday 22.12.
 */
describe('npm run demo', () => {
  it('plays the morning, then the end of the quarter: the suggested marks screen, one tap, the parent told (R15–R17)', async () => {
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', '--date', '2026-12-03', '--students', '60'], {
      env: { ...process.env, MONGODB_URI: testMongoUri('demo_script'), LOG_LEVEL: 'silent' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const ms = Date.now() - started;
    console.log(`[demo] npm run demo --students 60 in ${ms} ms`);
    // The morning is still there.
    expect(stdout).toContain('Демо: школьное утро 03.12.2026');
    expect(stdout).toContain('═══ Чаты — так, как их видят люди ═══');
    // The quarter's end, after it.
    const at = stdout.indexOf('═══ Конец четверти: 22.12.2026, окно выставления четвертных 22.12.2026 — 28.12.2026 ═══');
    expect(at).toBeGreaterThan(stdout.indexOf('Outbox: отправлено'));
    const quarter = stdout.slice(at);
    // The sheet before the tap: averages, marks, absences and a suggestion per student, and the one-tap button.
    const sheet = quarter.slice(quarter.indexOf('┌─ Экран учителя: ведомость с предложенными отметками'));
    expect(sheet).toContain('2-я четверть (05.11–28.12)');
    expect(sheet).toMatch(/1\. .+ — ср\. \d,\d\d · отм\. \d+ · проп\. \d+ → [2-5]\n/);
    expect(sheet).toMatch(/\[ ✅ Принять все предложенные \((\d+)\) \]/);
    // After the tap the teacher's chat says how many were accepted; the parent gets the period mark after the grace window.
    expect(quarter).toMatch(/Принято предложенных отметок: [1-9]\d*\./);
    const parent = quarter.slice(quarter.indexOf('(родитель:'));
    expect(parent).toMatch(/15:0[5-9] бот: 🔔 .+\n│ +🏁 2-я четверть: .+ — итоговая оценка [2-5]/);
    expect(quarter).toMatch(/родителям отправлено сообщений «🏁»: [1-9]/);
    // Issue 15: the Mini App's links on the local server, with test init data, for the teacher and the parent.
    const links = stdout.slice(stdout.indexOf('═══ Mini App на локальном сервере'));
    expect(links.match(/http:\/\/127\.0\.0\.1:\d+\/app\/#tgWebAppData=\S+hash%3D[0-9a-f]{64}\S*/g)).toHaveLength(2);
    expect(links).toContain('npm run demo -- --serve');
  }, 120_000);
});
