/**
 * The demo's second scene: the end of the quarter (R15–R17). The demo clock moves into the last
 * `finalMarkWindowDays` days of the current quarter (the school's calendar, the class's own
 * window if the admin set one); the quarter's marks and absences of the morning's class × subject
 * are recorded through the journal's use cases on each lesson's own day (so they obey every rule a
 * teacher obeys); then the teacher opens /periodmarks, the class × subject sheet with the averages
 * and the suggested marks, and presses "✅ Принять все предложенные (N)"; after the grace window the
 * families get one "🏁 …" message per child through the outbox.
 *
 * Marks dated before the families joined tell nobody (a family hears of what happens after it
 * joined); those after the morning reach the three families and are delivered before the scene's
 * chats begin, so the scene shows only the quarter's end.
 */
import type { Types } from 'mongoose';
import type { Db } from '../src/db/index.js';
import { openAttendance, saveAttendance, toggleAttendance } from '../src/domain/journal/attendance.js';
import { lessonsForTeacher } from '../src/domain/journal/lessons.js';
import { recordMark } from '../src/domain/journal/marks.js';
import { type AcademicPeriod, currentYear, isSchoolDay, periodsOf } from '../src/domain/school/academic-year.js';
import type { Actor } from '../src/domain/school/actor.js';
import { markWindowOf } from '../src/domain/school/mark-windows.js';
import { settingsOf } from '../src/domain/school/rules.js';
import { addDays, isoWeekday, type LocalDate } from '../src/domain/shared/calendar.js';
import type { ChatMessage } from '../test/support/fake-bot-api.js';
import type { TestUser } from '../test/support/users.js';

export interface QuarterScene {
  db: Db;
  clock: { setLocal(date: LocalDate, hhmm: string): void; now(): Date };
  deliver: () => Promise<unknown>;
  actor: Actor;
  teacher: TestUser;
  /** Whose chats the scene prints, besides the teacher's. */
  families: TestUser[];
  classId: string;
  className: string;
  subjectName: string;
  /** The class's students in roster order; the first three are the demo's families. */
  students: Array<{ _id: Types.ObjectId }>;
  /** The morning already played: its lesson has its marks and its absence. */
  morning: LocalDate;
}

export interface QuarterResult {
  period: AcademicPeriod;
  day: LocalDate;
  window: { opensOn: LocalDate; closesOn: LocalDate };
  lessons: number;
  marks: number;
  absences: number;
  /** Screens as the teacher saw them before the next tap (the bot edits one message in place). */
  screens: Array<{ title: string; message: ChatMessage }>;
  /** Where each chat's quarter part begins. */
  from: Map<TestUser, number>;
}

/** What each kind of student gets, mark after mark: a strong, a good, an average and a weak one. */
const PATTERNS = [
  [5, 5, 4, 5, 5, 4],
  [4, 5, 4, 4, 3, 4],
  [3, 4, 3, 4, 3, 3],
  [3, 2, 3, 3, 4, 2],
] as const;

/** The quarter the morning is in (or the next one), for the class's grade. */
async function quarterOf(db: Db, actor: Actor, classId: string, morning: LocalDate) {
  const { School, SchoolClass } = db.models;
  const [school, cls] = await Promise.all([School.findById(actor.schoolId).lean(), SchoolClass.findById(classId, { grade: 1 }).lean()]);
  if (!school) throw new Error('no school');
  const year = await currentYear(db, actor.schoolId, morning, { orUpcoming: true });
  if (!year) throw new Error('the demo school has no academic year');
  const periods = periodsOf(year, cls?.grade);
  const period = periods.find((p) => p.startsOn <= morning && morning <= p.endsOn) ?? periods.find((p) => p.startsOn > morning);
  if (!period) throw new Error(`no period after ${morning} in ${year.name}`);
  const window = markWindowOf(period, settingsOf(school).finalMarkWindowDays, classId);
  // The first school day (Mon–Fri) of the window that is not before the morning.
  let day = window.opensOn > morning ? window.opensOn : morning;
  while (day < window.closesOn && (isoWeekday(day) > 5 || !(await isSchoolDay(db, actor.schoolId, day)))) day = addDays(day, 1);
  return { period, window, day };
}

