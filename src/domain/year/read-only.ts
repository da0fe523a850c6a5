import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { LocalDate } from '../shared/calendar.js';
import { DomainError } from '../shared/errors.js';

/**
 * A closed year is read-only (R30, R31): once its status is 'archived' no lesson dated inside it,
 * nor its marks, attendance, homework, topics or period marks, may change. Each journal write path
 * asks here once (lesson-access.ts assertCanEditLesson, lessons.ts cancelLesson, period-mark-store.ts).
 */
type Id = Types.ObjectId | string;

/** The closed year containing `date`, if any. */
export async function archivedYearOn(db: Db, schoolId: Id, date: LocalDate): Promise<{ name: string } | undefined> {
  const year = await db.models.AcademicYear.findOne(
    { schoolId, status: 'archived', startsOn: { $lte: date }, endsOn: { $gte: date } },
    { name: 1 },
  ).lean();
  return year ? { name: year.name } : undefined;
}

/** Refuses a write into a lesson (or anything dated) inside a closed year: DomainError('year.readOnly'). */
export async function assertDateWritable(db: Db, schoolId: Id, date: LocalDate): Promise<void> {
  const year = await archivedYearOn(db, schoolId, date);
  if (year) throw new DomainError('year.readOnly', { name: year.name });
}

/** Refuses a write of a period or year mark of a closed year. */
export async function assertYearWritable(db: Db, schoolId: Id, yearId: Id): Promise<void> {
  const year = await db.models.AcademicYear.findOne({ _id: yearId, schoolId, status: 'archived' }, { name: 1 }).lean();
  if (year) throw new DomainError('year.readOnly', { name: year.name });
}
