import { Types } from 'mongoose';
import { diffFields, ErrorList, findDuplicates, newCounts, upsertOp } from './common.js';
import type { Plan, PlanContext, ValidRow, WriteOp } from './common.js';
import type { RELATIONS, StudentRow } from './rows.js';

type Relation = (typeof RELATIONS)[number];
type Slot = 1 | 2;

interface ParentDefinition {
  rowNo: number;
  slot: Slot;
  lastName: string;
  firstName: string;
  middleName?: string;
  phone?: string;
}

interface Movement {
  studentExt: string;
  kind: 'arrival' | 'withdrawal' | 'transfer';
  fromClassId?: Types.ObjectId;
  toClassId?: Types.ObjectId;
  note?: string;
}

const parentCols = (slot: Slot) =>
  ({
    id: `parent${slot}_id`,
    last: `parent${slot}_last_name`,
    first: `parent${slot}_first_name`,
    middle: `parent${slot}_middle_name`,
    phone: `parent${slot}_phone`,
    relation: `parent${slot}_relation`,
  }) as const;

function parentOf(row: StudentRow, slot: Slot) {
  return slot === 1
    ? {
        id: row.parent1_id,
        lastName: row.parent1_last_name,
        firstName: row.parent1_first_name,
        middleName: row.parent1_middle_name,
        phone: row.parent1_phone,
        relation: row.parent1_relation,
      }
    : {
        id: row.parent2_id,
        lastName: row.parent2_last_name,
        firstName: row.parent2_first_name,
        middleName: row.parent2_middle_name,
        phone: row.parent2_phone,
        relation: row.parent2_relation,
      };
}

/**
 * Students with their parents (R5): Person(student) + Person(parent) + Guardianship, and the
 * student movement history — arrival on first import, transfer when the class changes,
 * withdrawal when the status leaves "studying". Marks reference the student, so they stay.
 */
