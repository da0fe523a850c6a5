import type { Db } from '../../db/index.js';
import type { LocalDate } from '../shared/calendar.js';
import { AccessDenied } from '../shared/errors.js';
import { currentYear } from './academic-year.js';
import { isAdmin, readsWholeSchool } from './access.js';
import type { Actor } from './actor.js';
import { markWindowOf, type MarkWindow, windowState, type WindowState } from './mark-windows.js';
import { fullName } from './people.js';
import { type SchoolSettingsView, settingsOf, todayOf } from './rules.js';
import { canMoveStudents } from './moves.js';

/**
 * What the school office's screens open on (issue 15): the rules as they apply, the current year's
 * calendar with each period's mark window (R15), the classes and the teachers to pick from, and what
 * this person may change — the admin the rules and the calendar, the deputy substitutions and grants
 * (R7), the secretary moving students (R5). The office reads it all (admin, deputy, secretary).
 */
export interface OfficePeriod {
  code: string;
  kind: string;
  startsOn: LocalDate;
  endsOn: LocalDate;
  grades: number[];
  window: MarkWindow & { state: WindowState };
}

export interface OfficeOverview {
  today: LocalDate;
  settings: SchoolSettingsView;
  year: { id: string; name: string; startsOn: LocalDate; endsOn: LocalDate; periods: OfficePeriod[]; holidays: Array<{ name: string; startsOn: LocalDate; endsOn: LocalDate }> } | null;
  classes: Array<{ id: string; name: string }>;
  teachers: Array<{ id: string; name: string }>;
  /** For a grant limited to one subject (R7). */
  subjects: Array<{ id: string; name: string }>;
  can: { settings: boolean; calendar: boolean; substitutions: boolean; grants: boolean; moves: boolean; workKinds: boolean };
}

export async function officeOverview(db: Db, actor: Actor, now: Date): Promise<OfficeOverview> {
  if (!readsWholeSchool(actor)) throw new AccessDenied();
  const { School, SchoolClass, Person, Subject } = db.models;
  const school = await School.findById(actor.schoolId, { timezone: 1, settings: 1 }).lean();
  if (!school) throw new AccessDenied();
  const today = todayOf({ timezone: school.timezone }, now);
  const settings = settingsOf(school);
  const [year, classes, teachers, subjects] = await Promise.all([
    currentYear(db, actor.schoolId, today),
    SchoolClass.find({ schoolId: actor.schoolId, closedAt: null }, { name: 1, grade: 1, letter: 1 }).lean(),
    Person.find({ schoolId: actor.schoolId, roles: 'teacher', active: { $ne: false } }, { lastName: 1, firstName: 1, middleName: 1 }).lean(),
    Subject.find({ schoolId: actor.schoolId }, { name: 1 }).lean(),
  ]);
  const admin = isAdmin(actor);
  const deputy = admin || actor.roles.has('deputy');
  return {
    today,
    settings,
    year: year
      ? {
          id: year.id,
          name: year.name,
          startsOn: year.startsOn,
          endsOn: year.endsOn,
          periods: year.periods.map((p) => {
            const w = markWindowOf(p, settings.finalMarkWindowDays);
            return { code: p.code, kind: p.kind, startsOn: p.startsOn, endsOn: p.endsOn, grades: p.grades, window: { ...w, state: windowState(w, today) } };
          }),
          holidays: year.holidays.map((h) => ({ name: h.name, startsOn: h.startsOn, endsOn: h.endsOn })),
        }
      : null,
    classes: classes
      .sort((a, b) => a.grade - b.grade || a.letter.localeCompare(b.letter, 'ru'))
      .map((c) => ({ id: String(c._id), name: c.name })),
    teachers: teachers.map((p) => ({ id: String(p._id), name: fullName(p) })).sort((a, b) => a.name.localeCompare(b.name, 'ru')),
    subjects: subjects.map((x) => ({ id: String(x._id), name: x.name })).sort((a, b) => a.name.localeCompare(b.name, 'ru')),
    can: { settings: admin, calendar: admin, substitutions: deputy, grants: deputy, moves: canMoveStudents(actor), workKinds: admin },
  };
}
