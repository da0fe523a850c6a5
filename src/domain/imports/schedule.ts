import type { Types } from 'mongoose';
import {
  ErrorList,
  findDuplicates,
  newCounts,
  overlaps,
  type Plan,
  type PlanContext,
  sameValue,
  type ValidRow,
  type WriteOp,
} from './common.js';
import { currentYear } from '../school/academic-year.js';
import { addDays } from '../shared/calendar.js';
import type { LoadRow, TimetableRow } from './rows.js';

/** What load and timetable rows refer to, loaded once per file. */
async function loadRefs(ctx: PlanContext) {
  const { db, schoolId } = ctx;
  const { SchoolClass, Subject, Group, Person } = db.models;
  const [classes, subjects, groups, staff] = await Promise.all([
    SchoolClass.find({ schoolId }, { externalId: 1, name: 1 }).lean(),
    Subject.find({ schoolId }, { externalId: 1 }).lean(),
    Group.find({ schoolId }, { externalId: 1, classId: 1, subjectId: 1 }).lean(),
    Person.find({ schoolId, roles: { $in: ['teacher', 'admin', 'deputy', 'secretary'] } }, { externalId: 1, roles: 1, active: 1 }).lean(),
  ]);
  return {
    classByExt: new Map(classes.map((c) => [c.externalId, c])),
    classById: new Map(classes.map((c) => [String(c._id), c])),
    subjectByExt: new Map(subjects.map((s) => [s.externalId, s._id])),
    groupByExt: new Map(groups.map((g) => [g.externalId, g])),
    staffByExt: new Map(staff.map((p) => [p.externalId, p])),
  };
}
type Refs = Awaited<ReturnType<typeof loadRefs>>;

interface Resolved {
  classId: Types.ObjectId;
  groupId: Types.ObjectId | null;
  subjectId: Types.ObjectId;
  teacherId: Types.ObjectId;
}

/** Checks the class/group/subject/teacher codes of one row; undefined when any is bad. */
function resolve(
  refs: Refs,
  errors: ErrorList,
  rowNo: number,
  row: { class_id: string; group_id?: string; subject_id: string; teacher_id: string },
): Resolved | undefined {
  let ok = true;
  const cls = refs.classByExt.get(row.class_id);
  if (!cls) {
    errors.add(rowNo, 'class_id', 'import.errors.unknownClass', { id: row.class_id });
    ok = false;
  }
  const subjectId = refs.subjectByExt.get(row.subject_id);
  if (!subjectId) {
    errors.add(rowNo, 'subject_id', 'import.errors.unknownSubject', { id: row.subject_id });
    ok = false;
  }
  let groupId: Types.ObjectId | null = null;
  if (row.group_id) {
    const group = refs.groupByExt.get(row.group_id);
    if (!group) {
      errors.add(rowNo, 'group_id', 'import.errors.unknownGroup', { id: row.group_id });
      ok = false;
    } else {
      groupId = group._id;
      if (cls && String(group.classId) !== String(cls._id)) {
        errors.add(rowNo, 'group_id', 'import.errors.groupNotInClass', { id: row.group_id, className: cls.name });
        ok = false;
      } else if (subjectId && String(group.subjectId) !== String(subjectId)) {
        errors.add(rowNo, 'group_id', 'import.errors.groupSubjectMismatch', { id: row.group_id, subject: row.subject_id });
        ok = false;
      }
    }
  }
  const teacher = refs.staffByExt.get(row.teacher_id);
  if (!teacher) {
    errors.add(rowNo, 'teacher_id', 'import.errors.unknownStaff', { id: row.teacher_id });
    ok = false;
  } else if (!teacher.roles.includes('teacher') || teacher.active === false) {
    errors.add(rowNo, 'teacher_id', 'import.errors.notTeacher', { id: row.teacher_id });
    ok = false;
  }
  if (!ok || !cls || !subjectId || !teacher) return undefined;
  return { classId: cls._id, groupId, subjectId, teacherId: teacher._id };
}

/**
 * Teaching load (R7, R9): class or group × subject × teacher × hours per year. For every
 * class/group × subject in the file, the file lists all its teachers: a teacher it no longer
 * lists for that pair loses the load (and with it the access to that journal).
 */
