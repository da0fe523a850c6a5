/**
 * The office's API (issue 15): /app/api/office/* and /app/api/reports/* against the real web server and
 * the test database, with init data signed as Telegram signs it; each role allowed and refused.
 */
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiError,
  MeResponse,
  OfficeMoveResponse,
  OfficeResponse,
  OfficeSettingsResponse,
  OfficeSlot,
  OfficeStudent,
  OfficeSubstitution,
  ReportOptionsResponse,
  ReportResponse,
} from '../../src/web/api-types.js';
import { signInitData } from '../../src/web/init-data.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/harness.js';
import { addSchoolYear, bindTelegram, buildJournalSchool, type JournalFixture } from '../support/journal-fixtures.js';

const ADMIN = 9_101;
const DEPUTY = 9_102;
const SECRETARY = 9_103;
const CLASS_TEACHER = 9_104;
const TEACHER = 9_105;
const SPARE = 9_106;
const FOREIGN_ADMIN = 9_107;

describe('Mini App office API', () => {
  let t: TestApp;
  let f: JournalFixture;
  let foreign: JournalFixture;

  beforeAll(async () => {
    t = await createTestApp({ web: true });
    const db = t.app.db;
    f = await buildJournalSchool(db, { students7: 4, students8: 3 });
    await addSchoolYear(db, f);
    foreign = await buildJournalSchool(db, { tag: 'of-', students7: 1, students8: 1 });
    await addSchoolYear(db, foreign);
    const sec = await db.models.Person.create({ schoolId: f.schoolId, externalId: 'sec', lastName: 'Секретарёва', firstName: 'Ольга', roles: ['secretary'] });
    for (const [id, tg] of [
      [f.adminId, ADMIN],
      [f.deputyId, DEPUTY],
      [sec._id, SECRETARY],
      [f.classTeacherId, CLASS_TEACHER],
      [f.teacherId, TEACHER],
      [f.spareTeacherId, SPARE],
      [foreign.adminId, FOREIGN_ADMIN],
    ] as Array<[Types.ObjectId, number]>) {
      await bindTelegram(db, id, tg);
    }
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const auth = (telegramId: number) => `tma ${signInitData(TEST_TOKEN, { id: telegramId, first_name: 'Test', language_code: 'ru' })}`;
  async function call<T>(path: string, who: number, init: { method?: string; body?: unknown } = {}) {
    const res = await fetch(`${t.app.web?.url}/app/api${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', authorization: auth(who) },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  it('/me says who leads a class; GET /office for the office only', async () => {
    expect((await call<MeResponse>('/me', CLASS_TEACHER)).body.classTeacherOf).toEqual([String(f.class7.id)]);
    expect((await call<MeResponse>('/me', TEACHER)).body.classTeacherOf).toEqual([]);
    const office = await call<OfficeResponse>('/office', SECRETARY);
    expect(office.status).toBe(200);
    expect(office.body.can).toEqual({ settings: false, calendar: false, substitutions: false, grants: false, moves: true, workKinds: false });
    expect(office.body.classes.map((c) => c.name)).toEqual(['7Б', '8А']);
    expect(office.body.year?.periods.map((p) => p.code)).toEqual(['q1', 'q2', 'year']);
    expect(office.body.year?.periods[1]?.name).toMatch(/2.*четверть/);
    expect(office.body.workKinds.map((k) => k.code)).toContain('control');
    expect(office.body.subjects.map((x) => x.name)).toEqual(['Математика', 'Русский язык']);
    expect((await call<OfficeResponse>('/office', ADMIN)).body.can.settings).toBe(true);
    for (const who of [TEACHER, CLASS_TEACHER]) {
      const refused = await call<ApiError>('/office', who);
      expect(refused.status).toBe(403);
      expect(refused.body.key).toBe('errors.forbidden');
    }
  });

  it('settings: the admin changes them (audited), the deputy is refused, bad values are 409', async () => {
    const ok = await call<OfficeSettingsResponse>('/office/settings', ADMIN, { method: 'PATCH', body: { lockAfterDays: 10, quietHours: { from: '22:00', to: '07:30' } } });
    expect(ok.status).toBe(200);
    expect(ok.body.changed).toEqual(['lockAfterDays', 'quietHours']);
    expect(ok.body.settings.lockAfterDays).toBe(10);
    expect((await t.app.db.models.School.findById(f.schoolId).lean())?.settings?.lockAfterDays).toBe(10);
    expect(await t.app.db.models.AuditEntry.countDocuments({ schoolId: f.schoolId, action: 'school.settings' })).toBe(1);
    expect((await call<ApiError>('/office/settings', DEPUTY, { method: 'PATCH', body: { lockAfterDays: 3 } })).status).toBe(403);
    const bad = await call<ApiError>('/office/settings', ADMIN, { method: 'PATCH', body: { lockAfterDays: 0 } });
    expect(bad.status).toBe(409);
    expect(bad.body.key).toBe('settings.invalid');
  });

  it('calendar and windows: the admin adds a holiday and opens a window; the secretary is refused', async () => {
    const cal = await call<OfficeResponse>('/office/calendar', ADMIN, { method: 'POST', body: { op: 'holiday', name: 'Каникулы', startsOn: '2026-12-29', endsOn: '2027-01-08' } });
    expect(cal.status).toBe(200);
    expect(cal.body.year?.holidays).toEqual([{ name: 'Каникулы', startsOn: '2026-12-29', endsOn: '2027-01-08' }]);
    const win = await call<OfficeResponse>('/office/windows', ADMIN, { method: 'POST', body: { periodCode: 'q2', change: { action: 'open' } } });
    expect(win.status).toBe(200);
    expect(win.body.year?.periods.find((p) => p.code === 'q2')?.window).toMatchObject({ state: 'open', source: 'school', opensOn: '2026-11-23' });
    const extended = await call<OfficeResponse>('/office/windows', ADMIN, { method: 'POST', body: { periodCode: 'q2', change: { action: 'extend', until: '2026-12-30' } } });
    expect(extended.body.year?.periods.find((p) => p.code === 'q2')?.window).toMatchObject({ state: 'open', closesOn: '2026-12-30' });
    const closed = await call<OfficeResponse>('/office/windows', ADMIN, { method: 'POST', body: { periodCode: 'q2', change: { action: 'close' } } });
    expect(closed.body.year?.periods.find((p) => p.code === 'q2')?.window.state).toBe('closed');
    const moved = await call<OfficeResponse>('/office/calendar', ADMIN, { method: 'POST', body: { op: 'period', code: 'q2', startsOn: '2026-11-05', endsOn: '2026-12-27' } });
    expect(moved.body.year?.periods.find((p) => p.code === 'q2')).toMatchObject({ startsOn: '2026-11-05', endsOn: '2026-12-27' });
    // A period overlapping another is refused whole, in the person's language (calendar-edit.ts).
    const overlap = await call<ApiError>('/office/calendar', ADMIN, { method: 'POST', body: { op: 'period', code: 'q2', startsOn: '2026-10-20', endsOn: '2026-12-27' } });
    expect(overlap.status).toBe(409);
    expect(overlap.body.key).toBe('year.periodsOverlap');
    expect(await t.app.db.models.AuditEntry.countDocuments({ schoolId: f.schoolId, action: { $in: ['year.calendar', 'year.markWindow'] } })).toBe(5);
    expect((await call<ApiError>('/office/calendar', SECRETARY, { method: 'POST', body: { op: 'removeHoliday', startsOn: '2026-12-29' } })).status).toBe(403);
    expect((await call<ApiError>('/office/windows', DEPUTY, { method: 'POST', body: { periodCode: 'q2', change: { action: 'close' } } })).status).toBe(403);
  });

  it('substitutions: the deputy lists the day, creates and cancels; the substitute then has the lesson; a teacher is refused', async () => {
    const date = '2026-11-23';
    const slots = await call<OfficeSlot[]>(`/office/slots?date=${date}`, DEPUTY);
    expect(slots.status).toBe(200);
    const math7 = slots.body.find((s) => s.className === '7Б' && s.subjectName === 'Математика');
    expect(math7).toBeDefined();
    const created = await call<OfficeSubstitution>('/office/substitutions', DEPUTY, {
      method: 'POST',
      body: { slotId: math7?.slotId, date, substituteId: String(f.spareTeacherId), reason: 'курсы' },
    });
    expect(created.status).toBe(201);
    expect(created.body.substituteName).toBe('Запасова Ирина Ивановна');
    expect((await call<OfficeSubstitution[]>('/office/substitutions?from=2026-11-01', DEPUTY)).body.map((s) => s.id)).toEqual([created.body.id]);
    // The substitute sees the lesson in their grid's list (the grant-free path: the lesson itself).
    expect((await call<ApiError>('/office/substitutions', TEACHER, { method: 'POST', body: { slotId: math7?.slotId, date, substituteId: String(f.spareTeacherId) } })).status).toBe(403);
    expect((await call<ApiError>(`/office/slots?date=${date}`, SECRETARY)).status).toBe(403);
    expect((await call<ApiError>(`/office/substitutions/${created.body.id}`, FOREIGN_ADMIN, { method: 'DELETE' })).status).toBe(409);
    expect((await call<{ ok: true }>(`/office/substitutions/${created.body.id}`, DEPUTY, { method: 'DELETE' })).body).toEqual({ ok: true });
    expect((await call<OfficeSubstitution[]>('/office/substitutions?from=2026-11-01', DEPUTY)).body).toEqual([]);
  });

  it('grants: the deputy grants and revokes a substitute access; the secretary is refused', async () => {
    const g = await call<{ grantId: string }>('/office/grants', DEPUTY, {
      method: 'POST',
      body: { teacherId: String(f.spareTeacherId), classId: String(f.class7.id), from: '2026-11-23', to: '2026-11-30' },
    });
    expect(g.status).toBe(201);
    expect((await call<MeResponse>('/me', SPARE)).body.teaching.map((x) => x.label)).toContain('7Б · Математика');
    expect((await call<Array<{ grantId: string }>>('/office/grants', DEPUTY)).body.map((x) => x.grantId)).toEqual([g.body.grantId]);
    expect((await call<ApiError>('/office/grants', SECRETARY)).status).toBe(403);
    expect((await call<{ ok: true }>(`/office/grants/${g.body.grantId}`, DEPUTY, { method: 'DELETE' })).status).toBe(200);
    expect((await call<MeResponse>('/me', SPARE)).body.teaching).toEqual([]);
  });

  it('moves: the secretary transfers a student (the parent keeps the child); a class teacher is refused; bad input 400', async () => {
    const student = String(f.class7.studentIds[0]);
    const list = await call<OfficeStudent[]>(`/office/students?classId=${f.class7.id}`, SECRETARY);
    expect(list.body.map((s) => s.id)).toContain(student);
    const refused = await call<ApiError>('/office/moves', CLASS_TEACHER, { method: 'POST', body: { kind: 'transfer', studentId: student, toClassId: String(f.class8.id), date: '2026-11-23' } });
    expect(refused.status).toBe(403);
    const moved = await call<OfficeMoveResponse>('/office/moves', SECRETARY, { method: 'POST', body: { kind: 'transfer', studentId: student, toClassId: String(f.class8.id), date: '2026-11-23' } });
    expect(moved.status).toBe(201);
    expect(moved.body).toMatchObject({ kind: 'transfer', fromClass: '7Б', toClass: '8А' });
    expect((await call<ApiError>('/office/moves', SECRETARY, { method: 'POST', body: { kind: 'teleport' } })).status).toBe(400);
    const arrived = await call<OfficeMoveResponse>('/office/moves', SECRETARY, {
      method: 'POST',
      body: { kind: 'arrival', classId: String(f.class7.id), date: '2026-11-23', lastName: 'Новикова', firstName: 'Дарья' },
    });
    expect(arrived.status).toBe(201);
    expect((await call<OfficeStudent[]>(`/office/students?classId=${f.class7.id}`, SECRETARY)).body.map((s) => s.name)).toContain('Новикова Дарья');
  });

  it('reports: the class teacher opens their class, not another nor the school; the deputy the school', async () => {
    const opts = await call<ReportOptionsResponse>('/reports/options', CLASS_TEACHER);
    expect(opts.body).toEqual({ school: false, classes: [{ id: String(f.class7.id), name: '7Б' }] });
    const mine = await call<ReportResponse>(`/reports?kind=class&classId=${f.class7.id}`, CLASS_TEACHER);
    expect(mine.status).toBe(200);
    expect(mine.body.title).toBe('7Б');
    expect(mine.body.period?.code).toBe('q2');
    expect(mine.body.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['Математика']));
    expect((await call<ApiError>(`/reports?kind=class&classId=${f.class8.id}`, CLASS_TEACHER)).status).toBe(403);
    expect((await call<ApiError>('/reports?kind=school', CLASS_TEACHER)).status).toBe(403);
    expect((await call<ApiError>('/reports/options', TEACHER)).status).toBe(403);
    expect((await call<ApiError>('/reports?kind=school', SECRETARY)).status).toBe(403);
    const school = await call<ReportResponse>('/reports?kind=school&period=q1', DEPUTY);
    expect(school.status).toBe(200);
    expect(school.body.title).toBe('Школа журнала');
    expect(school.body.rows.map((r) => r.name)).toEqual(['7Б', '8А']);
    expect(school.body.periods.map((p) => p.code)).toEqual(['q1', 'q2']);
    expect((await call<ReportOptionsResponse>('/reports/options', DEPUTY)).body.school).toBe(true);
  });
});