/** The quarter's lessons of the class × subject up to the day before `until`, each with its marks and absences, recorded on its own day. */
async function recordQuarter(s: QuarterScene, from: LocalDate, until: LocalDate) {
  const late = s.students.length > 3 ? s.students.length - 1 : -1; // a student who missed much of the quarter
  let lessons = 0;
  let marks = 0;
  let absences = 0;
  for (let d = from; d < until; d = addDays(d, 1)) {
    if (d === s.morning || isoWeekday(d) > 5 || !(await isSchoolDay(s.db, s.actor.schoolId, d))) continue;
    s.clock.setLocal(d, '14:00');
    const day = await lessonsForTeacher(s.db, s.actor, d, s.clock.now());
    const ours = day.lessons.filter((l) => l.classId === s.classId && l.subjectName === s.subjectName && !l.groupName && l.status === 'scheduled');
    for (const lesson of ours) {
      const k = lessons++;
      const absent = late >= 0 && k % 3 === 1;
      if (absent) {
        let sheet = await openAttendance(s.db, s.actor, lesson.id, s.clock.now());
        const idx = sheet.students.find((x) => x.id === String(s.students[late]?._id))?.idx;
        if (idx !== undefined) {
          sheet = await toggleAttendance(s.db, s.actor, lesson.id, sheet.version, idx, s.clock.now());
          await saveAttendance(s.db, s.actor, lesson.id, sheet.version, s.clock.now());
          absences++;
        }
      }
      for (const [i, student] of s.students.entries()) {
        if ((i + k) % 3 !== 0 || (i === late && (absent || k > 4))) continue;
        const pattern = PATTERNS[i % PATTERNS.length] as readonly number[];
        const value = pattern[Math.floor(k / 3) % pattern.length];
        const workKind = k % 2 === 0 ? 'classwork' : 'oral';
        await recordMark(s.db, s.actor, { lessonId: lesson.id, studentId: String(student._id), value, workKind }, s.clock.now());
        marks++;
      }
    }
  }
  return { lessons, marks, absences };
}

const snapshot = (user: TestUser): ChatMessage => structuredClone(user.lastMessage() as ChatMessage);
const escapeRe = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function playQuarterEnd(s: QuarterScene): Promise<QuarterResult> {
  const { period, window, day } = await quarterOf(s.db, s.actor, s.classId, s.morning);
  const recorded = await recordQuarter(s, period.startsOn, day);
  // What the families were told of the marks after the morning goes before the scene.
  s.clock.setLocal(day, '14:30');
  await s.deliver();
  const from = new Map([s.teacher, ...s.families].map((u) => [u, u.chat().length]));

  // ── 15:00, after the lessons: the teacher's period marks ──
  s.clock.setLocal(day, '15:00');
  const screens: QuarterResult['screens'] = [];
  await s.teacher.send('/periodmarks');
  screens.push({ title: 'список', message: snapshot(s.teacher) });
  const target = new RegExp(`^${escapeRe(s.className)} · ${escapeRe(s.subjectName)} · `);
  const button = s.teacher.buttons().find((b) => target.test(b));
  if (!button) throw new Error(`no /periodmarks button for ${s.className} · ${s.subjectName}: ${s.teacher.buttons().join(' | ')}`);
  await s.teacher.press(button);
  screens.push({ title: 'ведомость с предложенными отметками', message: snapshot(s.teacher) });
  const accept = s.teacher.buttons().find((b) => b.startsWith('✅ Принять все предложенные'));
  if (!accept) throw new Error(`no accept button on the sheet: ${s.teacher.lastText()}`);
  await s.teacher.press(accept);
  await s.deliver(); // nothing yet: inside the grace window
  s.clock.setLocal(day, '15:06');
  await s.deliver();
  return { period, day, window, ...recorded, screens, from };
}