export async function planLoad(ctx: PlanContext, rows: ReadonlyArray<ValidRow<LoadRow>>): Promise<Plan> {
  const { db, schoolId } = ctx;
  const { TeachingLoad } = db.models;
  const [refs, load] = await Promise.all([
    loadRefs(ctx),
    TeachingLoad.find({ schoolId }, { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, hoursPerYear: 1 }).lean(),
  ]);
  const errors = new ErrorList();
  findDuplicates(
    rows,
    (r) => `${r.class_id}|${r.group_id ?? ''}|${r.subject_id}|${r.teacher_id}`,
    'teacher_id',
    errors,
    'import.errors.duplicateRow',
  );
  const resolved = rows.map((r) => ({ row: r, ids: resolve(refs, errors, r.rowNo, r.data) }));
  const counts = { load: newCounts() };
  if (errors.items.length > 0) return { errors: errors.items, counts, write: async () => {} };

  const pairKey = (r: { classId: unknown; groupId?: unknown; subjectId: unknown }) =>
    `${String(r.classId)}|${r.groupId ? String(r.groupId) : ''}|${String(r.subjectId)}`;
  const fullKey = (r: Resolved | (typeof load)[number]) => `${pairKey(r)}|${String(r.teacherId)}`;
  const existing = new Map(load.map((l) => [fullKey(l), l]));
  const ops: WriteOp[] = [];
  const wantedKeys = new Set<string>();
  for (const { row, ids } of resolved) {
    if (!ids) continue;
    const key = fullKey(ids);
    wantedKeys.add(key);
    const current = existing.get(key);
    if (current && sameValue(current.hoursPerYear, row.data.hours_per_year)) {
      counts.load.unchanged++;
      continue;
    }
    if (current) counts.load.updated++;
    else counts.load.created++;
    ops.push({
      updateOne: {
        filter: { schoolId, classId: ids.classId, groupId: ids.groupId, subjectId: ids.subjectId, teacherId: ids.teacherId },
        update: { $set: { hoursPerYear: row.data.hours_per_year, updatedAt: ctx.now }, $setOnInsert: { createdAt: ctx.now } },
        upsert: true,
      },
    });
  }
  const pairsInFile = new Set(resolved.flatMap(({ ids }) => (ids ? [pairKey(ids)] : [])));
  const stale = load.filter((l) => pairsInFile.has(pairKey(l)) && !wantedKeys.has(fullKey(l))).map((l) => l._id);
  if (stale.length > 0) counts.load.removed = stale.length;
  return {
    errors: [],
    counts,
    write: async () => {
      if (ops.length > 0) await TeachingLoad.collection.bulkWrite(ops, { ordered: false });
      if (stale.length > 0) await TeachingLoad.deleteMany({ schoolId, _id: { $in: stale } });
    },
  };
}

interface SlotRow {
  rowNo: number;
  ids: Resolved;
  weekday: number;
  lessonNo: number;
  room?: string;
  validFrom: string;
  validTo: string | null;
  teacherExt: string;
}

/** The first day of the school's current academic year (the default `valid_from`). */
async function currentYearStart(ctx: PlanContext): Promise<string> {
  const current = await currentYear(ctx.db, ctx.schoolId, ctx.today, { archived: true });
  if (current) return current.startsOn;
  const year = Number(ctx.today.slice(0, 4));
  return Number(ctx.today.slice(5, 7)) >= 7 ? `${year}-09-01` : `${year - 1}-09-01`;
}

/**
 * The weekly timetable (R7, R24). A file carries the whole timetable of every class it mentions
 * from `valid_from` on: slots of that version missing from the file are removed, and an earlier
 * version still open at that date is closed the day before (the past is never rewritten).
 * Nobody is in two places at once: a teacher has one lesson per weekday+lesson number, and a
 * class lesson (not split into groups) is the only lesson of its class in its slot.
 */