export async function planStudents(ctx: PlanContext, rows: ReadonlyArray<ValidRow<StudentRow>>): Promise<Plan> {
  const { db, schoolId, present } = ctx;
  const { Person, SchoolClass, Guardianship, StudentMovement, Group } = db.models;
  const [classes, persons, guardianships] = await Promise.all([
    SchoolClass.find({ schoolId }, { externalId: 1 }).lean(),
    Person.find(
      { schoolId },
      { externalId: 1, lastName: 1, firstName: 1, middleName: 1, roles: 1, phone: 1, student: 1 },
    ).lean(),
    Guardianship.find({ schoolId }, { parentId: 1, studentId: 1, relation: 1 }).lean(),
  ]);
  const classByExt = new Map(classes.map((c) => [c.externalId, c._id]));
  const personByExt = new Map(persons.map((p) => [p.externalId, p]));
  const extById = new Map(persons.map((p) => [String(p._id), p.externalId]));
  const errors = new ErrorList();

  // --- validation -------------------------------------------------------------------------
  findDuplicates(rows, (r) => r.student_id, 'student_id', errors);
  const studentExts = new Set(rows.map((r) => r.data.student_id));
  const definitions = new Map<string, ParentDefinition>();
  const references: Array<{ rowNo: number; slot: Slot; id: string }> = [];

  for (const { rowNo, data } of rows) {
    if (!classByExt.has(data.class_id)) errors.add(rowNo, 'class_id', 'import.errors.unknownClass', { id: data.class_id });
    const existing = personByExt.get(data.student_id);
    if (existing && !existing.roles.includes('student')) {
      errors.add(rowNo, 'student_id', 'import.errors.idTaken', { id: data.student_id });
    }
    for (const slot of [1, 2] as const) {
      const p = parentOf(data, slot);
      const cols = parentCols(slot);
      if (!p.id) continue;
      if (slot === 2 && p.id === data.parent1_id) {
        errors.add(rowNo, cols.id, 'import.errors.sameParentTwice', { id: p.id });
        continue;
      }
      const existingParent = personByExt.get(p.id);
      if (studentExts.has(p.id) || existingParent?.roles.includes('student')) {
        errors.add(rowNo, cols.id, 'import.errors.idTaken', { id: p.id });
        continue;
      }
      if (p.lastName || p.firstName || p.middleName) {
        if (!p.lastName) errors.add(rowNo, cols.last, 'import.errors.required');
        if (!p.firstName) errors.add(rowNo, cols.first, 'import.errors.required');
        if (!p.lastName || !p.firstName) continue;
        const def: ParentDefinition = {
          rowNo,
          slot,
          lastName: p.lastName,
          firstName: p.firstName,
          middleName: p.middleName,
          phone: p.phone,
        };
        const earlier = definitions.get(p.id);
        if (!earlier) {
          definitions.set(p.id, def);
          continue;
        }
        // A parent of two children appears twice: both rows must describe the same person.
        const differs = (
          [
            ['lastName', cols.last],
            ['firstName', cols.first],
            ['middleName', cols.middle],
          ] as const
        ).find(([f]) => (earlier[f] ?? '') !== (def[f] ?? ''));
        if (differs) errors.add(rowNo, differs[1], 'import.errors.parentMismatch', { id: p.id, row: earlier.rowNo });
        else if (def.phone && earlier.phone && def.phone !== earlier.phone) {
          errors.add(rowNo, cols.phone, 'import.errors.parentMismatch', { id: p.id, row: earlier.rowNo });
        } else if (def.phone && !earlier.phone) earlier.phone = def.phone;
      } else {
        references.push({ rowNo, slot, id: p.id });
        if (p.phone) {
          const earlier = definitions.get(p.id);
          if (earlier?.phone && earlier.phone !== p.phone) {
            errors.add(rowNo, cols.phone, 'import.errors.parentMismatch', { id: p.id, row: earlier.rowNo });
          }
        }
      }
    }
  }
  // A parent given by code only must be described on another row or already be known.
  for (const ref of references) {
    if (!definitions.has(ref.id) && !personByExt.has(ref.id)) {
      errors.add(ref.rowNo, parentCols(ref.slot).last, 'import.errors.required');
    }
  }
  // Phones given on a code-only row count for the parent too.
  for (const { data } of rows) {
    for (const slot of [1, 2] as const) {
      const p = parentOf(data, slot);
      const def = p.id ? definitions.get(p.id) : undefined;
      if (def && p.phone && !def.phone) def.phone = p.phone;
    }
  }

  const counts = {
    students: newCounts(),
    parents: newCounts(),
    guardianships: newCounts(),
    movements: newCounts(),
  };
  if (errors.items.length > 0) return { errors: errors.items, counts, write: async () => {} };

  // --- plan ---------------------------------------------------------------------------------
  const personOps: WriteOp[] = [];
  const movements: Movement[] = [];
  const newIds = new Map<string, Types.ObjectId>();

  for (const { data } of rows) {
    const existing = personByExt.get(data.student_id);
    const classId = classByExt.get(data.class_id)!;
    const wanted: Record<string, unknown> = {
      lastName: data.last_name,
      firstName: data.first_name,
      roles: existing ? [...new Set([...existing.roles, 'student'])] : ['student'],
      'student.classId': classId,
    };
    if (present.has('middle_name')) wanted['middleName'] = data.middle_name;
    if (present.has('birth_date')) wanted['student.birthDate'] = data.birth_date;
    if (present.has('status') || !existing) wanted['student.status'] = data.status ?? 'studying';
    if (present.has('form') || !existing) wanted['student.form'] = data.form ?? 'regular';
    if (present.has('pe_exempt') || !existing) wanted['student.peExempt'] = data.pe_exempt ?? false;
    const diff = diffFields(existing, wanted, ['roles']);
    const filter = { schoolId, externalId: data.student_id };
    if (!existing) {
      const _id = new Types.ObjectId();
      newIds.set(data.student_id, _id);
      counts.students.created++;
      personOps.push(upsertOp(filter, diff, ctx.now, { _id, active: true, 'student.enrolledOn': ctx.today }));
      if ((data.status ?? 'studying') === 'studying') {
        movements.push({ studentExt: data.student_id, kind: 'arrival', toClassId: classId });
      }
      continue;
    }
    if (diff.changed) {
      counts.students.updated++;
      personOps.push(upsertOp(filter, diff, ctx.now));
    } else counts.students.unchanged++;

    const before = existing.student;
    const wasStudying = (before?.status ?? 'studying') === 'studying';
    const status = wanted['student.status'] as string | undefined;
    const isStudying = (status ?? before?.status ?? 'studying') === 'studying';
    const oldClass = before?.classId ?? undefined;
    if (wasStudying && !isStudying) {
      movements.push({ studentExt: data.student_id, kind: 'withdrawal', fromClassId: oldClass, note: status });
    } else if (!wasStudying && isStudying) {
      movements.push({ studentExt: data.student_id, kind: 'arrival', toClassId: classId });
    } else if (oldClass && String(oldClass) !== String(classId)) {
      movements.push({ studentExt: data.student_id, kind: 'transfer', fromClassId: oldClass, toClassId: classId });
    }
  }

  for (const [ext, def] of definitions) {
    const existing = personByExt.get(ext);
    const wanted: Record<string, unknown> = {
      lastName: def.lastName,
      firstName: def.firstName,
      middleName: def.middleName,
      roles: existing ? [...new Set([...existing.roles, 'parent'])] : ['parent'],
    };
    if (def.phone) wanted['phone'] = def.phone;
    const diff = diffFields(existing, wanted, ['roles']);
    const filter = { schoolId, externalId: ext };
    if (!existing) {
      const _id = new Types.ObjectId();
      newIds.set(ext, _id);
      counts.parents.created++;
      personOps.push(upsertOp(filter, diff, ctx.now, { _id, active: true }));
    } else if (diff.changed) {
      counts.parents.updated++;
      personOps.push(upsertOp(filter, diff, ctx.now));
    } else counts.parents.unchanged++;
  }
  // Parents given by code only (already known): at most a role to add (a teacher who is also a parent).
  const referencedOnly = new Set(references.map((r) => r.id).filter((ext) => !definitions.has(ext)));
  for (const ext of referencedOnly) {
    const existing = personByExt.get(ext);
    if (!existing) continue; // reported above
    if (existing.roles.includes('parent')) {
      counts.parents.unchanged++;
      continue;
    }
    counts.parents.updated++;
    const roles = [...existing.roles, 'parent'];
    personOps.push(upsertOp({ schoolId, externalId: ext }, { set: { roles }, unset: {}, changed: true }, ctx.now));
  }

  // Guardianships: the file is the truth for the students in it, when it has parent columns.
  const manageLinks = present.has('parent1_id') || present.has('parent2_id');
  const linksByStudent = new Map<string, Map<string, { relation: Relation; id: Types.ObjectId }>>();
  for (const g of guardianships) {
    const s = extById.get(String(g.studentId));
    const p = extById.get(String(g.parentId));
    if (!s || !p) continue;
    const links = linksByStudent.get(s) ?? new Map();
    links.set(p, { relation: (g.relation ?? 'guardian') as Relation, id: g._id });
    linksByStudent.set(s, links);
  }
  const wantedLinks: Array<{ studentExt: string; parentExt: string; relation: Relation }> = [];
  const staleLinks: Types.ObjectId[] = [];
  if (manageLinks) {
    for (const { data } of rows) {
      const current = linksByStudent.get(data.student_id) ?? new Map();
      const keep = new Set<string>();
      for (const slot of [1, 2] as const) {
        const p = parentOf(data, slot);
        if (!p.id) continue;
        keep.add(p.id);
        const relation: Relation = p.relation ?? current.get(p.id)?.relation ?? 'guardian';
        const link = current.get(p.id);
        if (!link) counts.guardianships.created++;
        else if (link.relation !== relation) counts.guardianships.updated++;
        else {
          counts.guardianships.unchanged++;
          continue;
        }
        wantedLinks.push({ studentExt: data.student_id, parentExt: p.id, relation });
      }
      for (const [parentExt, link] of current) if (!keep.has(parentExt)) staleLinks.push(link.id);
    }
    if (staleLinks.length > 0) counts.guardianships.removed = staleLinks.length;
  }
  counts.movements.created = movements.length;

  const write = async () => {
    if (personOps.length > 0) await Person.collection.bulkWrite(personOps, { ordered: false });
    // Ids as stored: another import may have created a person between our read and our write.
    const involved = [...newIds.keys(), ...wantedLinks.map((l) => l.parentExt), ...movements.map((m) => m.studentExt)];
    const idByExt = new Map(persons.map((p) => [p.externalId, p._id]));
    if (involved.length > 0) {
      const fresh = await Person.find({ schoolId, externalId: { $in: [...new Set(involved)] } }, { externalId: 1 }).lean();
      for (const p of fresh) idByExt.set(p.externalId, p._id);
    }
    if (movements.length > 0) {
      await StudentMovement.collection.insertMany(
        movements.map((m) => ({
          _id: new Types.ObjectId(),
          schoolId,
          studentId: idByExt.get(m.studentExt),
          kind: m.kind,
          ...(m.fromClassId ? { fromClassId: m.fromClassId } : {}),
          ...(m.toClassId ? { toClassId: m.toClassId } : {}),
          date: ctx.today,
          ...(m.note ? { note: m.note } : {}),
          ...(ctx.byPersonId ? { byPersonId: ctx.byPersonId } : {}),
          createdAt: ctx.now,
        })),
        { ordered: false },
      );
    }
    // R5: a student moved to another class leaves the old class's subject groups (as moves.ts does).
    const transfers = movements.filter((m) => m.kind === 'transfer' && m.fromClassId);
    if (transfers.length > 0) {
      await Group.bulkWrite(
        transfers.map((m) => ({
          updateMany: { filter: { schoolId, classId: m.fromClassId }, update: { $pull: { studentIds: idByExt.get(m.studentExt) } } },
        })),
        { ordered: false },
      );
    }
    if (wantedLinks.length > 0) {
      await Guardianship.collection.bulkWrite(
        wantedLinks.map((l) => ({
          updateOne: {
            filter: { parentId: idByExt.get(l.parentExt), studentId: idByExt.get(l.studentExt) },
            update: { $set: { relation: l.relation, updatedAt: ctx.now }, $setOnInsert: { schoolId, createdAt: ctx.now } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
    if (staleLinks.length > 0) await Guardianship.deleteMany({ schoolId, _id: { $in: staleLinks } });
  };
  return { errors: [], counts, write };
}
