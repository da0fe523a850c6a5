/**
 * The Mini App's API (issue 15) against the real app's web server and the test database, with
 * init data signed by the bot token exactly as Telegram signs it (src/web/init-data.ts).
 */
import type { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSubstitution } from '../../src/domain/journal/substitutions.js';
import { grantAccess } from '../../src/domain/school/grants.js';
import type {
  ApiError,
  ChildAttendanceResponse,
  ChildHomeworkResponse,
  ChildMarksResponse,
  GridResponse,
  MarkResponse,
  MeResponse,
} from '../../src/web/api-types.js';
import { signInitData } from '../../src/web/init-data.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/harness.js';
import { actorFor, addSchoolYear, bindTelegram, buildJournalSchool, type JournalFixture, lessonOn } from '../support/journal-fixtures.js';

type Id = Types.ObjectId;
const TEACHER = 8_001;
const PARENT = 8_002;
const FOREIGN_TEACHER = 8_003;
const SUBSTITUTE = 8_004;
const STRANGER = 8_009;

describe('Mini App API', () => {
  let t: TestApp;
  let f: JournalFixture;
  let foreign: JournalFixture;
  let child: Id;
  let otherChild: Id;
  let parentId: Id;

  beforeAll(async () => {
    t = await createTestApp({ web: true });
    const db = t.app.db;
    f = await buildJournalSchool(db);
    // A holiday inside q2: its day has no lessons in the grid.
    await addSchoolYear(db, f, { holidays: [{ name: 'День', startsOn: '2026-11-12', endsOn: '2026-11-12' }] });
    foreign = await buildJournalSchool(db, { tag: 'x-' });
    await addSchoolYear(db, foreign);
    await bindTelegram(db, f.teacherId, TEACHER);
    await bindTelegram(db, foreign.teacherId, FOREIGN_TEACHER);
    await bindTelegram(db, f.spareTeacherId, SUBSTITUTE);
    child = f.class7.studentIds[0] as Id;
    otherChild = f.class7.studentIds[1] as Id;
    const parent = await db.models.Person.create({
      schoolId: f.schoolId,
      externalId: 'api-parent',
      lastName: 'Родителева',
      firstName: 'Анна',
      roles: ['parent'],
      telegramId: PARENT,
      boundAt: new Date('2026-09-01T00:00:00Z'),
      consent: { acceptedAt: new Date('2026-09-01T00:00:00Z'), version: 1 },
    });
    parentId = parent._id;
    await db.models.Guardianship.create({ schoolId: f.schoolId, parentId, studentId: child, relation: 'mother' });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  const auth = (telegramId: number, opts: { token?: string; at?: Date; lang?: string } = {}) =>
    `tma ${signInitData(opts.token ?? TEST_TOKEN, { id: telegramId, first_name: 'Test', language_code: opts.lang ?? 'ru' }, opts.at)}`;

  async function call<T>(path: string, who: number | string | undefined, init: { method?: string; body?: unknown } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (who !== undefined) headers.authorization = typeof who === 'number' ? auth(who) : who;
    const res = await fetch(`${t.app.web?.url}/app/api${path}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  const lesson = async (date: string) => String(await lessonOn(t.app.db, f, f.mathSlot7, date));

  describe('who is asking', () => {
    it('GET /me for a teacher: the person, roles, school and what they teach', async () => {
      const { status, body } = await call<MeResponse>('/me', TEACHER);
      expect(status).toBe(200);
      expect(body.person).toEqual({ id: String(f.teacherId), name: 'Учителева Анна Ивановна' });
      expect(body.roles).toEqual(['teacher']);
      expect(body.locale).toBe('ru');
      expect(body.school).toEqual({ id: String(f.schoolId), name: 'Школа журнала' });
      expect(body.teaching).toEqual([
        { classId: String(f.class7.id), groupId: null, subjectId: String(f.mathId), label: '7Б · Математика' },
        { classId: String(f.class8.id), groupId: null, subjectId: String(f.mathId), label: '8А · Математика' },
      ]);
      expect(body.children).toEqual([]);
      expect(body.isOffice).toBe(false);
    });

    it('GET /me for a parent: their child with the class', async () => {
      const { status, body } = await call<MeResponse>('/me', PARENT);
      expect(status).toBe(200);
      expect(body.roles).toEqual(['parent']);
      expect(body.teaching).toEqual([]);
      expect(body.children).toEqual([{ id: String(child), name: 'Ученик01 Имя01', className: '7Б' }]);
    });

    it('401 without init data, with forged or tampered init data, and with expired init data', async () => {
      const none = await call<ApiError>('/me', undefined);
      expect(none.status).toBe(401);
      expect(none.body.error).toBe('unauthorized');
      expect(none.body.message).toMatch(/Telegram/);
      const forged = await call<ApiError>('/me', auth(TEACHER, { token: '999999:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }));
      expect(forged.status).toBe(401);
      // Someone else's id pasted into a genuine init data: the signature no longer matches.
      const tampered = auth(PARENT).replace(encodeURIComponent(`"id":${PARENT}`), encodeURIComponent(`"id":${TEACHER}`));
      expect(tampered).not.toBe(auth(PARENT));
      expect((await call<ApiError>('/me', tampered)).status).toBe(401);
      const expired = await call<ApiError>('/me', auth(TEACHER, { at: new Date(Date.now() - 25 * 3600_000) }));
      expect(expired.status).toBe(401);
      expect(expired.body.key).toBe('web.errors.expired');
      // The same person with fresh init data is let in.
      expect((await call('/me', auth(TEACHER, { at: new Date(Date.now() - 3600_000) }))).status).toBe(200);
    });

    it('403 for a Telegram account the school does not know', async () => {
      const { status, body } = await call<ApiError>('/me', STRANGER);
      expect(status).toBe(403);
      expect(body.key).toBe('web.errors.unknownPerson');
    });
  });

  describe('the grid', () => {
    let l10: string;
    let l17: string;
    beforeAll(async () => {
      const db = t.app.db;
      const teacher = await actorFor(db, f.teacherId);
      l10 = await lesson('2026-11-10');
      l17 = await lesson('2026-11-17');
      const { recordMark } = await import('../../src/domain/journal/marks.js');
      await recordMark(db, teacher, { lessonId: l10, studentId: String(child), value: 4, workKind: 'classwork' }, new Date('2026-11-10T12:00:00Z'));
      await recordMark(
        db,
        teacher,
        { lessonId: l17, studentId: String(child), value: 5, workKind: 'test', comment: 'Молодец' },
        new Date('2026-11-17T12:00:00Z'),
      );
      await db.models.Absence.create({ schoolId: f.schoolId, lessonId: l17, studentId: otherChild, classId: f.class7.id, date: '2026-11-17', code: 'Б' });
    });

    const gridPath = (fx: JournalFixture = f, extra = '') => `/grid?classId=${fx.class7.id}&subjectId=${fx.mathId}${extra}`;

    it('a hand-built class: the period’s lessons up to today (made from the timetable), exact cells and the period column', async () => {
      const { status, body } = await call<GridResponse>(gridPath(), TEACHER);
      expect(status).toBe(200);
      expect(body.title).toBe('7Б · Математика');
      expect(body.period).toMatchObject({ code: 'q2', from: '2026-11-05', to: '2026-12-28', windowOpen: false });
      expect(body.students).toHaveLength(30);
      expect(body.students[0]).toEqual({ id: String(child), name: 'Ученик01 Имя01' });
      // Mon–Sat from Thu 5 Nov to Mon 23 Nov, less the holiday on the 12th.
      const dates = body.lessons.map((l) => l.date);
      expect(dates).toHaveLength(15);
      expect(dates[0]).toBe('2026-11-05');
      expect(dates.at(-1)).toBe('2026-11-23');
      expect(dates).not.toContain('2026-11-12');
      expect(dates).not.toContain('2026-11-08'); // a Sunday
      expect(body.cells).toEqual({
        [String(child)]: {
          [l10]: { marks: [{ id: expect.any(String), value: 4, workKind: 'classwork', weight: 1, comment: null }] },
          [l17]: { marks: [{ id: expect.any(String), value: 5, workKind: 'test', weight: 1.5, comment: 'Молодец' }] },
        },
        [String(otherChild)]: { [l17]: { marks: [], absence: 'Б' } },
      });
      expect(body.periodColumn[String(child)]).toEqual({ average: 4.6, suggested: null, periodMark: null });
      // No marks and a missed lesson: not assessed, by the absence's code (R16).
      expect(body.periodColumn[String(otherChild)]).toEqual({ average: null, suggested: 'Б', periodMark: null });
      // R14: seven days after the lesson it is locked (23 Nov: the 16th and before).
      const byDate = new Map(body.lessons.map((l) => [l.date, l]));
      expect(byDate.get('2026-11-10')).toMatchObject({ locked: true, canEdit: false });
      expect(byDate.get('2026-11-23')).toMatchObject({ locked: false, canEdit: true });
      expect(body.workKinds.map((k) => k.code)).toContain('test');
      expect(body.markValues).toEqual([2, 3, 4, 5]);
      // Opening it again makes no second set of lessons.
      expect((await call<GridResponse>(gridPath(), TEACHER)).body.lessons).toHaveLength(15);
    });

    it('another school’s teacher is refused (403), and so is a parent', async () => {
      const other = await call<ApiError>(gridPath(), FOREIGN_TEACHER);
      expect(other.status).toBe(403);
      expect(other.body.message).toBe('У вас нет доступа к этому.');
      expect((await call<ApiError>(gridPath(), PARENT)).status).toBe(403);
      // Their own class opens.
      expect((await call<GridResponse>(gridPath(foreign), FOREIGN_TEACHER)).status).toBe(200);
    });

    it('a substitute reads the class with a grant (R7), not without', async () => {
      expect((await call<ApiError>(gridPath(), SUBSTITUTE)).status).toBe(403);
      const deputy = await actorFor(t.app.db, f.deputyId);
      await grantAccess(t.app.db, deputy, { teacherId: String(f.spareTeacherId), classId: String(f.class7.id), from: '2026-11-20', to: '2026-11-30' }, t.clock.now());
      const { status, body } = await call<GridResponse>(gridPath(), SUBSTITUTE);
      expect(status).toBe(200);
      expect(body.lessons.find((l) => l.date === '2026-11-23')?.canEdit).toBe(true);
      expect(body.lessons.find((l) => l.date === '2026-11-17')?.canEdit).toBe(false);
      const me = await call<MeResponse>('/me', SUBSTITUTE);
      expect(me.body.teaching.map((i) => i.label)).toEqual(['7Б · Математика', '7Б · Русский язык']);
    });

    it('a substitute for one lesson (a substitution, R7) sees that lesson only, marks in it, and no period figures', async () => {
      const path8 = `/grid?classId=${f.class8.id}&subjectId=${f.mathId}`;
      expect((await call<ApiError>(path8, SUBSTITUTE)).status).toBe(403);
      const deputy = await actorFor(t.app.db, f.deputyId);
      await createSubstitution(t.app.db, deputy, { slotId: String(f.mathSlot8[0]), date: '2026-11-23', substituteId: String(f.spareTeacherId) }, t.clock.now());
      const { status, body } = await call<GridResponse>(path8, SUBSTITUTE);
      expect(status).toBe(200);
      expect(body.lessons.map((l) => [l.date, l.canEdit])).toEqual([['2026-11-23', true]]);
      expect(body.students).toHaveLength(40);
      expect(body.periodFigures).toBe(false);
      // Its period switch offers only the periods holding a substituted lesson.
      expect(body.periods.map((p) => p.code)).toEqual(['q2']);
      expect(body.periodColumn).toEqual({});
      // The subject's own teacher still sees the whole period with its figures.
      const own = await call<GridResponse>(path8, TEACHER);
      expect(own.body.lessons.length).toBeGreaterThan(1);
      expect(own.body.periodFigures).toBe(true);
      expect(Object.keys(own.body.periodColumn)).toHaveLength(40);
      const me = await call<MeResponse>('/me', SUBSTITUTE);
      expect(me.body.teaching.map((i) => i.label)).toContain('8А · Математика');
      const lessonId = body.lessons[0]?.id;
      const student = body.students[0]?.id;
      const made = await call<MarkResponse>('/marks', SUBSTITUTE, {
        method: 'POST',
        body: { lessonId, studentId: student, value: 5, workKind: 'oral', clientKey: 'key-subst-0001' },
      });
      expect(made.status).toBe(201);
      // Another period of the class: nothing substituted there.
      expect((await call<ApiError>(`${path8}&period=q1`, SUBSTITUTE)).status).toBe(403);
    });

    it('a bad query is a 400', async () => {
      expect((await call<ApiError>(`/grid?classId=nope&subjectId=${f.mathId}`, TEACHER)).status).toBe(400);
    });
  });

  describe('marks', () => {
    it('POST stores the mark, audits it and queues the parent’s notice; a retry with the same key records it once', async () => {
      const lessonId = await lesson('2026-11-23');
      const body = { lessonId, studentId: String(child), value: 3, workKind: 'oral', comment: 'У доски', clientKey: 'key-post-0001' };
      const first = await call<MarkResponse>('/marks', TEACHER, { method: 'POST', body });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ lessonId, studentId: String(child), value: 3, workKind: 'oral', weight: 1, comment: 'У доски' });
      const db = t.app.db;
      const stored = await db.models.Mark.findById(first.body.id).lean();
      expect(stored).toMatchObject({ value: 3, workKind: 'oral', date: '2026-11-23' });
      expect(await db.models.AuditEntry.countDocuments({ action: 'mark.created', 'entity.id': stored?._id })).toBe(1);
      await t.app.fanOut.idle(); // the notice is fanned out right after the answer
      const notices = await db.models.OutboxMessage.find({ 'ref.markId': stored?._id }).lean();
      expect(notices.map((n) => [n.kind, n.chatId])).toContainEqual(['mark', PARENT]);
      const again = await call<MarkResponse>('/marks', TEACHER, { method: 'POST', body });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(first.body.id);
      expect(await db.models.Mark.countDocuments({ lessonId, studentId: child, deletedAt: null })).toBe(1);
    });

    it('PATCH corrects and DELETE removes, both audited (R31)', async () => {
      // R13: class work is marked within the school's days after the lesson: today's lesson.
      const lessonId = await lesson('2026-11-23');
      const made = await call<MarkResponse>('/marks', TEACHER, {
        method: 'POST',
        body: { lessonId, studentId: String(otherChild), value: 2, workKind: 'classwork', clientKey: 'key-patch-001' },
      });
      expect(made.status).toBe(201);
      const changed = await call<MarkResponse>(`/marks/${made.body.id}`, TEACHER, { method: 'PATCH', body: { value: 4, comment: 'Исправил' } });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ value: 4, comment: 'Исправил' });
      const gone = await call<{ ok: boolean }>(`/marks/${made.body.id}`, TEACHER, { method: 'DELETE' });
      expect(gone).toEqual({ status: 200, body: { ok: true } });
      const db = t.app.db;
      expect((await db.models.Mark.findById(made.body.id).lean())?.deletedAt).toBeTruthy();
      const actions = await db.models.AuditEntry.find({ 'entity.id': made.body.id }).sort({ _id: 1 }).lean();
      expect(actions.map((a) => a.action)).toEqual(['mark.created', 'mark.changed', 'mark.deleted']);
    });

    it('R14: a locked lesson is refused with the localized message (ru, and en for an English account)', async () => {
      const lessonId = await lesson('2026-11-10');
      const body = { lessonId, studentId: String(otherChild), value: 5, workKind: 'classwork', clientKey: 'key-locked-01' };
      const ru = await call<ApiError>('/marks', TEACHER, { method: 'POST', body });
      expect(ru.status).toBe(409);
      expect(ru.body.key).toBe('lock.locked');
      expect(ru.body.message).toBe('🔒 Урок 10.11.2026 закрыт: менять его можно 7 дн. после урока. Теперь изменить может только администратор: Ольга Админова.');
      await t.app.db.models.Account.updateOne({ telegramId: TEACHER }, { $set: { locale: 'en' } }, { upsert: true });
      const en = await call<ApiError>('/marks', TEACHER, { method: 'POST', body });
      expect(en.body.message).toMatch(/^🔒 The lesson of/);
      await t.app.db.models.Account.updateOne({ telegramId: TEACHER }, { $unset: { locale: 1 } });
      expect(await t.app.db.models.Mark.countDocuments({ lessonId, studentId: otherChild })).toBe(0);
    });

    it('R11: a value that is not a mark is refused with the bot’s words; another school’s teacher cannot mark', async () => {
      const lessonId = await lesson('2026-11-23');
      const bad = await call<ApiError>('/marks', TEACHER, {
        method: 'POST',
        body: { lessonId, studentId: String(otherChild), value: 6, workKind: 'classwork', clientKey: 'key-bad-0001' },
      });
      expect(bad.status).toBe(409);
      expect(bad.body.message).toBe('«6» — не оценка. Текущая оценка — одна цифра: 2, 3, 4 или 5, без «+», «−» и точек.');
      const foreignTry = await call<ApiError>('/marks', FOREIGN_TEACHER, {
        method: 'POST',
        body: { lessonId, studentId: String(otherChild), value: 5, workKind: 'classwork', clientKey: 'key-foreign-1' },
      });
      expect(foreignTry.status).toBe(403);
    });
  });

  describe('the family', () => {
    it('a parent reads their child’s marks by subject for the chart, attendance and homework', async () => {
      const marks = await call<ChildMarksResponse>(`/children/${child}/marks`, PARENT);
      expect(marks.status).toBe(200);
      expect(marks.body.period?.code).toBe('q2');
      const math = marks.body.subjects.find((s) => s.name === 'Математика');
      expect(math?.points.map((p) => [p.date, p.value, p.weight])).toEqual([
        ['2026-11-10', 4, 1],
        ['2026-11-17', 5, 1.5],
        ['2026-11-23', 3, 1],
      ]);
      expect(marks.body.periods.map((p) => p.code)).toEqual(['q1', 'q2']);
      const q1 = await call<ChildMarksResponse>(`/children/${child}/marks?period=q1`, PARENT);
      expect(q1.body.subjects).toEqual([]);
      const att = await call<ChildAttendanceResponse>(`/children/${otherChild}/attendance`, PARENT);
      expect(att.status).toBe(403);
      const hw = await call<ChildHomeworkResponse>(`/children/${child}/homework?week=2026-11-25`, PARENT);
      expect(hw.status).toBe(200);
      expect(hw.body.week).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    });

    it('a parent cannot read another child (R4)', async () => {
      for (const what of ['marks', 'attendance', 'homework']) {
        const res = await call<ApiError>(`/children/${otherChild}/${what}`, PARENT);
        expect(res.status).toBe(403);
      }
    });

    it('attendance by days with the code, in a range', async () => {
      const db = t.app.db;
      const l = await lesson('2026-11-19');
      await db.models.Absence.create({ schoolId: f.schoolId, lessonId: l, studentId: child, classId: f.class7.id, date: '2026-11-19', code: 'Н' });
      const att = await call<ChildAttendanceResponse>(`/children/${child}/attendance?from=2026-11-01&to=2026-11-30`, PARENT);
      expect(att.body).toEqual({
        from: '2026-11-01',
        to: '2026-11-30',
        days: [{ date: '2026-11-19', absences: [{ subject: 'Математика', code: 'Н' }] }],
        totals: { Н: 1, Б: 0, У: 0 },
      });
    });
  });
});
