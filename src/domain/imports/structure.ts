import { Types } from 'mongoose';
import { diffFields, ErrorList, findDuplicates, newCounts, upsertOp } from './common.js';
import type { FieldDiff, Plan, PlanContext, ValidRow, WriteOp } from './common.js';
import type { ClassRow, GroupRow, SubjectRow } from './rows.js';

/** created/updated/unchanged bookkeeping for entities keyed by (schoolId, externalId). */
function upserts(schoolId: Types.ObjectId, now: Date) {
  const counts = newCounts();
  const ops: WriteOp[] = [];
  return {
    counts,
    ops,
    add(externalId: string, existing: unknown, diff: FieldDiff) {
      const filter = { schoolId, externalId };
      if (!existing) {
        counts.created++;
        ops.push(upsertOp(filter, diff, now, { _id: new Types.ObjectId() }));
      } else if (diff.changed) {
        counts.updated++;
        ops.push(upsertOp(filter, diff, now));
      } else counts.unchanged++;
    },
  };
}

/** Subjects: marked 2–5, or pass/fail ("К", R16). */
export async function planSubjects(ctx: PlanContext, rows: ReadonlyArray<ValidRow<SubjectRow>>): Promise<Plan> {
  const { db, schoolId, present } = ctx;
  const { Subject } = db.models;
  const existing = new Map(
    (await Subject.find({ schoolId }, { externalId: 1, name: 1, shortName: 1, assessment: 1, pe: 1 }).lean()).map((s) => [
      s.externalId,
      s,
    ]),
  );
  const errors = new ErrorList();
  findDuplicates(rows, (r) => r.subject_id, 'subject_id', errors);
  const plan = upserts(schoolId, ctx.now);
  if (errors.items.length > 0) return { errors: errors.items, counts: { subjects: plan.counts }, write: async () => {} };
  for (const { data } of rows) {
    const current = existing.get(data.subject_id);
    const wanted: Record<string, unknown> = { name: data.name };
    if (present.has('short_name')) wanted['shortName'] = data.short_name;
    if (present.has('assessment') || !current) wanted['assessment'] = data.assessment ?? 'marks';
    if (present.has('pe')) wanted['pe'] = data.pe ?? false;
    plan.add(data.subject_id, current, diffFields(current, wanted));
  }
  return {
    errors: [],
    counts: { subjects: plan.counts },
    write: async () => {
      if (plan.ops.length > 0) await Subject.collection.bulkWrite(plan.ops, { ordered: false });
    },
  };
}

/** Classes and their class teachers (R7): grade 1–11 and a letter, "5Б". */
export async function planClasses(ctx: PlanContext, rows: ReadonlyArray<ValidRow<ClassRow>>): Promise<Plan> {
  const { db, schoolId, present } = ctx;
  const { SchoolClass, Person } = db.models;
  const [classes, teachers] = await Promise.all([
    SchoolClass.find({ schoolId }, { externalId: 1, grade: 1, letter: 1, name: 1, classTeacherId: 1 }).lean(),
    Person.find({ schoolId, roles: { $in: ['teacher', 'admin', 'deputy', 'secretary'] } }, { externalId: 1, roles: 1, active: 1 }).lean(),
  ]);
  const existing = new Map(classes.map((c) => [c.externalId, c]));
  const staffByExt = new Map(teachers.map((t) => [t.externalId, t]));
  const errors = new ErrorList();
  findDuplicates(rows, (r) => r.class_id, 'class_id', errors);
  findDuplicates(rows, (r) => `${r.grade}${r.letter}`, 'letter', errors, 'import.errors.duplicateClassName');
  const inFile = new Set(rows.map((r) => r.data.class_id));
  // A class name stays unique in the school: a class not in this file may already hold it.
  const takenBy = new Map(classes.filter((c) => !inFile.has(c.externalId)).map((c) => [c.name, c.externalId]));
  for (const { rowNo, data } of rows) {
    const name = `${data.grade}${data.letter}`;
    const holder = takenBy.get(name);
    if (holder) errors.add(rowNo, 'letter', 'import.errors.classNameTaken', { name, id: holder });
    if (data.class_teacher_id) {
      const teacher = staffByExt.get(data.class_teacher_id);
      if (!teacher) errors.add(rowNo, 'class_teacher_id', 'import.errors.unknownStaff', { id: data.class_teacher_id });
      else if (!teacher.roles.includes('teacher') || teacher.active === false) {
        errors.add(rowNo, 'class_teacher_id', 'import.errors.notTeacher', { id: data.class_teacher_id });
      }
    }
  }
  const plan = upserts(schoolId, ctx.now);
  if (errors.items.length > 0) return { errors: errors.items, counts: { classes: plan.counts }, write: async () => {} };
  for (const { data } of rows) {
    const current = existing.get(data.class_id);
    const wanted: Record<string, unknown> = { grade: data.grade, letter: data.letter, name: `${data.grade}${data.letter}` };
    if (present.has('class_teacher_id')) {
      wanted['classTeacherId'] = data.class_teacher_id ? staffByExt.get(data.class_teacher_id)?._id : undefined;
    }
    plan.add(data.class_id, current, diffFields(current, wanted));
  }
  return {
    errors: [],
    counts: { classes: plan.counts },
    write: async () => {
      if (plan.ops.length > 0) await SchoolClass.collection.bulkWrite(plan.ops, { ordered: false });
    },
  };
}

