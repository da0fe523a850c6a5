import { Types } from 'mongoose';
import { STAFF_ROLES } from '../shared/vocabulary.js';
import { diffFields, ErrorList, findDuplicates, newCounts, upsertOp } from './common.js';
import type { Plan, PlanContext, ValidRow, WriteOp } from './common.js';
import type { StaffRow } from './rows.js';

const isStaffRole = (r: string) => (STAFF_ROLES as readonly string[]).includes(r);

/**
 * The staff list (R5): names, roles (R1), phone, working or not. The file's roles replace the
 * person's staff roles; parent/student roles of the same person (a teacher who is also a parent)
 * are kept.
 */
export async function planStaff(ctx: PlanContext, rows: ReadonlyArray<ValidRow<StaffRow>>): Promise<Plan> {
  const { db, schoolId, present } = ctx;
  const { Person } = db.models;
  const persons = await Person.find(
    { schoolId },
    { externalId: 1, lastName: 1, firstName: 1, middleName: 1, roles: 1, phone: 1, active: 1 },
  ).lean();
  const personByExt = new Map(persons.map((p) => [p.externalId, p]));
  const errors = new ErrorList();
  findDuplicates(rows, (r) => r.staff_id, 'staff_id', errors);
  for (const { rowNo, data } of rows) {
    if (personByExt.get(data.staff_id)?.roles.includes('student')) {
      errors.add(rowNo, 'staff_id', 'import.errors.idTaken', { id: data.staff_id });
    }
  }
  checkAdmins(ctx, rows, persons, errors);
  const counts = { staff: newCounts() };
  if (errors.items.length > 0) return { errors: errors.items, counts, write: async () => {} };

  const ops: WriteOp[] = [];
  for (const { data } of rows) {
    const existing = personByExt.get(data.staff_id);
    const kept = (existing?.roles ?? []).filter((r) => !isStaffRole(r));
    const wanted: Record<string, unknown> = {
      lastName: data.last_name,
      firstName: data.first_name,
      roles: [...data.roles, ...kept],
    };
    if (present.has('middle_name')) wanted['middleName'] = data.middle_name;
    if (present.has('phone')) wanted['phone'] = data.phone;
    if (present.has('active') || !existing) wanted['active'] = data.active ?? true;
    const diff = diffFields(existing, wanted, ['roles']);
    const filter = { schoolId, externalId: data.staff_id };
    if (!existing) {
      counts.staff.created++;
      ops.push(upsertOp(filter, diff, ctx.now, { _id: new Types.ObjectId() }));
    } else if (diff.changed) {
      counts.staff.updated++;
      ops.push(upsertOp(filter, diff, ctx.now));
    } else counts.staff.unchanged++;
  }
  return {
    errors: [],
    counts,
    write: async () => {
      if (ops.length > 0) await Person.collection.bulkWrite(ops, { ordered: false });
    },
  };
}

type StaffPerson = { _id: Types.ObjectId; externalId?: string | null; roles: string[]; active?: boolean | null };

/**
 * A staff file must not lock the school out of its own bot: the admin who imports it cannot take
 * their own admin role away (or mark themself as not working), and at least one working admin
 * must remain. Either is reported on the row that would do it; nothing is written.
 */
function checkAdmins(ctx: PlanContext, rows: ReadonlyArray<ValidRow<StaffRow>>, persons: StaffPerson[], errors: ErrorList): void {
  const byExt = new Map(persons.map((p) => [p.externalId, p]));
  const isWorkingAdmin = (p: { roles: readonly string[]; active?: boolean | null }) => p.roles.includes('admin') && p.active !== false;
  const admins = new Set(persons.filter(isWorkingAdmin).map((p) => String(p._id)));
  let lastDemotion: ValidRow<StaffRow> | undefined;
  for (const row of rows) {
    const existing = byExt.get(row.data.staff_id);
    const active = ctx.present.has('active') || !existing ? (row.data.active ?? true) : existing.active !== false;
    const adminAfter = row.data.roles.includes('admin') && active;
    if (existing && admins.has(String(existing._id)) && !adminAfter) {
      admins.delete(String(existing._id));
      lastDemotion = row;
      if (ctx.byPersonId && String(ctx.byPersonId) === String(existing._id)) {
        errors.add(row.rowNo, row.data.roles.includes('admin') ? 'active' : 'roles', 'import.errors.selfAdmin');
      }
    }
    if (adminAfter && existing) admins.add(String(existing._id));
    if (adminAfter && !existing) admins.add(`new:${row.data.staff_id}`);
  }
  if (admins.size === 0 && lastDemotion) errors.add(lastDemotion.rowNo, 'roles', 'import.errors.lastAdmin');
}
