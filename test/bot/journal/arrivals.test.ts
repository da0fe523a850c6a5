import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrivalValueCb } from '../../../src/bot/callbacks/journal.js';
import type { Db } from '../../../src/db/index.js';
import { createTestApp, type TestApp } from '../../support/harness.js';
import { bindTelegram, buildJournalSchool, type JournalFixture } from '../../support/journal-fixtures.js';
import type { TestUser } from '../../support/users.js';

/**
 * /arrivals (R18): the class teacher enters the period marks of a student who arrived mid-year,
 * from the previous school's report, within 3 days of enrolment — through the buttons, end to end.
 * The clock is Monday 2026-11-23, 12:00 in Moscow.
 */
let t: TestApp;
let f: JournalFixture;
let ct: TestUser;
let yearId: Types.ObjectId;
let newcomer: Types.ObjectId; // arrived yesterday
let late: Types.ObjectId; // arrived 5 days ago
const db = (): Db => t.app.db;
const short = (id: Types.ObjectId) => Buffer.from(String(id), 'hex').toString('base64url');

beforeAll(async () => {
  t = await createTestApp();
  f = await buildJournalSchool(t.app.db);
  yearId = (
    await db().models.AcademicYear.create({
      schoolId: f.schoolId,
      name: '2026/2027',
      startsOn: '2026-09-01',
      endsOn: '2027-05-31',
      periods: [
        { code: 'q1', kind: 'quarter', startsOn: '2026-09-01', endsOn: '2026-10-26' },
        { code: 'q2', kind: 'quarter', startsOn: '2026-11-05', endsOn: '2026-12-28' },
        { code: 'q3', kind: 'quarter', startsOn: '2027-01-12', endsOn: '2027-03-22' },
        { code: 'year', kind: 'year', startsOn: '2026-09-01', endsOn: '2027-05-31' },
      ],
    })
  )._id;
  newcomer = f.class7.studentIds[29] as Types.ObjectId;
  late = f.class7.studentIds[28] as Types.ObjectId;
  await db().models.Person.updateOne({ _id: newcomer }, { $set: { 'student.enrolledOn': '2026-11-22' } });
  await db().models.Person.updateOne({ _id: late }, { $set: { 'student.enrolledOn': '2026-11-18' } });
  // Another class's newcomer: not this class teacher's to see.
  await db().models.Person.updateOne({ _id: f.class8.studentIds[0] }, { $set: { 'student.enrolledOn': '2026-11-22' } });
  ct = t.world.user({ firstName: 'Мария', languageCode: 'ru' });
  await bindTelegram(db(), f.classTeacherId, ct.id);
});

afterAll(async () => {
  await t?.close();
});

