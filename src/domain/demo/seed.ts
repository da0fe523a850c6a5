import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { systemActor } from '../school/actor.js';
import { DomainError } from '../shared/errors.js';
import type { EntityCounts } from '../imports/common.js';
import { COLUMNS, type ImportKind } from '../imports/kinds.js';
import { toCsv } from '../imports/parse.js';
import { type ImportReport, importFile } from '../imports/index.js';
import { createSchool, getSchool } from '../school/schools.js';
import { BOYS, feminineSurname, GIRLS, MEN, SURNAMES, WOMEN } from './names.js';

/**
 * A realistic demo school, built the way a real one is: by generating the seven import files in
 * memory and running them through `importFile` (so the demo exercises the importer). 22 classes
 * (1А … 11Б), ~25 students each with one or two parents (some families have two children at the
 * school), 40 staff (one admin, one deputy, one secretary; primary teachers lead their classes),
 * a curriculum with realistic weekly hours (×34 weeks, 33 in grade 1), English in two groups
 * from grade 2, and a Monday–Friday timetable in which no teacher is in two places at once.
 * Deterministic for a given seed.
 */

export interface SeedOptions {
  /** Number of students (default 550, ~25 per class). */
  students?: number;
  name?: string;
  timezone?: string;
  /** Load into this existing school instead of creating one. */
  schoolId?: Types.ObjectId | string;
  /** Changes the generated names and timetable; same seed → same school. */
  seed?: number;
  /** Every student gets two parents (the 1,000-student benchmark). */
  twoParents?: boolean;
  now: Date;
}

export interface SeedResult {
  schoolId: string;
  /** Per entity: how many the demo files hold (created + updated + unchanged). */
  counts: Record<string, number>;
  reports: ImportReport[];
  ms: number;
  /** The staff code of the demo admin (for an invite). */
  adminExternalId: string;
}

/** A tiny seeded PRNG (mulberry32): the demo must be the same every time for the same seed. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
    shuffle: <T>(items: T[]): T[] => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
  };
}
type Rng = ReturnType<typeof rng>;

// ---------------------------------------------------------------------------------------------
// Curriculum: weekly hours by grade (index 0 = grade 1), after the federal basic curriculum.

interface SubjectDef {
  id: string;
  name: string;
  short: string;
  assessment?: 'passfail';
  hours: ReadonlyArray<number>;
  /** Taught in two groups (English from grade 2). */
  groups?: boolean;
}

export const CURRICULUM: readonly SubjectDef[] = [
  { id: 'RUS', name: 'Русский язык', short: 'Рус. яз.', hours: [5, 5, 5, 5, 5, 6, 4, 3, 3, 2, 2] },
  { id: 'READ', name: 'Литературное чтение', short: 'Лит. чт.', hours: [4, 4, 4, 3] },
  { id: 'LIT', name: 'Литература', short: 'Лит.', hours: [0, 0, 0, 0, 3, 3, 2, 2, 3, 3, 3] },
  { id: 'MATH', name: 'Математика', short: 'Матем.', hours: [4, 4, 4, 4, 5, 5] },
  { id: 'ALG', name: 'Алгебра', short: 'Алг.', hours: [0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3] },
  { id: 'GEOM', name: 'Геометрия', short: 'Геом.', hours: [0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2] },
  { id: 'WORLD', name: 'Окружающий мир', short: 'Окр. мир', hours: [2, 2, 2, 2] },
  { id: 'ENG', name: 'Английский язык', short: 'Англ.', hours: [0, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3], groups: true },
  { id: 'HIST', name: 'История', short: 'Ист.', hours: [0, 0, 0, 0, 2, 2, 2, 2, 3, 2, 2] },
  { id: 'SOC', name: 'Обществознание', short: 'Общ.', hours: [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2] },
  { id: 'GEO', name: 'География', short: 'Геогр.', hours: [0, 0, 0, 0, 1, 1, 2, 2, 2, 1, 1] },
  { id: 'BIO', name: 'Биология', short: 'Биол.', hours: [0, 0, 0, 0, 1, 1, 1, 2, 2, 1, 1] },
  { id: 'PHYS', name: 'Физика', short: 'Физ.', hours: [0, 0, 0, 0, 0, 0, 2, 2, 3, 2, 2] },
  { id: 'CHEM', name: 'Химия', short: 'Хим.', hours: [0, 0, 0, 0, 0, 0, 0, 2, 2, 1, 1] },
  { id: 'INF', name: 'Информатика', short: 'Инф.', hours: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1] },
  { id: 'MUS', name: 'Музыка', short: 'Муз.', hours: [1, 1, 1, 1, 1, 1, 1, 1] },
  { id: 'ART', name: 'Изобразительное искусство', short: 'ИЗО', hours: [1, 1, 1, 1, 1, 1, 1] },
  { id: 'TECH', name: 'Труд (технология)', short: 'Труд', hours: [1, 1, 1, 1, 2, 2, 2, 1, 1] },
  { id: 'PE', name: 'Физическая культура', short: 'Физ-ра', hours: [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] },
  {
    id: 'ORKSE',
    name: 'Основы религиозных культур и светской этики',
    short: 'ОРКСЭ',
    assessment: 'passfail',
    hours: [0, 0, 0, 1],
  },
];

