import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { classOutcomes, cycleOutcome, importOutcomes, toggleRetake } from '../../../src/domain/year/outcomes.js';
import { testMongoUri } from '../../support/db.js';
import { refusal } from '../../support/refusal.js';
import { actorFor, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';

/** R5: the secretary records each student's outcome: a class list, promoted by default, one tap to change, or a file. */
const JUNE = new Date('2027-05-25T09:00:00Z');
let conn: Connection;
let db: Db;
let f: JournalFixture;
let secretary: Actor;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('outcomes'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students7: 3, students8: 2 });
  await db.models.AcademicYear.create({ schoolId: f.schoolId, name: '2026/2027', startsOn: '2026-09-01', endsOn: '2027-05-31' });
  const id = (await db.models.Person.create({ schoolId: f.schoolId, externalId: 'sec', lastName: 'Секретарёва', firstName: 'Инна', roles: ['secretary'] }))._id;
  secretary = await actorFor(db, id);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('student outcomes (R5)', () => {
  it('the class list: everyone promoted by default; teachers may not see or set it', async () => {
    const view = await classOutcomes(db, secretary, String(f.class7.id), JUNE);
    expect(view.students.map((s) => `${s.outcome}:${s.isDefault}`)).toEqual(['promoted:true', 'promoted:true', 'promoted:true']);
    expect(view.subjects.map((s) => s.name)).toEqual(['Математика', 'Русский язык']);
    const teacher = await actorFor(db, f.teacherId);
    expect(await refusal(classOutcomes(db, teacher, String(f.class7.id), JUNE))).toBe('errors.forbidden');
  });

  it('one tap cycles the outcome; conditional takes the subjects to retake; audited', async () => {
    const student = String(f.class7.studentIds[0]);
    expect((await cycleOutcome(db, secretary, String(f.class7.id), student, JUNE)).outcome).toBe('conditional');
    const after = await toggleRetake(db, secretary, String(f.class7.id), student, String(f.mathId), JUNE);
    expect(after.retakeSubjectIds).toEqual([String(f.mathId)]);
    const view = await classOutcomes(db, secretary, String(f.class7.id), JUNE);
    expect(view.students[0]).toMatchObject({ outcome: 'conditional', retakeSubjectIds: [String(f.mathId)], isDefault: false });
    expect((await cycleOutcome(db, secretary, String(f.class7.id), student, JUNE)).outcome).toBe('repeating');
    // Retakes only belong to a conditional promotion.
    expect(await refusal(toggleRetake(db, secretary, String(f.class7.id), student, String(f.mathId), JUNE))).toBe('yearEnd.stale');
    const audit = await db.models.AuditEntry.find({ action: 'outcome.set' }).lean();
    expect(audit.map((a) => (a.after as { outcome: string }).outcome)).toEqual(['conditional', 'conditional', 'repeating']);
  });

  it('a file is all or nothing: one bad row and nothing is written, with every row error', async () => {
    const bad = await importOutcomes(
      db,
      secretary,
      [
        { 'код ученика': '7b-s02', решение: 'отчислен' },
        { 'код ученика': 'nobody', решение: 'переведен' },
        { 'код ученика': '8a-s01', решение: 'условно', пересдача: 'Химия' },
        { 'код ученика': '8a-s02', решение: 'как-нибудь' },
      ],
      JUNE,
    );
    expect(bad.errors.map((e) => `${e.row}:${e.key}`)).toEqual(['3:yearEnd.file.unknownStudent', '4:yearEnd.file.unknownSubject', '5:yearEnd.badOutcome']);
    expect(await db.models.StudentOutcome.countDocuments({ studentId: f.class7.studentIds[1] })).toBe(0);
    const good = await importOutcomes(
      db,
      secretary,
      [
        { 'код ученика': '7b-s02', решение: 'отчислен' },
        { 'код ученика': '8a-s01', решение: 'условно переведён', пересдача: 'math; Русский язык' },
      ],
      JUNE,
    );
    expect(good).toMatchObject({ errors: [], written: 2 });
    const o = await db.models.StudentOutcome.findOne({ studentId: f.class8.studentIds[0] }).lean();
    expect(o).toMatchObject({ outcome: 'conditional', byDefault: false });
    expect(o?.retakeSubjectIds.map(String).sort()).toEqual([String(f.mathId), String(f.russianId)].sort());
  });
});
