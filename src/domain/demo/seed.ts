import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import { systemActor } from '../school/actor.js';
import { DomainError } from '../shared/errors.js';
import type { EntityCounts } from '../imports/common.js';
import { COLUMNS, IMPORT_ORDER } from '../imports/kinds.js';
import { toCsv } from '../imports/parse.js';
import { type ImportReport, importFile } from '../imports/index.js';
import { createSchool, getSchool } from '../school/schools.js';
import { BOYS, feminineSurname, GIRLS, MEN, SURNAMES, WOMEN } from './names.js';
import { CURRICULUM, DEMO_SCHOOL_NAME, LETTERS, PRIMARY_SUBJECTS, type Row, type StaffDef, SUBJECT_FAMILY, staffPlan } from './plan.js';
import { type Rng, rng } from './random.js';
import { buildTimetable } from './timetable.js';

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
  // A small demo (under 44 students) has classes of one: a group needs students, so such a class
  // learns English whole, with one teacher (issue 11: `--students 40` failed on an empty group).
  classes.forEach((c, ci) => {
    const subjects = assignment.get(c.id);
    const eng = subjects?.get('ENG');
    if (subjects && eng && eng.length === 2 && (perClass[ci] ?? 0) < 2) subjects.set('ENG', [eng[0] as string]);
  });
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
    if ((assignment.get(c.id)?.get('ENG')?.length ?? 0) < 2) continue;
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