export async function planTimetable(ctx: PlanContext, rows: ReadonlyArray<ValidRow<TimetableRow>>): Promise<Plan> {
  const { db, schoolId } = ctx;
  const { TimetableSlot } = db.models;
  const [refs, slots, defaultFrom] = await Promise.all([
    loadRefs(ctx),
    TimetableSlot.find(
      { schoolId },
      { classId: 1, groupId: 1, subjectId: 1, teacherId: 1, weekday: 1, lessonNo: 1, room: 1, validFrom: 1, validTo: 1 },
    ).lean(),
    currentYearStart(ctx),
  ]);
  const errors = new ErrorList();
  const wanted: SlotRow[] = [];
  for (const { rowNo, data } of rows) {
    const ids = resolve(refs, errors, rowNo, data);
    const validFrom = data.valid_from ?? defaultFrom;
    if (data.valid_to && data.valid_to < validFrom) errors.add(rowNo, 'valid_to', 'import.errors.dateOrder');
    if (!ids) continue;
    wanted.push({
      rowNo,
      ids,
      weekday: data.weekday,
      lessonNo: data.lesson_no,
      room: data.room,
      validFrom,
      validTo: data.valid_to ?? null,
      teacherExt: data.teacher_id,
    });
  }
  const slotKey = (s: { classId: unknown; groupId?: unknown; weekday: number; lessonNo: number; validFrom: string }) =>
    `${String(s.classId)}|${s.groupId ? String(s.groupId) : ''}|${s.weekday}|${s.lessonNo}|${s.validFrom}`;

  // Clashes inside the file.
  const byTime = new Map<string, SlotRow[]>();
  const seenKeys = new Map<string, number>();
  for (const s of wanted) {
    const key = slotKey({ ...s.ids, weekday: s.weekday, lessonNo: s.lessonNo, validFrom: s.validFrom });
    const dup = seenKeys.get(key);
    if (dup !== undefined) {
      errors.add(s.rowNo, 'lesson_no', 'import.errors.duplicateRow', { row: dup });
      continue;
    }
    seenKeys.set(key, s.rowNo);
    const time = `${s.weekday}|${s.lessonNo}`;
    const same = byTime.get(time) ?? [];
    for (const other of same) {
      if (!overlaps(s.validFrom, s.validTo, other.validFrom, other.validTo)) continue;
      if (String(other.ids.teacherId) === String(s.ids.teacherId)) {
        errors.add(s.rowNo, 'teacher_id', 'import.errors.teacherBusy', { id: s.teacherExt, row: other.rowNo });
      } else if (
        String(other.ids.classId) === String(s.ids.classId) &&
        (other.ids.groupId === null || s.ids.groupId === null)
      ) {
        errors.add(s.rowNo, 'lesson_no', 'import.errors.slotTaken', { row: other.rowNo });
      }
    }
    same.push(s);
    byTime.set(time, same);
  }

  // Clashes with the timetable of classes this file does not touch.
  const classesInFile = new Set(wanted.map((s) => String(s.ids.classId)));
  const busy = new Map<string, Array<(typeof slots)[number]>>();
  for (const slot of slots) {
    if (classesInFile.has(String(slot.classId))) continue;
    const key = `${String(slot.teacherId)}|${slot.weekday}|${slot.lessonNo}`;
    busy.set(key, [...(busy.get(key) ?? []), slot]);
  }
  for (const s of wanted) {
    const clash = (busy.get(`${String(s.ids.teacherId)}|${s.weekday}|${s.lessonNo}`) ?? []).find((slot) =>
      overlaps(s.validFrom, s.validTo, slot.validFrom, slot.validTo),
    );
    if (clash) {
      const className = refs.classById.get(String(clash.classId))?.name ?? '?';
      errors.add(s.rowNo, 'teacher_id', 'import.errors.teacherBusyElsewhere', { id: s.teacherExt, className });
    }
  }
  const counts = { timetable: newCounts() };
  if (errors.items.length > 0) return { errors: errors.items, counts, write: async () => {} };

  // Plan: upsert the file's slots, close earlier versions, remove what the file dropped.
  const existing = new Map(slots.map((s) => [slotKey(s), s]));
  const ops: WriteOp[] = [];
  const wantedKeys = new Set<string>();
  for (const s of wanted) {
    const key = slotKey({ ...s.ids, weekday: s.weekday, lessonNo: s.lessonNo, validFrom: s.validFrom });
    wantedKeys.add(key);
    const current = existing.get(key);
    const fields = { subjectId: s.ids.subjectId, teacherId: s.ids.teacherId, room: s.room, validTo: s.validTo };
    const same =
      current &&
      sameValue(current.subjectId, fields.subjectId) &&
      sameValue(current.teacherId, fields.teacherId) &&
      sameValue(current.room, fields.room) &&
      sameValue(current.validTo, fields.validTo);
    if (same) {
      counts.timetable.unchanged++;
      continue;
    }
    if (current) counts.timetable.updated++;
    else counts.timetable.created++;
    const update: Record<string, unknown> = {
      $set: { subjectId: fields.subjectId, teacherId: fields.teacherId, validTo: fields.validTo, updatedAt: ctx.now },
      $setOnInsert: { createdAt: ctx.now },
    };
    if (s.room) (update['$set'] as Record<string, unknown>)['room'] = s.room;
    else update['$unset'] = { room: '' };
    ops.push({
      updateOne: {
        filter: {
          schoolId,
          classId: s.ids.classId,
          groupId: s.ids.groupId,
          weekday: s.weekday,
          lessonNo: s.lessonNo,
          validFrom: s.validFrom,
        },
        update,
        upsert: true,
      },
    });
  }
  const firstFrom = new Map<string, string>();
  for (const s of wanted) {
    const c = String(s.ids.classId);
    const f = firstFrom.get(c);
    if (!f || s.validFrom < f) firstFrom.set(c, s.validFrom);
  }
  const stale: Types.ObjectId[] = [];
  for (const slot of slots) {
    const from = firstFrom.get(String(slot.classId));
    if (!from || wantedKeys.has(slotKey(slot))) continue;
    if (slot.validFrom >= from) stale.push(slot._id);
    else if (!slot.validTo || slot.validTo >= from) {
      counts.timetable.updated++;
      ops.push({
        updateOne: { filter: { _id: slot._id, schoolId }, update: { $set: { validTo: addDays(from, -1), updatedAt: ctx.now } } },
      });
    }
  }
  if (stale.length > 0) counts.timetable.removed = stale.length;
  return {
    errors: [],
    counts,
    write: async () => {
      if (ops.length > 0) await TimetableSlot.collection.bulkWrite(ops, { ordered: false });
      if (stale.length > 0) await TimetableSlot.deleteMany({ schoolId, _id: { $in: stale } });
    },
  };
}