/** Subjects a primary class teacher teaches in their own class. */
const PRIMARY_SUBJECTS = new Set(['RUS', 'READ', 'MATH', 'WORLD', 'ART', 'TECH', 'ORKSE']);
/** Subjects one teacher takes together in a class (Russian + Literature, Algebra + Geometry, …). */
const SUBJECT_FAMILY: Record<string, string> = {
  RUS: 'RUS',
  LIT: 'RUS',
  MATH: 'MATH',
  ALG: 'MATH',
  GEOM: 'MATH',
  HIST: 'HIST',
  SOC: 'HIST',
};
const LETTERS = ['А', 'Б'] as const;
const DAYS = [1, 2, 3, 4, 5] as const;
export const DEMO_SCHOOL_NAME = 'Демонстрационная школа № 1';

interface StaffDef {
  id: string;
  roles: string;
  /** Subject family the teacher teaches in grades 5–11 (or all grades for specialists). */
  teaches?: string;
}

/** 40 staff: admin (teaches informatics), deputy (maths), secretary, 8 primary teachers, specialists. */
function staffPlan(): StaffDef[] {
  const plan: StaffDef[] = [
    { id: 'T01', roles: 'admin;teacher', teaches: 'INF', },
    { id: 'T02', roles: 'deputy;teacher', teaches: 'MATH', },
    { id: 'T03', roles: 'secretary', },
  ];
  for (let i = 0; i < 8; i++) plan.push({ id: '', roles: 'teacher', teaches: 'PRIMARY', });
  const specialists: Array<[string, number]> = [
    ['RUS', 6],
    ['MATH', 5],
    ['ENG', 6],
    ['HIST', 2],
    ['GEO', 1],
    ['BIO', 1],
    ['CHEM', 1],
    ['PHYS', 1],
    ['INF', 1],
    ['MUS', 1],
    ['ART', 1],
    ['TECH', 1],
    ['PE', 2],
  ];
  for (const [family, n] of specialists) {
    for (let i = 0; i < n; i++) plan.push({ id: '', roles: 'teacher', teaches: family, });
  }
  return plan.map((s, i) => ({ ...s, id: `T${String(i + 1).padStart(2, '0')}` }));
}

type Row = Record<string, string | number | boolean | undefined>;

export interface DemoFiles {
  staff: Row[];
  subjects: Row[];
  classes: Row[];
  students: Row[];
  groups: Row[];
  load: Row[];
  timetable: Row[];
  adminExternalId: string;
}

