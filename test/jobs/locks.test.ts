import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { JOBS } from '../../src/jobs/index.js';
import { runAttendanceReminders, runEndOfDay, runLockLessons } from '../../src/jobs/journal.js';
import { createTestApp, type TestApp } from '../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../support/journal-fixtures.js';

/**
 * The journal's jobs with the clock under the test's control (the job reads deps.now()).
 * R14: the lock job locks exactly the lessons older than each school's limit, in its time zone.
 * R19: one attendance reminder per lesson after it ends; one end-of-day list per teacher.
 */
let t: TestApp;
let a: JournalFixture;
let b: JournalFixture;
const db = (): Db => t.app.db;

/** The outbox has nothing left to send (staff reminders go through it, like every notification). */
const delivered = () =>
  waitFor(async () => (await db().models.OutboxMessage.countDocuments({ status: { $in: ['pending', 'claimed', 'sending'] } })) === 0, 'the outbox to be delivered');

async function waitFor(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  t = await createTestApp({ jobs: true, env: { JOBS_PROCESS_EVERY_MS: '100' } });
  a = await buildJournalSchool(t.app.db, { students7: 5, students8: 5 });
  // A second school far east with a shorter lock (3 days): its "today" is a day ahead at times.
  b = await buildJournalSchool(t.app.db, { students7: 5, students8: 5, tag: 'b', timezone: 'Asia/Vladivostok', settings: { lockAfterDays: 3 } });
});

afterAll(async () => {
  await t?.close();
});

describe('the lock job (R14)', () => {
  it('locks exactly the lessons older than each school’s limit, counted in the school’s time zone', async () => {
    const lessonsA = {
      '2026-11-14': await lessonOn(db(), a, a.mathSlot7, '2026-11-14'),
      '2026-11-16': await lessonOn(db(), a, a.mathSlot7, '2026-11-16'),
      '2026-11-17': await lessonOn(db(), a, a.mathSlot7, '2026-11-17'),
      '2026-11-23': await lessonOn(db(), a, a.mathSlot7, '2026-11-23'),
    };
    const lessonsB = {
      '2026-11-20': await lessonOn(db(), b, b.mathSlot7, '2026-11-20'),
      '2026-11-21': await lessonOn(db(), b, b.mathSlot7, '2026-11-21'),
      '2026-11-23': await lessonOn(db(), b, b.mathSlot7, '2026-11-23'),
    };
    // 15:30 UTC: Monday 23.11 18:30 in Moscow, but already Tuesday 24.11 01:30 in Vladivostok.
    const at = new Date('2026-11-23T15:30:00Z');
    t.clock.set(at);
    await t.app.agenda.now(JOBS.lockLessons, {});
    await waitFor(
      async () => Boolean((await db().models.Lesson.findById(lessonsB['2026-11-21']).lean())?.lockedAt),
      'the lock job',
    );
    const locked = async (ids: Record<string, unknown>) => {
      const out: string[] = [];
      for (const [date, id] of Object.entries(ids)) {
        if ((await db().models.Lesson.findById(id).lean())?.lockedAt) out.push(date);
      }
      return out;
    };
    // Moscow: 7 days → on/before 16.11. Vladivostok: 3 days from 24.11 → on/before 21.11.
    expect(await locked(lessonsA)).toEqual(['2026-11-14', '2026-11-16']);
    expect(await locked(lessonsB)).toEqual(['2026-11-20', '2026-11-21']);

    // Idempotent: another run a day later keeps the first lockedAt and locks only what became old.
    const first = (await db().models.Lesson.findById(lessonsA['2026-11-16']).lean())?.lockedAt;
    t.clock.set('2026-11-24T09:00:00Z');
    expect(await runLockLessons(t.app.deps)).toBe(1); // 17.11 in Moscow; nothing new in Vladivostok
    expect(await locked(lessonsA)).toEqual(['2026-11-14', '2026-11-16', '2026-11-17']);
    expect((await db().models.Lesson.findById(lessonsA['2026-11-16']).lean())?.lockedAt?.getTime()).toBe(first?.getTime());
    expect(await runLockLessons(t.app.deps)).toBe(0);
  });

  it('the journal jobs are scheduled once, however often the app starts', async () => {
    const { defineJobs } = await import('../../src/jobs/index.js');
    await defineJobs(t.app.agenda, t.app.deps, t.app.bot.api);
    for (const name of [JOBS.lockLessons, JOBS.attendanceReminders, JOBS.endOfDay, JOBS.cleanupDrafts]) {
      const { jobs } = await t.app.agenda.queryJobs({ name });
      expect(jobs.filter((j) => j.type === 'single'), name).toHaveLength(1);
    }
  });
});

describe('reminders (R19)', () => {
  it('a teacher who has not taken attendance by the end of the lesson gets one reminder', async () => {
    const teacher = t.world.user({ firstName: 'Анна' });
    await bindTelegram(db(), a.teacherId, teacher.id);
    // Wednesday 25.11, 10:15 in Moscow: lesson 2 (09:25–10:10) is over, lesson 4 (11:35–12:20) is not.
    t.clock.set('2026-11-25T07:15:00Z');
    await runAttendanceReminders(t.app.deps);
    await runAttendanceReminders(t.app.deps);
    await delivered();
    const reminders = () => teacher.messages().filter((m) => m.content.startsWith('⏰'));
    expect(reminders().map((m) => m.content)).toEqual([
      '⏰ Отметьте посещаемость: 2-й урок (09:25–10:10), 7Б · Математика. Урок закончился, а отметки ещё нет.',
    ]);
    // Lesson 4: attendance taken in time → no reminder after it ends.
    const l4 = await lessonOn(db(), a, a.mathSlot8, '2026-11-25');
    await db().models.Lesson.updateOne({ _id: l4 }, { $set: { attendanceTakenAt: new Date('2026-11-25T08:50:00Z') } });
    t.clock.set('2026-11-25T09:30:00Z');
    await runAttendanceReminders(t.app.deps);
    await delivered();
    expect(reminders()).toHaveLength(1);
    // The button opens the lesson.
    await teacher.press('📋 Открыть урок');
    expect(teacher.lastText()).toContain('7Б · Математика');
    expect(await db().models.JournalNotice.countDocuments({ kind: 'attendanceReminder', status: 'sent' })).toBe(1);
  });

  it('after lessons each teacher gets one list of what is still missing', async () => {
    const teacher = t.world.user({ firstName: 'Анна2' });
    await bindTelegram(db(), a.teacherId, teacher.id);
    t.clock.set('2026-11-26T12:00:00Z'); // 15:00 in Moscow: too early
    expect(await runEndOfDay(t.app.deps)).toBe(0);
    t.clock.set('2026-11-26T13:45:00Z'); // 16:45
    expect(await runEndOfDay(t.app.deps)).toBeGreaterThanOrEqual(1);
    expect(await runEndOfDay(t.app.deps)).toBe(0);
    await delivered();
    const lists = teacher.messages().filter((m) => m.content.startsWith('📝 Итоги дня'));
    expect(lists).toHaveLength(1);
    expect(lists[0]?.content).toContain('2. 7Б · Математика — посещаемость, тема, д/з, оценки');
    expect(lists[0]?.content).toContain('4. 8А · Математика — посещаемость, тема, д/з, оценки');
  });
});
