import { CURRICULUM, DAYS, PRIMARY_SUBJECTS, type Row, type StaffDef } from './plan.js';
import type { Rng } from './random.js';

/**
 * The demo school's Monday–Friday timetable: a randomized greedy fill with restarts; a teacher is
 * never in two places at once.
 */
interface Unit {
  subjectId: string;
  teachers: string[];
}

/** The timetable rows of the demo school; restarts until no teacher is double-booked. */
export function buildTimetable(
  r: Rng,
  classes: ReadonlyArray<{ id: string; grade: number }>,
  assignment: Map<string, Map<string, string[]>>,
  staff: StaffDef[],
): Row[] {
  const room = new Map<string, string>();
  for (const [i, s] of staff.entries()) room.set(s.id, s.teaches === 'PE' ? 'Спортзал' : String(200 + i));
  for (let attempt = 0; attempt < 50; attempt++) {
    const busy = new Set<string>();
    const rows: Row[] = [];
    let failed = false;
    // Upper grades first: they have the most lessons and the most shared teachers.
    for (const c of [...classes].sort((a, b) => b.grade - a.grade)) {
      const placed = placeClass(r, c, assignment.get(c.id)!, busy);
      if (!placed) {
        failed = true;
        break;
      }
      for (const p of placed) {
        p.unit.teachers.forEach((t, i) => {
          busy.add(`${t}|${p.day}|${p.lesson}`);
          rows.push({
            class_id: c.id,
            group_id: p.unit.teachers.length === 2 ? `${c.id}-ENG-${i + 1}` : undefined,
            weekday: p.day,
            lesson_no: p.lesson,
            subject_id: p.unit.subjectId,
            teacher_id: t,
            room: c.grade <= 4 && PRIMARY_SUBJECTS.has(p.unit.subjectId) ? String(100 + classes.indexOf(c)) : room.get(t),
          });
        });
      }
    }
    if (!failed) return rows;
  }
  throw new Error('could not build a demo timetable without double-booked teachers');
}

function placeClass(
  r: Rng,
  c: { id: string; grade: number },
  subjects: Map<string, string[]>,
  busy: ReadonlySet<string>,
): Array<{ unit: Unit; day: number; lesson: number }> | undefined {
  const units: Unit[] = [];
  for (const [subjectId, teachers] of subjects) {
    const hours = CURRICULUM.find((s) => s.id === subjectId)!.hours[c.grade - 1] ?? 0;
    for (let h = 0; h < hours; h++) units.push({ subjectId, teachers });
  }
  for (let attempt = 0; attempt < 200; attempt++) {
    const left = r.shuffle([...units]);
    const perDay = DAYS.map(() => Math.floor(units.length / DAYS.length));
    for (const d of r.shuffle([0, 1, 2, 3, 4]).slice(0, units.length % DAYS.length)) perDay[d]!++;
    const placed: Array<{ unit: Unit; day: number; lesson: number }> = [];
    let ok = true;
    for (const day of DAYS) {
      const today = new Map<string, number>();
      for (let lesson = 1; lesson <= perDay[day - 1]! && ok; lesson++) {
        const free = (u: Unit) => u.teachers.every((t) => !busy.has(`${t}|${day}|${lesson}`));
        // Prefer a subject not yet taught today; allow a second lesson of a subject only if needed.
        let index = left.findIndex((u) => free(u) && !today.has(u.subjectId));
        if (index < 0) index = left.findIndex((u) => free(u) && (today.get(u.subjectId) ?? 0) < 2);
        if (index < 0) {
          ok = false;
          break;
        }
        const [unit] = left.splice(index, 1);
        today.set(unit!.subjectId, (today.get(unit!.subjectId) ?? 0) + 1);
        placed.push({ unit: unit!, day, lesson });
      }
      if (!ok) break;
    }
    if (ok && left.length === 0) return placed;
  }
  return undefined;
}