describe('/arrivals: period marks from the previous school (R18)', () => {
  it('the class teacher enters a quarter mark of a student who arrived yesterday, through the buttons', async () => {
    await ct.send('/arrivals');
    expect(ct.lastText()).toContain('Прибывшие ученики');
    // Only the class's own arrival within 3 days: not the one of 5 days ago, not 8А's.
    expect(ct.buttons()).toEqual(['7Б · Ученик30 Имя30 · 22.11']);

    await ct.press('7Б · Ученик30 Имя30 · 22.11');
    expect(ct.lastText()).toContain('Дата зачисления: 22.11.2026. Оценки можно внести до 25.11.2026 включительно.');
    // Periods begun; not q3 (not started), not the year's own mark.
    expect(ct.buttons()).toEqual(['1-я четверть', '2-я четверть', '« К списку']);

    await ct.press('1-я четверть');
    expect(ct.buttons()).toEqual(['Математика', 'Русский язык', '« Периоды', '« К списку']);
    await ct.press('Математика');
    expect(ct.lastText()).toContain('Предмет: Математика');
    expect(ct.buttons()).toEqual(['2', '3', '4', '5', 'Н', 'Б', 'У', '« Предметы']);

    const answer = await ct.press('4');
    expect(answer?.text).toBe('Сохранено: 4');
    expect(ct.lastText()).toContain('✅ Сохранено: Математика — 4 (1-я четверть).');
    expect(ct.buttons()).toEqual(['➡️ Следующий предмет: Русский язык', 'Математика · 4', 'Русский язык', '« Периоды', '« К списку']);

    const pm = await db().models.PeriodMark.findOne({ studentId: newcomer }).lean();
    expect([pm?.value, pm?.source, pm?.periodCode, String(pm?.subjectId), String(pm?.yearId)]).toEqual([
      '4',
      'transfer',
      'q1',
      String(f.mathId),
      String(yearId),
    ]);
    expect(String(pm?.setBy)).toBe(String(f.classTeacherId));
    const audit = await db().models.AuditEntry.find({ action: 'periodMark.set', studentId: newcomer }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]?.after).toMatchObject({ value: '4', source: 'transfer', periodCode: 'q1' });

    // "Next subject" goes straight to the marks of Russian.
    await ct.press('➡️ Следующий предмет: Русский язык');
    expect(ct.lastText()).toContain('Предмет: Русский язык');
    expect(ct.buttons()).toContain('5');
  });

  it('a student who arrived 5 days ago: the bot refuses with the localized message and writes nothing', async () => {
    // The screen was opened two days ago (3 days after enrolment, still in time) …
    t.clock.set('2026-11-21T09:00:00Z');
    try {
      await ct.send('/arrivals');
      expect(ct.buttons()).toContain('7Б · Ученик29 Имя29 · 18.11');
      await ct.press('7Б · Ученик29 Имя29 · 18.11');
      await ct.press('2-я четверть');
      await ct.press('Русский язык');
    } finally {
      t.clock.set('2026-11-23T09:00:00Z');
    }
    // … and the mark is tapped today, 5 days after enrolment.
    const before = await db().models.AuditEntry.countDocuments({});
    const answer = await ct.press('5');
    expect(answer?.show_alert).toBe(true);
    expect(answer?.text).toContain('Оценки из прежней школы вносятся в течение 3 дн. после зачисления (до 21.11.2026)');
    expect(await db().models.PeriodMark.countDocuments({ studentId: late })).toBe(0);
    expect(await db().models.AuditEntry.countDocuments({})).toBe(before);
    // And today the list no longer offers them.
    await ct.send('/arrivals');
    expect(ct.buttons()).toEqual(['7Б · Ученик30 Имя30 · 22.11']);
  });

  it('a parent pressing a forged /arrivals button is refused, and nothing is written', async () => {
    const parentId = (
      await db().models.Person.create({ schoolId: f.schoolId, externalId: 'p-newcomer', lastName: 'Родителева', firstName: 'Ольга', roles: ['parent'] })
    )._id;
    await db().models.Guardianship.create({ schoolId: f.schoolId, parentId, studentId: newcomer });
    const parent = t.world.user({ firstName: 'Ольга', languageCode: 'ru' });
    await bindTelegram(db(), parentId, parent.id);
    await parent.send('/arrivals');
    expect(parent.lastText()).toBe('У вас нет доступа к этому.');
    const before = await db().models.PeriodMark.countDocuments({});
    const forged = arrivalValueCb.pack({ s: short(newcomer), y: short(yearId), p: 1, j: short(f.russianId), v: '5' });
    const answer = await parent.pressData(forged);
    expect(answer?.show_alert).toBe(true);
    expect(answer?.text).toBe('У вас нет доступа к этому.');
    expect(await db().models.PeriodMark.countDocuments({})).toBe(before);
    expect(await db().models.PeriodMark.countDocuments({ studentId: newcomer, periodCode: 'q2' })).toBe(0);
    expect(parent.messages().map((m) => m.content).join('\n')).not.toContain('Ученик30');
  });

  it('every button fits in 64 bytes', () => {
    const data = arrivalValueCb.pack({ s: short(newcomer), y: short(yearId), p: 30, j: short(f.russianId), v: 'Н' });
    expect(Buffer.byteLength(data, 'utf8')).toBeLessThanOrEqual(64);
    expect(arrivalValueCb.unpack(data)).toMatchObject({ v: 'Н', p: 30 });
  });
});