/** Groups inside a class for one subject (R6: two English groups); members must be in that class. */
export async function planGroups(ctx: PlanContext, rows: ReadonlyArray<ValidRow<GroupRow>>): Promise<Plan> {
  const { db, schoolId } = ctx;
  const { Group, SchoolClass, Subject, Person } = db.models;
  const [groups, classes, subjects, students] = await Promise.all([
    Group.find({ schoolId }, { externalId: 1, classId: 1, subjectId: 1, name: 1, studentIds: 1 }).lean(),
    SchoolClass.find({ schoolId }, { externalId: 1, name: 1 }).lean(),
    Subject.find({ schoolId }, { externalId: 1 }).lean(),
    Person.find({ schoolId, roles: 'student' }, { externalId: 1, student: 1 }).lean(),
  ]);
  const existing = new Map(groups.map((g) => [g.externalId, g]));
  const classByExt = new Map(classes.map((c) => [c.externalId, c]));
  const subjectByExt = new Map(subjects.map((s) => [s.externalId, s._id]));
  const studentByExt = new Map(students.map((s) => [s.externalId, s]));
  const errors = new ErrorList();
  findDuplicates(rows, (r) => r.group_id, 'group_id', errors);
  // One student in one group per class and subject (English group 1 or 2, not both).
  const memberOf = new Map<string, string>();
  for (const { rowNo, data } of rows) {
    const cls = classByExt.get(data.class_id);
    if (!cls) errors.add(rowNo, 'class_id', 'import.errors.unknownClass', { id: data.class_id });
    if (!subjectByExt.has(data.subject_id)) errors.add(rowNo, 'subject_id', 'import.errors.unknownSubject', { id: data.subject_id });
    for (const ext of data.student_ids) {
      const student = studentByExt.get(ext);
      if (!student) {
        errors.add(rowNo, 'student_ids', 'import.errors.unknownStudent', { id: ext });
        continue;
      }
      if (cls && String(student.student?.classId) !== String(cls._id)) {
        errors.add(rowNo, 'student_ids', 'import.errors.studentNotInClass', { id: ext, className: cls.name });
        continue;
      }
      const key = `${data.class_id}|${data.subject_id}|${ext}`;
      const other = memberOf.get(key);
      if (other && other !== data.group_id) {
        errors.add(rowNo, 'student_ids', 'import.errors.studentInTwoGroups', { id: ext, group: other });
      } else memberOf.set(key, data.group_id);
    }
  }
  const plan = upserts(schoolId, ctx.now);
  if (errors.items.length > 0) return { errors: errors.items, counts: { groups: plan.counts }, write: async () => {} };
  for (const { data } of rows) {
    const current = existing.get(data.group_id);
    const wanted: Record<string, unknown> = {
      classId: classByExt.get(data.class_id)!._id,
      subjectId: subjectByExt.get(data.subject_id)!,
      name: data.name,
      studentIds: data.student_ids.map((ext) => studentByExt.get(ext)!._id),
    };
    plan.add(data.group_id, current, diffFields(current, wanted, ['studentIds']));
  }
  return {
    errors: [],
    counts: { groups: plan.counts },
    write: async () => {
      if (plan.ops.length > 0) await Group.collection.bulkWrite(plan.ops, { ordered: false });
    },
  };
}
