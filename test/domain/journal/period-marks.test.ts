import type { Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { acceptSuggestions, type PeriodRef, periodMarkSheet, setPeriodMarks } from '../../../src/domain/journal/period-marks.js';
import type { Actor } from '../../../src/domain/school/actor.js';
import { changeMarkWindow, markWindowOf } from '../../../src/domain/school/mark-windows.js';
import { updateSchoolSettings } from '../../../src/domain/school/rules.js';
import { AccessDenied, DomainError } from '../../../src/domain/shared/errors.js';
import { testMongoUri } from '../../support/db.js';
import { refusal } from '../../support/refusal.js';
import { actorFor, addSchoolYear, buildJournalSchool, type JournalFixture, lessonOn } from '../../support/journal-fixtures.js';

// Moscow noon of a date.
const at = (date: string) => new Date(`${date}T09:00:00Z`);
let conn: Connection;
let db: Db;
let f: JournalFixture;
let teacher: Actor;
let other: Actor;
let deputy: Actor;
let admin: Actor;
let yearId: Types.ObjectId;
let q2: PeriodRef;


/** A current mark as the journal stores it (value, the kind's weight at the time). */
async function mark(student: number, date: string, value: 2 | 3 | 4 | 5, weight = 1) {
  const lessonId = await lessonOn(db, f, f.mathSlot7, date);
  await db.models.Mark.create({
    schoolId: f.schoolId,
    lessonId,
    studentId: f.class7.studentIds[student],
    subjectId: f.mathId,
    classId: f.class7.id,
    date,
    value,
    workKind: weight === 2 ? 'control' : 'classwork',
    weight,
    teacherId: f.teacherId,
  });
}

async function absent(student: number, date: string, code: 'Н' | 'Б' | 'У') {
  const lessonId = await lessonOn(db, f, f.mathSlot7, date);
  await db.models.Absence.create({
    schoolId: f.schoolId,
    lessonId,
    studentId: f.class7.studentIds[student],
    classId: f.class7.id,
    date,
    code,
  });
}

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('period_marks'));
  db = await createDb(conn);
  f = await buildJournalSchool(db, { students8: 3 });
  yearId = await addSchoolYear(db, f);
  teacher = await actorFor(db, f.teacherId);
  other = await actorFor(db, f.otherTeacherId);
  deputy = await actorFor(db, f.deputyId);
  admin = await actorFor(db, f.adminId);
  q2 = { classId: String(f.class7.id), subjectId: String(f.mathId), yearId: String(yearId), periodCode: 'q2' };
  // Student 0: 5, control 4 (weight 2), 3 → (5 + 8 + 3) / 4 = 4.00 → 4.
  await mark(0, '2026-11-09', 5);
  await mark(0, '2026-11-10', 4, 2);
  await mark(0, '2026-11-11', 3);
  // Student 1: two marks, three lessons missed for illness, one unexcused → Б.
  await mark(1, '2026-11-09', 5);
  await mark(1, '2026-11-10', 5);
  for (const d of ['2026-11-12', '2026-11-13', '2026-11-14']) await absent(1, d, 'Б');
  await absent(1, '2026-11-16', 'Н');
  // Student 2: 3, 4, 4 → 3.67 → 4 (3, 4, 3 would be 3.33 → 3). A mark of q1 does not count in q2.
  await mark(2, '2026-11-09', 3);
  await mark(2, '2026-11-10', 4);
  await mark(2, '2026-11-11', 4);
  await mark(2, '2026-10-01', 2);
});

afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('period marks (R15–R17, R7)', () => {
  it('the window opens by itself in the last week of the period (R15)', () => {
    expect(markWindowOf({ endsOn: '2026-12-28' }, 7)).toEqual({ opensOn: '2026-12-22', closesOn: '2026-12-28', source: 'default' });
  });

  it('the sheet: weighted average of the period, marks, absences and the suggested mark per student', async () => {
    const sheet = await periodMarkSheet(db, teacher, q2, at('2026-12-23'));
    expect(sheet.window.state).toBe('open');
    expect(sheet.edit).toBe('teacher');
    const [s0, s1, s2, s3] = sheet.rows;
    expect(s0).toMatchObject({ average: 4, marks: 3, suggested: '4' });
    expect(s1).toMatchObject({ average: 5, marks: 2, absences: { Н: 1, Б: 3, У: 0 }, suggested: 'Б' });
    expect(s2).toMatchObject({ average: 3.67, marks: 3, suggested: '4' });
    expect(s3?.suggested).toBeUndefined();
    expect(sheet.rows).toHaveLength(30);
  });

  it('the school changes its assessment rule (R17): with a threshold of 0.7, 3.67 is suggested as a 3', async () => {
    await updateSchoolSettings(db, admin, { assessment: { roundFrom: 0.7 } }, at('2026-12-23'));
    try {
      const sheet = await periodMarkSheet(db, teacher, q2, at('2026-12-23'));
      expect(sheet.rows[2]).toMatchObject({ average: 3.67, suggested: '3' });
      expect(sheet.rows[0]).toMatchObject({ average: 4, suggested: '4' });
    } finally {
      await updateSchoolSettings(db, admin, { assessment: { roundFrom: 0.5 } }, at('2026-12-23'));
    }
    const school = await db.models.School.findById(f.schoolId).lean();
    expect(school?.settings?.assessment).toMatchObject({ roundFrom: 0.5, minMarks: 3 });
  });

  it('before the window a teacher is refused with the dates and who can help', async () => {
    const err = await periodMarkSheet(db, teacher, q2, at('2026-12-01')).then(() =>
      setPeriodMarks(db, teacher, q2, [{ studentId: String(f.class7.studentIds[0]), value: '4' }], {}, at('2026-12-01')).catch((e) => e),
    );
    expect(err).toBeInstanceOf(DomainError);
    expect(err.key).toBe('periodMarks.notYetOpen');
    expect(err.vars.helpers).toContain('Админова');
  });

  it('one tap accepts every suggestion; the average is stored with the mark; audited', async () => {
    const res = await acceptSuggestions(db, teacher, q2, {}, at('2026-12-23'));
    expect(res).toEqual({ saved: 3, unchanged: 0, withoutSuggestion: 27 });
    const saved = await db.models.PeriodMark.find({ yearId, periodCode: 'q2' }).sort({ average: 1 }).lean();
    expect(saved.map((p) => [p.value, p.average, p.source])).toEqual([
      ['4', 3.67, 'teacher'],
      ['4', 4, 'teacher'],
      ['Б', 5, 'teacher'],
    ]);
    const audit = await db.models.AuditEntry.countDocuments({ schoolId: f.schoolId, action: 'periodMark.set' });
    expect(audit).toBe(3);
    // Accepting again changes nothing.
    expect((await acceptSuggestions(db, teacher, q2, {}, at('2026-12-23'))).saved).toBe(0);
  });

  it('values are checked against the subject (R16); forged students and other teachers are refused (R4)', async () => {
    const s3 = String(f.class7.studentIds[3]);
    expect(await refusal(setPeriodMarks(db, teacher, q2, [{ studentId: s3, value: 'К' }], {}, at('2026-12-23')))).toBe('periodMarks.badValue');
    expect(await refusal(setPeriodMarks(db, teacher, q2, [{ studentId: s3, value: '4+' }], {}, at('2026-12-23')))).toBe('periodMarks.badValue');
    await expect(
      setPeriodMarks(db, teacher, q2, [{ studentId: String(f.class8.studentIds[0]), value: '4' }], {}, at('2026-12-23')),
    ).rejects.toBeInstanceOf(AccessDenied);
    await expect(setPeriodMarks(db, other, q2, [{ studentId: s3, value: '4' }], {}, at('2026-12-23'))).rejects.toBeInstanceOf(AccessDenied);
    await db.models.Subject.updateOne({ _id: f.mathId }, { $set: { assessment: 'passfail' } });
    try {
      expect(await refusal(setPeriodMarks(db, teacher, q2, [{ studentId: s3, value: '5' }], {}, at('2026-12-23')))).toBe(
        'periodMarks.badValuePassFail',
      );
    } finally {
      await db.models.Subject.updateOne({ _id: f.mathId }, { $set: { assessment: 'marks' } });
    }
  });

  it('after the window: the teacher is refused; the deputy sets a missing mark with a reason only (R7)', async () => {
    const late = at('2026-12-30');
    const s3 = String(f.class7.studentIds[3]);
    const s0 = String(f.class7.studentIds[0]);
    expect(await refusal(setPeriodMarks(db, teacher, q2, [{ studentId: s3, value: '3' }], {}, late))).toBe('periodMarks.windowClosed');
    expect(await refusal(setPeriodMarks(db, deputy, q2, [{ studentId: s3, value: '3' }], {}, late))).toBe('periodMarks.reasonRequired');
    expect(await refusal(setPeriodMarks(db, deputy, q2, [{ studentId: s0, value: '5' }], { reason: 'x' }, late))).toBe(
      'periodMarks.deputyOnlyMissing',
    );
    const res = await setPeriodMarks(db, deputy, q2, [{ studentId: s3, value: 'н' }], { reason: 'Учитель на больничном' }, late);
    expect(res.saved).toBe(1);
    const pm = await db.models.PeriodMark.findOne({ yearId, periodCode: 'q2', studentId: f.class7.studentIds[3] }).lean();
    expect([pm?.value, pm?.source]).toEqual(['Н', 'deputy']);
    const entry = await db.models.AuditEntry.findOne({ action: 'periodMark.set', reason: 'Учитель на больничном' }).lean();
    expect(entry).toBeTruthy();
  });

  it('the admin reopens the window for one class; the teacher may enter again there, not in another class', async () => {
    const late = at('2026-12-30');
    const extend = { yearId: String(yearId), periodCode: 'q2', classId: String(f.class7.id) };
    await expect(changeMarkWindow(db, teacher, { ...extend, change: { action: 'extend', until: '2027-01-15' } }, late)).rejects.toBeInstanceOf(
      AccessDenied,
    );
    const w = await changeMarkWindow(
      db,
      admin,
      { yearId: String(yearId), periodCode: 'q2', classId: String(f.class7.id), change: { action: 'extend', until: '2027-01-15' } },
      late,
    );
    expect(w).toEqual({ opensOn: '2026-12-22', closesOn: '2027-01-15', source: 'class' });
    const res = await setPeriodMarks(db, teacher, q2, [{ studentId: String(f.class7.studentIds[4]), value: '3' }], {}, late);
    expect(res.saved).toBe(1);
    const q2in8 = { ...q2, classId: String(f.class8.id) };
    expect(await refusal(setPeriodMarks(db, teacher, q2in8, [{ studentId: String(f.class8.studentIds[0]), value: '3' }], {}, late))).toBe(
      'periodMarks.windowClosed',
    );
    const audit = await db.models.AuditEntry.findOne({ action: 'year.markWindow' }).lean();
    expect(audit?.after).toMatchObject({ closesOn: '2027-01-15' });
  });

  it('the year mark is suggested from the period marks', async () => {
    const s0 = f.class7.studentIds[0];
    await db.models.PeriodMark.create({ schoolId: f.schoolId, yearId, periodCode: 'q1', studentId: s0, subjectId: f.mathId, value: '5' });
    const year = { ...q2, periodCode: 'year' };
    const sheet = await periodMarkSheet(db, teacher, year, at('2027-05-28'));
    expect(sheet.window.state).toBe('open');
    expect(sheet.rows[0]).toMatchObject({ periodValues: ['5', '4'], average: 4.5, suggested: '5' });
  });
});
