import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { DomainError } from '../../../src/domain/shared/errors.js';
import { type Actor, systemActor } from '../../../src/domain/school/actor.js';
import { academicYearFor } from '../../../src/domain/school/academic-year.js';
import { loadSchoolRules, updateSchoolSettings } from '../../../src/domain/school/rules.js';
import { createSchool, getSchool, isValidTimeZone, listSchools } from '../../../src/domain/school/schools.js';
import { testMongoUri } from '../../support/db.js';

let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('schools'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

describe('the academic calendar', () => {
  it('a school year runs 1 Sep – 31 May in four quarters with holidays between', () => {
    const y = academicYearFor('2026-11-23');
    expect(y.name).toBe('2026/2027');
    expect(y.periods).toEqual([
      { code: 'q1', kind: 'quarter', startsOn: '2026-09-01', endsOn: '2026-10-26' },
      { code: 'q2', kind: 'quarter', startsOn: '2026-11-05', endsOn: '2026-12-28' },
      { code: 'q3', kind: 'quarter', startsOn: '2027-01-12', endsOn: '2027-03-22' },
      { code: 'q4', kind: 'quarter', startsOn: '2027-04-01', endsOn: '2027-05-31' },
      { code: 'year', kind: 'year', startsOn: '2026-09-01', endsOn: '2027-05-31' },
    ]);
    // Holidays fall between the quarters, never inside one.
    for (const h of y.holidays) {
      for (const q of y.periods.filter((p) => p.kind === 'quarter')) {
        expect(h.endsOn < q.startsOn || h.startsOn > q.endsOn).toBe(true);
      }
    }
    expect(academicYearFor('2027-03-01').name).toBe('2026/2027');
    expect(academicYearFor('2027-06-15').name).toBe('2027/2028'); // summer: the coming year
    expect(academicYearFor('2026-11-23', 'en').holidays[0]?.name).toBe('Autumn holidays');
  });

  it('validates IANA zones', () => {
    expect(isValidTimeZone('Europe/Moscow')).toBe(true);
    expect(isValidTimeZone('Asia/Vladivostok')).toBe(true);
    expect(isValidTimeZone('Moscow')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});

describe('createSchool', () => {
  it('creates the school with default settings and its current year (in the school’s time zone)', async () => {
    // 31 May 22:00 UTC is already 1 June in Vladivostok: the coming year.
    const school = await createSchool(db, {
      name: '  Лицей   №2 ',
      timezone: 'Asia/Vladivostok',
      now: new Date('2027-05-31T22:00:00Z'),
    });
    expect(school.name).toBe('Лицей №2');
    expect(school.locale).toBe('ru');
    expect(school.settings?.lockAfterDays).toBe(7);
    expect(school.settings?.workKinds?.length).toBeGreaterThan(0);
    const years = await db.models.AcademicYear.find({ schoolId: school._id }).lean();
    expect(years.map((y) => y.name)).toEqual(['2027/2028']);
    expect((await getSchool(db, String(school._id)))?.name).toBe('Лицей №2');
    expect(await getSchool(db, 'not-an-id')).toBeUndefined();
    expect((await listSchools(db)).map((s) => String(s._id))).toContain(String(school._id));
  });

  it('refuses a bad time zone or an empty name and leaves nothing behind', async () => {
    const before = await db.models.School.countDocuments();
    await expect(createSchool(db, { name: 'X', timezone: 'Mars/Olympus', now: new Date() })).rejects.toMatchObject({
      key: 'cli.errors.badTimezone',
    });
    await expect(createSchool(db, { name: '   ', timezone: 'Europe/Moscow', now: new Date() })).rejects.toBeInstanceOf(
      DomainError,
    );
    expect(await db.models.School.countDocuments()).toBe(before);
  });
});

describe('school settings (R13–R15)', () => {
  it('the admin changes them, audited; the journal’s rules see the change at once; others are refused', async () => {
    const now = new Date('2026-11-23T09:00:00Z');
    const school = await createSchool(db, { name: 'Школа настроек', timezone: 'Europe/Moscow', now });
    const operator = systemActor(school._id, 'cli');
    expect((await loadSchoolRules(db, school._id)).lockAfterDays).toBe(7); // read (and cached) before the change
    const res = await updateSchoolSettings(db, operator, { lockAfterDays: 3, markGraceMinutes: 0 }, now);
    expect(res.changed.sort()).toEqual(['lockAfterDays', 'markGraceMinutes']);
    expect((await loadSchoolRules(db, school._id)).lockAfterDays).toBe(3);
    const audit = await db.models.AuditEntry.findOne({ schoolId: school._id, action: 'school.settings' }).lean();
    expect(audit?.before).toEqual({ lockAfterDays: 7, markGraceMinutes: 5 });
    expect(audit?.after).toEqual({ lockAfterDays: 3, markGraceMinutes: 0 });

    const teacher = { ...operator, roles: new Set(['teacher'] as const) } as unknown as Actor;
    await expect(updateSchoolSettings(db, teacher, { lockAfterDays: 30 }, now)).rejects.toMatchObject({ key: 'errors.forbidden' });
    await expect(updateSchoolSettings(db, operator, { lockAfterDays: 0 }, now)).rejects.toMatchObject({ key: 'settings.invalid' });
    await expect(updateSchoolSettings(db, operator, { botKey: 'other' }, now)).rejects.toMatchObject({ key: 'settings.invalid' });
    expect((await db.models.School.findById(school._id).lean())?.settings?.lockAfterDays).toBe(3);
  });
});