function person(r: Rng, male: boolean) {
  const surname = r.pick(SURNAMES);
  const father = r.pick(MEN);
  return {
    last_name: male ? surname : feminineSurname(surname),
    first_name: male ? r.pick(MEN)[0] : r.pick(WOMEN),
    middle_name: male ? father[1] : father[2],
  };
}

const phone = (r: Rng) =>
  `+7 9${r.int(10)}${r.int(10)} ${100 + r.int(900)}-${10 + r.int(90)}-${10 + r.int(90)}`;

/** The seven import files of the demo school, as rows keyed by canonical headers. */
export function demoFiles(opts: { students?: number; seed?: number; twoParents?: boolean; today: string }): DemoFiles {
  const r = rng(opts.seed ?? 1);
  const totalStudents = Math.max(22, opts.students ?? 550);
  const staff = staffPlan();
  const classes = Array.from({ length: 11 }, (_, g) => LETTERS.map((letter) => ({ grade: g + 1, letter, id: `${g + 1}${letter}` }))).flat();

  // Staff rows. Women are most of a Russian school's staff; a few men among the specialists.
  const staffRows: Row[] = staff.map((s, i) => {
    const male = s.teaches === 'PE' || s.teaches === 'INF' || s.teaches === 'TECH' || (i > 10 && r.chance(0.15));
    return { staff_id: s.id, ...person(r, male), roles: s.roles, phone: phone(r), active: 'yes' };
  });
  const subjectRows: Row[] = CURRICULUM.map((s) => ({
    subject_id: s.id,
    name: s.name,
    short_name: s.short,
    assessment: s.assessment ?? 'marks',
  }));

  // Who teaches what: primary teachers their own class; specialists shared out by least load.
  const primary = staff.filter((s) => s.teaches === 'PRIMARY');
  const weekly = new Map<string, number>(staff.map((s) => [s.id, 0]));
  const classTeacher = new Map<string, string>();
  /** class id → subject id → teacher ids (two for group subjects) */
  const assignment = new Map<string, Map<string, string[]>>();
  const pool = (family: string) => staff.filter((s) => s.teaches === family);
  const leastLoaded = (candidates: StaffDef[], except: string[] = []) =>
    [...candidates]
      .filter((c) => !except.includes(c.id))
      .sort((a, b) => (weekly.get(a.id) ?? 0) - (weekly.get(b.id) ?? 0) || a.id.localeCompare(b.id))[0];

  classes.forEach((c, ci) => {
    const subjects = new Map<string, string[]>();
    assignment.set(c.id, subjects);
    const familyTeacher = new Map<string, string>();
    for (const subject of CURRICULUM) {
      const hours = subject.hours[c.grade - 1] ?? 0;
      if (hours === 0) continue;
      let teachers: string[];
      const take = (t: StaffDef) => {
        weekly.set(t.id, (weekly.get(t.id) ?? 0) + hours);
        return t.id;
      };
      if (c.grade <= 4 && PRIMARY_SUBJECTS.has(subject.id)) {
        teachers = [take(primary[ci]!)];
      } else if (subject.groups) {
        const first = take(leastLoaded(pool('ENG'))!);
        teachers = [first, take(leastLoaded(pool('ENG'), [first])!)];
      } else {
        // One teacher takes the whole family in a class (Russian with Literature, Algebra with Geometry).
        const family = SUBJECT_FAMILY[subject.id] ?? subject.id;
        const known = familyTeacher.get(family);
        const teacher = known ? staff.find((s) => s.id === known)! : leastLoaded(pool(family))!;
        teachers = [take(teacher)];
        familyTeacher.set(family, teacher.id);
      }
      subjects.set(subject.id, teachers);
    }
  });
  // Class teachers: primary teachers lead their classes; grades 5–11 get a specialist each.
  const leaders = staff.filter((s) => s.teaches && !['PRIMARY', 'PE', 'MUS', 'ART', 'TECH'].includes(s.teaches) && s.id !== 'T01');
  classes.forEach((c, ci) => {
    classTeacher.set(c.id, c.grade <= 4 ? primary[ci]!.id : leaders[(ci - 8) % leaders.length]!.id);
  });
  const classRows: Row[] = classes.map((c) => ({
    class_id: c.id,
    grade: c.grade,
    letter: c.letter,
    class_teacher_id: classTeacher.get(c.id),
  }));

  // Students with families; some families have a second child in another class.
  const studentRows: Row[] = [];
  const perClass = classes.map((_, i) => Math.floor(totalStudents / 22) + (i < totalStudents % 22 ? 1 : 0));
  const families: Array<{ surname: string; father?: { id: string; name: string; patr: readonly [string, string, string] }; mother?: { id: string; name: string; patr: string } }> = [];
  let parentNo = 0;
  let studentNo = 0;
  const schoolYear = Number(opts.today.slice(0, 4)) - (Number(opts.today.slice(5, 7)) >= 6 ? 0 : 1);
  classes.forEach((c, ci) => {
    for (let k = 0; k < perClass[ci]!; k++) {
      studentNo++;
      let family = families.length > 10 && r.chance(0.06) ? r.pick(families) : undefined;
      if (!family) {
        const surname = r.pick(SURNAMES);
        const fatherName = r.pick(MEN);
        const both = opts.twoParents || r.chance(0.8);
        const motherOnly = !both && r.chance(0.85);
        family = { surname };
        if (both || !motherOnly) {
          family.father = { id: `P${String(++parentNo).padStart(5, '0')}`, name: fatherName[0], patr: r.pick(MEN) };
        }
        if (both || motherOnly) {
          family.mother = { id: `P${String(++parentNo).padStart(5, '0')}`, name: r.pick(WOMEN), patr: r.pick(MEN)[2] };
        }
        families.push(family);
      }
      const male = r.chance(0.5);
      const fatherFirst = family.father?.name ?? r.pick(MEN)[0];
      const fatherEntry = MEN.find((m) => m[0] === fatherFirst) ?? MEN[0]!;
      const birthYear = schoolYear - 6 - c.grade;
      const month = 1 + r.int(12);
      const day = 1 + r.int(28);
      const row: Row = {
        student_id: `S${String(studentNo).padStart(5, '0')}`,
        last_name: male ? family.surname : feminineSurname(family.surname),
        first_name: male ? r.pick(BOYS) : r.pick(GIRLS),
        middle_name: male ? fatherEntry[1] : fatherEntry[2],
        class_id: c.id,
        birth_date: `${month >= 9 ? birthYear : birthYear + 1}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
        form: r.chance(0.01) ? 'home' : 'regular',
        pe_exempt: r.chance(0.04) ? 'yes' : 'no',
        status: 'studying',
      };
      const parents = [
        family.mother && {
          id: family.mother.id,
          last: feminineSurname(family.surname),
          first: family.mother.name,
          middle: family.mother.patr,
          relation: 'mother',
        },
        family.father && {
          id: family.father.id,
          last: family.surname,
          first: family.father.name,
          middle: family.father.patr[1],
          relation: 'father',
        },
      ].filter((p): p is NonNullable<typeof p> => Boolean(p));
      parents.forEach((p, i) => {
        const n = i + 1;
        row[`parent${n}_id`] = p.id;
        row[`parent${n}_last_name`] = p.last;
        row[`parent${n}_first_name`] = p.first;
        row[`parent${n}_middle_name`] = p.middle;
        row[`parent${n}_phone`] = phoneFor(p.id, opts.seed ?? 1);
        row[`parent${n}_relation`] = p.relation;
      });
      studentRows.push(row);
    }
  });

  // English groups: the class list split in two halves.
  const groupRows: Row[] = [];
  for (const c of classes) {
    if ((CURRICULUM.find((s) => s.id === 'ENG')!.hours[c.grade - 1] ?? 0) === 0) continue;
    const ids = studentRows.filter((s) => s.class_id === c.id).map((s) => String(s.student_id));
    const half = Math.ceil(ids.length / 2);
    [ids.slice(0, half), ids.slice(half)].forEach((members, i) => {
      groupRows.push({
        group_id: `${c.id}-ENG-${i + 1}`,
        class_id: c.id,
        subject_id: 'ENG',
        name: `Английский, группа ${i + 1}`,
        student_ids: members.join(';'),
      });
    });
  }

  // Teaching load: weekly hours × 34 weeks (33 in grade 1).
  const loadRows: Row[] = [];
  for (const c of classes) {
    const weeks = c.grade === 1 ? 33 : 34;
    for (const [subjectId, teachers] of assignment.get(c.id)!) {
      const hours = (CURRICULUM.find((s) => s.id === subjectId)!.hours[c.grade - 1] ?? 0) * weeks;
      if (teachers.length === 2) {
        teachers.forEach((t, i) => {
          loadRows.push({ class_id: c.id, group_id: `${c.id}-ENG-${i + 1}`, subject_id: subjectId, teacher_id: t, hours_per_year: hours });
        });
      } else loadRows.push({ class_id: c.id, subject_id: subjectId, teacher_id: teachers[0], hours_per_year: hours });
    }
  }

  const timetableRows = buildTimetable(r, classes, assignment, staff);
  return {
    staff: staffRows,
    subjects: subjectRows,
    classes: classRows,
    students: studentRows,
    groups: groupRows,
    load: loadRows,
    timetable: timetableRows,
    adminExternalId: 'T01',
  };
}

/** A parent's phone depends only on the parent (a parent of two children has one number). */
function phoneFor(parentId: string, seed: number): string {
  let h = seed;
  for (const ch of parentId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return phone(rng(h));
}

// ---------------------------------------------------------------------------------------------
// Timetable: a randomized greedy fill with restarts; a teacher is never in two places at once.

interface Unit {
  subjectId: string;
  teachers: string[];
}

function buildTimetable(
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

// ---------------------------------------------------------------------------------------------

const IMPORT_ORDER: readonly ImportKind[] = ['staff', 'subjects', 'classes', 'students', 'groups', 'load', 'timetable'];

export async function seedDemoSchool(db: Db, opts: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  let schoolId: Types.ObjectId;
  if (opts.schoolId) {
    const school = await getSchool(db, opts.schoolId);
    if (!school) throw new DomainError('cli.errors.schoolNotFound', { id: String(opts.schoolId) });
    schoolId = school._id;
  } else {
    const school = await createSchool(db, {
      name: opts.name ?? DEMO_SCHOOL_NAME,
      timezone: opts.timezone ?? 'Europe/Moscow',
      locale: 'ru',
      now: opts.now,
    });
    schoolId = school._id;
  }
  const files = demoFiles({
    students: opts.students,
    seed: opts.seed,
    twoParents: opts.twoParents,
    today: opts.now.toISOString().slice(0, 10),
  });
  const actor = systemActor(schoolId, 'cli');
  const reports: ImportReport[] = [];
  const counts: Record<string, number> = {};
  for (const kind of IMPORT_ORDER) {
    const headers = COLUMNS[kind].map((c) => c.name);
    const data = toCsv(headers, files[kind]);
    const report = await importFile(db, actor, { kind, data, filename: `demo-${kind}.csv`, now: opts.now });
    if (!report.ok) {
      // A bug in the generator, not a user's mistake: say which rows so it can be fixed.
      const first = report.errors.slice(0, 5).map((e) => `row ${e.row} ${e.column}: ${e.key}`);
      throw new Error(`demo ${kind} file was rejected: ${first.join('; ')}`);
    }
    reports.push(report);
    for (const [entity, c] of Object.entries(report.counts) as Array<[string, EntityCounts]>) {
      counts[entity] = (counts[entity] ?? 0) + c.created + c.updated + c.unchanged;
    }
  }
  return { schoolId: String(schoolId), counts, reports, ms: Date.now() - started, adminExternalId: files.adminExternalId };
}
