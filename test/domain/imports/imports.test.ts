import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { type Connection, Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../../src/db/connection.js';
import { createDb, type Db } from '../../../src/db/index.js';
import { type Actor, loadActor, systemActor } from '../../../src/domain/school/actor.js';
import { demoFiles } from '../../../src/domain/demo/seed.js';
import { AccessDenied } from '../../../src/domain/shared/errors.js';
import { guessKind, type ImportKind, type ImportReport, importFile, kindFromWord } from '../../../src/domain/imports/index.js';
import { parsePhone, parseWeekday } from '../../../src/domain/imports/cells.js';
import { COLUMNS } from '../../../src/domain/imports/kinds.js';
import { detectDelimiter, parseSpreadsheet, toCsv } from '../../../src/domain/imports/parse.js';
import { createSchool } from '../../../src/domain/school/schools.js';
import { LOCALES_DIR } from '../../../src/i18n.js';
import { testMongoUri } from '../../support/db.js';

const NOW = new Date('2026-11-23T09:00:00Z');
let conn: Connection;
let db: Db;

beforeAll(async () => {
  conn = await connectMongo(testMongoUri('imports'));
  db = await createDb(conn);
});
afterAll(async () => {
  await conn?.dropDatabase().catch(() => undefined);
  await conn?.close();
});

let schoolNo = 0;
async function newSchool() {
  const school = await createSchool(db, { name: `Школа ${++schoolNo}`, timezone: 'Europe/Moscow', now: NOW });
  return { schoolId: school._id as Types.ObjectId, actor: systemActor(school._id, 'cli') };
}

const csv = (...lines: string[]) => Buffer.from(`${lines.join('\n')}\n`, 'utf8');

function run(actor: Actor, kind: ImportKind, data: Buffer, opts: { dryRun?: boolean; filename?: string; now?: Date } = {}) {
  return importFile(db, actor, {
    kind,
    data,
    filename: opts.filename ?? `${kind}.csv`,
    dryRun: opts.dryRun,
    now: opts.now ?? NOW,
  });
}

function expectOk(report: ImportReport): ImportReport {
  expect(report.errors).toEqual([]);
  expect(report.ok).toBe(true);
  return report;
}

/** Staff, subjects and classes 5А/5Б: what a students file refers to. */
async function schoolWithStructure() {
  const s = await newSchool();
  expectOk(
    await run(
      s.actor,
      'staff',
      csv(
        'staff_id;last_name;first_name;middle_name;roles;phone',
        'T1;Петрова;Анна;Ивановна;teacher;+7 916 000-00-01',
        'T2;Смирнова;Елена;Павловна;teacher;',
        'T3;Кузнецов;Игорь;;teacher,deputy;',
        'A1;Админова;Ольга;;admin;',
        'SEC;Секретарёва;Нина;;secretary;',
      ),
    ),
  );
  expectOk(
    await run(
      s.actor,
      'subjects',
      csv('subject_id,name,short_name,assessment', 'MATH,Математика,Матем,marks', 'ENG,Английский язык,Англ,', 'ORKSE,ОРКСЭ,,зачёт'),
    ),
  );
  expectOk(await run(s.actor, 'classes', csv('class_id;grade;letter;class_teacher_id', '5A;5;а;T1', '5B;5;Б;T2')));
  return s;
}

const STUDENTS_HEADER =
  'student_id;last_name;first_name;middle_name;class_id;birth_date;form;pe_exempt;status;parent1_id;parent1_last_name;parent1_first_name;parent1_middle_name;parent1_phone;parent1_relation;parent2_id;parent2_last_name;parent2_first_name;parent2_middle_name;parent2_phone;parent2_relation';
const GOOD_STUDENTS = [
  STUDENTS_HEADER,
  'S1;Иванов;Пётр;Сергеевич;5A;2015-03-01;regular;no;studying;P1;Иванова;Мария;Петровна;+7 (916) 111-22-33;mother;P2;Иванов;Сергей;Олегович;8 916 111-22-34;father',
  'S2;Иванова;Анна;Сергеевна;5B;01.09.2014;;;;P1;;;;;mother;P2;;;;;father',
  'S3;Сидоров;Илья;;5A;;home;да;;P3;Сидорова;Ольга;;+79161112235;мать;;;;;;',
];

async function snapshot(schoolId: Types.ObjectId) {
  const { Person, Guardianship, SchoolClass, Subject } = db.models;
  const stamp = (docs: Array<{ _id: unknown; updatedAt?: Date | null }>) =>
    Object.fromEntries(docs.map((d) => [String(d._id), d.updatedAt?.getTime()]));
  return {
    persons: stamp(await Person.find({ schoolId }, { updatedAt: 1 }).lean()),
    links: stamp(await Guardianship.find({ schoolId }, { updatedAt: 1 }).lean()),
    classes: stamp(await SchoolClass.find({ schoolId }, { updatedAt: 1 }).lean()),
    subjects: stamp(await Subject.find({ schoolId }, { updatedAt: 1 }).lean()),
  };
}

describe('parsing', () => {
  it('detects ; or , and reads UTF-8 with BOM; row numbers are the spreadsheet rows', async () => {
    expect(detectDelimiter('a;b;c\n1,2;3')).toBe(';');
    expect(detectDelimiter('"a;b",c,d\n')).toBe(',');
    const sheet = await parseSpreadsheet(Buffer.from('\uFEFFФамилия,Имя\nИванов,Пётр\n\n"Петрова, мл.",Анна\n', 'utf8'), 'x.csv');
    expect(sheet.headers).toEqual(['Фамилия', 'Имя']);
    expect(sheet.rows).toEqual([
      { rowNo: 2, cells: { Фамилия: 'Иванов', Имя: 'Пётр' } },
      { rowNo: 4, cells: { Фамилия: 'Петрова, мл.', Имя: 'Анна' } },
    ]);
  });

  it('reads Windows-1251 (how Excel saves "CSV" in Russian locales)', async () => {
    const cp1251 = Buffer.from([0xd4, 0xe0, 0xec, 0xe8, 0xeb, 0xe8, 0xff, 0x3b, 0x31, 0x0a, 0xc8, 0xe2, 0x3b, 0x32, 0x0a]);
    const sheet = await parseSpreadsheet(cp1251, 'x.csv');
    expect(sheet.headers).toEqual(['Фамилия', '1']);
    expect(sheet.rows[0]?.cells['Фамилия']).toBe('Ив');
  });

  it('maps Russian headers and guesses the kind; cell parsers accept what people type', () => {
    expect(guessKind(['Код ученика', 'Фамилия', 'Имя', 'Класс'])).toBe('students');
    expect(guessKind(['staff_id', 'last_name', 'first_name', 'roles'])).toBe('staff');
    expect(guessKind(['class_id', 'weekday', 'lesson_no', 'subject_id', 'teacher_id'])).toBe('timetable');
    expect(guessKind(['Код предмета', 'Название'])).toBe('subjects');
    expect(guessKind(['Что-то', 'другое'])).toBeUndefined();
    expect(kindFromWord('Ученики')).toBe('students');
    expect(kindFromWord('расписание')).toBe('timetable');
    expect(parseWeekday('Пн')).toEqual({ ok: true, value: 1 });
    expect(parseWeekday('saturday')).toEqual({ ok: true, value: 6 });
    expect(parseWeekday('7').ok).toBe(false);
    expect(parsePhone('8 (916) 123-45-67')).toEqual({ ok: true, value: '+79161234567' });
    expect(parsePhone('12345').ok).toBe(false);
    expect(parsePhone('+7 916 abc').ok).toBe(false);
  });

  it('templates in docs/import match the canonical headers of every kind', () => {
    const dir = join(LOCALES_DIR, '..', 'docs', 'import');
    const files = readdirSync(dir).filter((f) => f.endsWith('.csv'));
    expect(files.sort()).toEqual(Object.keys(COLUMNS).map((k) => `${k}.csv`).sort());
    for (const [kind, columns] of Object.entries(COLUMNS)) {
      const header = readFileSync(join(dir, `${kind}.csv`), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0];
      expect(header?.split(';'), kind).toEqual(columns.map((c) => c.name));
    }
  });
});

describe('templates', () => {
  it('the templates in docs/import load, in the documented order, into a new school', async () => {
    const s = await newSchool();
    const dir = join(LOCALES_DIR, '..', 'docs', 'import');
    for (const kind of ['staff', 'subjects', 'classes', 'students', 'groups', 'load', 'timetable'] as const) {
      const report = await run(s.actor, kind, readFileSync(join(dir, `${kind}.csv`)), { filename: `${kind}.csv` });
      expect(report.errors, kind).toEqual([]);
      expect(report.rows, kind).toBeGreaterThan(0);
    }
  });
});

describe('rights (R5, R7)', () => {
  it('admin and secretary load everything, the deputy the curriculum kinds, others nothing', async () => {
    const s = await schoolWithStructure();
    const actorOf = async (externalId: string) => {
      const p = await db.models.Person.findOne({ schoolId: s.schoolId, externalId }, { _id: 1 }).lean();
      return (await loadActor(db, p!._id))!;
    };
    const file = csv('subject_id,name', 'BIO,Биология');
    const students = csv(GOOD_STUDENTS[0]!, GOOD_STUDENTS[1]!);
    const deputy = await actorOf('T3');
    expect((await run(deputy, 'subjects', file, { dryRun: true })).ok).toBe(true);
    await expect(run(deputy, 'students', students, { dryRun: true })).rejects.toBeInstanceOf(AccessDenied);
    await expect(run(deputy, 'staff', file, { dryRun: true })).rejects.toBeInstanceOf(AccessDenied);
    expect((await run(await actorOf('SEC'), 'students', students, { dryRun: true })).ok).toBe(true);
    expect((await run(await actorOf('A1'), 'students', students, { dryRun: true })).ok).toBe(true);
    await expect(run(await actorOf('T1'), 'subjects', file, { dryRun: true })).rejects.toBeInstanceOf(AccessDenied);
    // A parent imported below may not load either.
    expectOk(await run(s.actor, 'students', students));
    await expect(run(await actorOf('P1'), 'students', students)).rejects.toBeInstanceOf(AccessDenied);
  });

  it('an actor of another school cannot write into this one', async () => {
    const a = await schoolWithStructure();
    const b = await newSchool();
    // The school is the actor's: the same file lands in b (and fails there: no classes), never in a.
    const report = await run(b.actor, 'students', csv(GOOD_STUDENTS[0]!, GOOD_STUDENTS[1]!));
    expect(report.ok).toBe(false);
    expect(report.errors.map((e) => e.key)).toContain('import.errors.unknownClass');
    expect(await db.models.Person.countDocuments({ schoolId: a.schoolId, roles: 'student' })).toBe(0);
  });
});

describe('students with parents (R5)', () => {
  it('a good file loads: students, parents, guardianships, arrival movements, one audit entry', async () => {
    const s = await schoolWithStructure();
    const report = expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    expect(report.rows).toBe(3);
    expect(report.counts).toEqual({
      students: { created: 3, updated: 0, unchanged: 0 },
      parents: { created: 3, updated: 0, unchanged: 0 },
      guardianships: { created: 5, updated: 0, unchanged: 0 },
      movements: { created: 3, updated: 0, unchanged: 0 },
    });
    const { Person, Guardianship, StudentMovement, AuditEntry, SchoolClass } = db.models;
    const class5a = await SchoolClass.findOne({ schoolId: s.schoolId, externalId: '5A' }).lean();
    expect(class5a?.name).toBe('5А');
    const s1 = await Person.findOne({ schoolId: s.schoolId, externalId: 'S1' }).lean();
    expect(s1).toMatchObject({ lastName: 'Иванов', firstName: 'Пётр', middleName: 'Сергеевич', roles: ['student'], active: true });
    expect(s1?.student).toMatchObject({ status: 'studying', form: 'regular', peExempt: false, birthDate: '2015-03-01', enrolledOn: '2026-11-23' });
    expect(String(s1?.student?.classId)).toBe(String(class5a?._id));
    const s2 = await Person.findOne({ schoolId: s.schoolId, externalId: 'S2' }).lean();
    expect(s2?.student?.birthDate).toBe('2014-09-01');
    const s3 = await Person.findOne({ schoolId: s.schoolId, externalId: 'S3' }).lean();
    expect(s3?.student).toMatchObject({ form: 'home', peExempt: true });
    const p1 = await Person.findOne({ schoolId: s.schoolId, externalId: 'P1' }).lean();
    expect(p1).toMatchObject({ lastName: 'Иванова', firstName: 'Мария', roles: ['parent'], phone: '+79161112233' });
    const p2 = await Person.findOne({ schoolId: s.schoolId, externalId: 'P2' }).lean();
    expect(p2?.phone).toBe('+79161112234');
    // P1 is the mother of both S1 and S2 (siblings in different classes).
    const links = await Guardianship.find({ schoolId: s.schoolId, parentId: p1?._id }).lean();
    expect(links.map((l) => String(l.studentId)).sort()).toEqual([String(s1?._id), String(s2?._id)].sort());
    expect(links.every((l) => l.relation === 'mother')).toBe(true);
    const moves = await StudentMovement.find({ schoolId: s.schoolId }).lean();
    expect(moves).toHaveLength(3);
    expect(moves.every((m) => m.kind === 'arrival' && m.date === '2026-11-23')).toBe(true);
    const audit = await AuditEntry.find({ schoolId: s.schoolId, action: 'import.students' }).lean();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ via: 'cli', actorRole: 'admin', after: { counts: report.counts, rows: 3 } });
  });

  it('a file with exactly 3 bad rows writes nothing and reports those 3 rows with columns', async () => {
    const s = await schoolWithStructure();
    const before = await db.models.Person.countDocuments({ schoolId: s.schoolId });
    const file = csv(
      'student_id;last_name;first_name;class_id;parent1_id;parent1_last_name;parent1_first_name;parent1_phone',
      'S1;Иванов;Пётр;5A;P1;Иванова;Мария;+7 916 111-22-33',
      'S2;Петров;Олег;5A;P2;Петрова;Ольга;12-34', // row 3: bad phone
      'S3;Сидоров;Илья;5A;;;;',
      'S4;Козлов;Иван;7Z;;;;', // row 5: no such class
      'S5;Орлова;Анна;5B;P1;;;',
      'S1;Иванов;Павел;5A;;;;', // row 7: S1 again
    );
    const report = await run(s.actor, 'students', file);
    expect(report.ok).toBe(false);
    expect(report.rows).toBe(6);
    expect(report.errors).toEqual([
      { row: 3, column: 'parent1_phone', key: 'import.errors.badPhone' },
      { row: 5, column: 'class_id', key: 'import.errors.unknownClass', vars: { id: '7Z' } },
      { row: 7, column: 'student_id', key: 'import.errors.duplicateId', vars: { id: 'S1', row: 2 } },
    ]);
    expect(report.counts).toEqual({});
    expect(await db.models.Person.countDocuments({ schoolId: s.schoolId })).toBe(before);
    expect(await db.models.Guardianship.countDocuments({ schoolId: s.schoolId })).toBe(0);
    expect(await db.models.StudentMovement.countDocuments({ schoolId: s.schoolId })).toBe(0);
    expect(await db.models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'import.students' })).toBe(0);
  });

  it('cross-row checks: parents described differently, a code-only parent nobody knows, a staff code as a student', async () => {
    const s = await schoolWithStructure();
    const report = await run(
      s.actor,
      'students',
      csv(
        'student_id;last_name;first_name;class_id;parent1_id;parent1_last_name;parent1_first_name',
        'S1;Иванов;Пётр;5A;P1;Иванова;Мария',
        'S2;Иванова;Анна;5A;P1;Иванова;Марина',
        'S3;Сидоров;Илья;5A;P9;;',
        'T1;Петров;Олег;5A;;;',
      ),
    );
    expect(report.errors).toEqual([
      { row: 3, column: 'parent1_first_name', key: 'import.errors.parentMismatch', vars: { id: 'P1', row: 2 } },
      { row: 4, column: 'parent1_last_name', key: 'import.errors.required' },
      { row: 5, column: 'student_id', key: 'import.errors.idTaken', vars: { id: 'T1' } },
    ]);
  });

  it('missing required columns are reported against the header row', async () => {
    const s = await schoolWithStructure();
    const report = await run(s.actor, 'students', csv('student_id;Фамилия;Имя', 'S1;Иванов;Пётр'));
    expect(report.errors).toEqual([
      { row: 1, column: 'class_id', key: 'import.errors.missingColumn', vars: { column: 'class_id' } },
    ]);
  });

  it('re-importing the same file changes nothing: all unchanged, no updatedAt moves, no new movements', async () => {
    const s = await schoolWithStructure();
    expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    const before = await snapshot(s.schoolId);
    const later = new Date(NOW.getTime() + 3_600_000);
    const again = expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS), { now: later }));
    expect(again.counts).toEqual({
      students: { created: 0, updated: 0, unchanged: 3 },
      parents: { created: 0, updated: 0, unchanged: 3 },
      guardianships: { created: 0, updated: 0, unchanged: 5 },
      movements: { created: 0, updated: 0, unchanged: 0 },
    });
    expect(await snapshot(s.schoolId)).toEqual(before);
    expect(await db.models.StudentMovement.countDocuments({ schoolId: s.schoolId })).toBe(3);
    // The structure files too.
    const classes = csv('class_id;grade;letter;class_teacher_id', '5A;5;а;T1', '5B;5;Б;T2');
    expect((await run(s.actor, 'classes', classes, { now: later })).counts).toEqual({
      classes: { created: 0, updated: 0, unchanged: 2 },
    });
    expect(await snapshot(s.schoolId)).toEqual(before);
  });

  it('a corrected file updates in place: same ids, transfer and withdrawal recorded, old parent link removed', async () => {
    const s = await schoolWithStructure();
    expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    const { Person, Guardianship, StudentMovement } = db.models;
    const idOf = async (ext: string) => String((await Person.findOne({ schoolId: s.schoolId, externalId: ext }).lean())?._id);
    const s1Id = await idOf('S1');
    // S1 is in an English group of 5A: a transfer takes them out of the old class's groups (R5).
    const class5A = await db.models.SchoolClass.findOne({ schoolId: s.schoolId, externalId: '5A' }).lean();
    const group = await db.models.Group.create({ schoolId: s.schoolId, externalId: '5A-E1', classId: class5A?._id, subjectId: new Types.ObjectId(), name: 'Группа 1', studentIds: [s1Id, await idOf('S3')] });
    const later = new Date('2026-12-01T09:00:00Z');
    const corrected = csv(
      STUDENTS_HEADER,
      // S1: moves to 5Б, first name corrected; P2 dropped (P1 only).
      'S1;Иванов;Павел;Сергеевич;5B;2015-03-01;regular;no;studying;P1;Иванова;Мария;Петровна;+7 (916) 111-22-33;mother;;;;;;',
      'S2;Иванова;Анна;Сергеевна;5B;01.09.2014;;;;P1;;;;;mother;P2;;;;;father',
      // S3 leaves the school.
      'S3;Сидоров;Илья;;5A;;home;да;выбыл;P3;Сидорова;Ольга;;+79161112235;мать;;;;;;',
    );
    const report = expectOk(await run(s.actor, 'students', corrected, { now: later }));
    expect(report.counts).toEqual({
      students: { created: 0, updated: 2, unchanged: 1 },
      parents: { created: 0, updated: 0, unchanged: 3 },
      guardianships: { created: 0, updated: 0, unchanged: 4, removed: 1 },
      movements: { created: 2, updated: 0, unchanged: 0 },
    });
    expect(await idOf('S1')).toBe(s1Id);
    const s1 = await Person.findById(s1Id).lean();
    expect(s1?.firstName).toBe('Павел');
    const moves = await StudentMovement.find({ schoolId: s.schoolId, date: '2026-12-01' }).lean();
    expect(moves.map((m) => m.kind).sort()).toEqual(['transfer', 'withdrawal']);
    const transfer = moves.find((m) => m.kind === 'transfer');
    expect(String(transfer?.studentId)).toBe(s1Id);
    const s3 = await Person.findOne({ schoolId: s.schoolId, externalId: 'S3' }).lean();
    expect(s3?.student?.status).toBe('withdrawn');
    const members = (await db.models.Group.findById(group._id).lean())?.studentIds.map(String);
    expect(members).toEqual([String(s3?._id)]); // S1 moved out; S3's history in the group stays
    const p2 = await idOf('P2');
    expect(await Guardianship.countDocuments({ parentId: p2, studentId: s1Id })).toBe(0);
    expect(await Guardianship.countDocuments({ parentId: p2 })).toBe(1);
    // History is kept: the arrival is still there.
    expect(await StudentMovement.countDocuments({ schoolId: s.schoolId, studentId: s1Id })).toBe(2);
  });

  it('a dry run validates and counts but writes nothing', async () => {
    const s = await schoolWithStructure();
    const report = expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS), { dryRun: true }));
    expect(report.dryRun).toBe(true);
    expect(report.counts['students']).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect(await db.models.Person.countDocuments({ schoolId: s.schoolId, roles: { $in: ['student', 'parent'] } })).toBe(0);
    expect(await db.models.AuditEntry.countDocuments({ schoolId: s.schoolId, action: 'import.students' })).toBe(0);
  });

  it('XLSX works: first sheet, Russian headers, date and number cells', async () => {
    const s = await schoolWithStructure();
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Ученики');
    sheet.addRow(['Код ученика', 'Фамилия', 'Имя', 'Отчество', 'Класс', 'Дата рождения', 'Код родителя 1', 'Фамилия родителя 1', 'Имя родителя 1', 'Телефон родителя 1']);
    sheet.addRow(['S10', 'Лебедева', 'Алиса', 'Игоревна', '5A', new Date(Date.UTC(2015, 4, 17)), 'P10', 'Лебедева', 'Ирина', 79160001122]);
    sheet.addRow([]);
    sheet.addRow(['S11', 'Лебедев', 'Марк', 'Игоревич', '5B', '2013-12-02', 'P10', null, null, null]);
    workbook.addWorksheet('Другое').addRow(['ignored']);
    const data = Buffer.from(await workbook.xlsx.writeBuffer());
    const report = expectOk(await run(s.actor, 'students', data, { filename: 'ученики.xlsx' }));
    expect(report.rows).toBe(2);
    const s10 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'S10' }).lean();
    expect(s10?.student?.birthDate).toBe('2015-05-17');
    const p10 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'P10' }).lean();
    expect(p10?.phone).toBe('+79160001122');
    expect(await db.models.Guardianship.countDocuments({ parentId: p10?._id })).toBe(2);

    // A bad cell is reported with the spreadsheet's own row number (the empty row 3 counts).
    sheet.getRow(4).getCell(5).value = '9Я';
    const bad = await run(s.actor, 'students', Buffer.from(await workbook.xlsx.writeBuffer()), { filename: 'x.xlsx' });
    expect(bad.errors).toEqual([{ row: 4, column: 'class_id', key: 'import.errors.unknownClass', vars: { id: '9Я' } }]);
  });

  it('a file that is not a spreadsheet is refused as a whole', async () => {
    const s = await newSchool();
    const report = await run(s.actor, 'students', Buffer.from('%PDF-1.4 …'), { filename: 'scan.pdf' });
    expect(report.errors).toEqual([{ row: 1, column: '', key: 'import.errors.badFormat' }]);
  });

  it('a 1,000-student file with two parents each imports in a few seconds', async () => {
    const s = await newSchool();
    const files = demoFiles({ students: 1000, twoParents: true, today: '2026-11-23' });
    for (const kind of ['staff', 'subjects', 'classes'] as const) {
      expectOk(await run(s.actor, kind, toCsv(COLUMNS[kind].map((c) => c.name), files[kind])));
    }
    const data = toCsv(COLUMNS.students.map((c) => c.name), files.students);
    const started = Date.now();
    const report = expectOk(await run(s.actor, 'students', data));
    const ms = Date.now() - started;
    const startedAgain = Date.now();
    const again = expectOk(await run(s.actor, 'students', data));
    const msAgain = Date.now() - startedAgain;
    console.log(
      `[imports] 1,000 students + ${report.counts['parents']?.created} parents: ${ms} ms; re-import (all unchanged): ${msAgain} ms`,
    );
    expect(report.counts['students']).toEqual({ created: 1000, updated: 0, unchanged: 0 });
    expect(report.counts['guardianships']?.created).toBe(2000);
    expect(again.counts['students']).toEqual({ created: 0, updated: 0, unchanged: 1000 });
    expect(await db.models.Person.countDocuments({ schoolId: s.schoolId, roles: 'student' })).toBe(1000);
    expect(ms).toBeLessThan(20_000);
  }, 120_000);
});

describe('staff, subjects, classes, groups', () => {
  it('staff roles replace staff roles but keep a parent role; bad roles are reported', async () => {
    const s = await schoolWithStructure();
    expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    // P1 (a parent) starts working at the school as a teacher.
    const report = expectOk(
      await run(s.actor, 'staff', csv('staff_id;last_name;first_name;roles;active', 'P1;Иванова;Мария;учитель;да', 'T2;Смирнова;Елена;teacher;нет')),
    );
    expect(report.counts['staff']).toEqual({ created: 0, updated: 2, unchanged: 0 });
    const p1 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'P1' }).lean();
    expect([...(p1?.roles ?? [])].sort()).toEqual(['parent', 'teacher']);
    const t2 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'T2' }).lean();
    expect(t2?.active).toBe(false);
    const bad = await run(s.actor, 'staff', csv('staff_id;last_name;first_name;roles', 'T9;Орлов;Олег;director', 'S1;Иванов;Пётр;teacher'));
    expect(bad.errors).toEqual([
      { row: 2, column: 'roles', key: 'import.errors.badRole', vars: { value: 'director', values: 'admin, secretary, deputy, teacher' } },
      { row: 3, column: 'staff_id', key: 'import.errors.idTaken', vars: { id: 'S1' } },
    ]);
  });

  it('a staff file cannot lock the school out: the importing admin keeps the role, a working admin remains', async () => {
    const s = await schoolWithStructure();
    const a1 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'A1' }).lean();
    const admin = await loadActor(db, a1?._id as Types.ObjectId);
    if (!admin) throw new Error('no admin actor');
    const header = 'staff_id;last_name;first_name;roles;active';
    // The admin takes their own admin role away, or marks themself as not working.
    const self = await run(admin, 'staff', csv(header, 'A1;Админова;Ольга;teacher;да'));
    expect(self.ok).toBe(false);
    expect(self.errors).toContainEqual({ row: 2, column: 'roles', key: 'import.errors.selfAdmin' });
    const away = await run(admin, 'staff', csv(header, 'A1;Админова;Ольга;admin;нет'));
    expect(away.errors).toContainEqual({ row: 2, column: 'active', key: 'import.errors.selfAdmin' });
    // The operator (CLI) removing the only admin: refused too, on that row.
    const last = await run(s.actor, 'staff', csv(header, 'T1;Петрова;Анна;teacher;да', 'A1;Админова;Ольга;teacher;да'));
    expect(last.errors).toEqual([{ row: 3, column: 'roles', key: 'import.errors.lastAdmin' }]);
    // Nothing was written.
    const still = await db.models.Person.findOne({ _id: a1?._id }).lean();
    expect(still?.roles).toContain('admin');
    expect(still?.active).not.toBe(false);
    // Handing over to a new admin in the same file is fine.
    expectOk(await run(s.actor, 'staff', csv(header, 'A1;Админова;Ольга;teacher;да', 'A2;Новикова;Вера;admin;да')));
    const a2 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'A2' }).lean();
    expect(a2?.roles).toEqual(['admin']);
  });

  it('classes: unknown class teacher, a non-teacher, a name taken by another class', async () => {
    const s = await schoolWithStructure();
    const report = await run(
      s.actor,
      'classes',
      csv('class_id;grade;letter;class_teacher_id', '6A;6;А;T404', '6B;6;Б;A1', '5X;5;А;', '12A;12;А;'),
    );
    expect(report.errors).toEqual([
      { row: 2, column: 'class_teacher_id', key: 'import.errors.unknownStaff', vars: { id: 'T404' } },
      { row: 3, column: 'class_teacher_id', key: 'import.errors.notTeacher', vars: { id: 'A1' } },
      { row: 4, column: 'letter', key: 'import.errors.classNameTaken', vars: { name: '5А', id: '5A' } },
      { row: 5, column: 'grade', key: 'import.errors.badNumber', vars: { min: 1, max: 11 } },
    ]);
  });

  it('groups: members must be students of that class, in one group per subject', async () => {
    const s = await schoolWithStructure();
    expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    const bad = await run(
      s.actor,
      'groups',
      csv('group_id;class_id;subject_id;name;student_ids', '5A-E1;5A;ENG;Группа 1;"S1;S3"', '5A-E2;5A;ENG;Группа 2;S3 S2', '5A-X;5A;NOPE;Группа;S404'),
    );
    expect(bad.errors).toEqual([
      { row: 3, column: 'student_ids', key: 'import.errors.studentInTwoGroups', vars: { id: 'S3', group: '5A-E1' } },
      { row: 3, column: 'student_ids', key: 'import.errors.studentNotInClass', vars: { id: 'S2', className: '5А' } },
      { row: 4, column: 'subject_id', key: 'import.errors.unknownSubject', vars: { id: 'NOPE' } },
      { row: 4, column: 'student_ids', key: 'import.errors.unknownStudent', vars: { id: 'S404' } },
    ]);
    const good = expectOk(await run(s.actor, 'groups', csv('group_id;class_id;subject_id;name;student_ids', '5A-E1;5A;ENG;Группа 1;S1', '5A-E2;5A;ENG;Группа 2;S3')));
    expect(good.counts['groups']?.created).toBe(2);
    const g = await db.models.Group.findOne({ schoolId: s.schoolId, externalId: '5A-E1' }).lean();
    expect(g?.studentIds).toHaveLength(1);
  });
});

describe('teaching load and timetable (R7)', () => {
  async function withGroups() {
    const s = await schoolWithStructure();
    expectOk(await run(s.actor, 'students', csv(...GOOD_STUDENTS)));
    expectOk(
      await run(s.actor, 'groups', csv('group_id;class_id;subject_id;name;student_ids', '5A-E1;5A;ENG;Группа 1;S1', '5A-E2;5A;ENG;Группа 2;S3')),
    );
    return s;
  }

  it('load: checks codes, group of the class and subject; a teacher dropped from a pair loses it', async () => {
    const s = await withGroups();
    const bad = await run(
      s.actor,
      'load',
      csv('class_id;group_id;subject_id;teacher_id;hours_per_year', '5A;;MATH;T1;170', '5A;5A-E1;MATH;T2;102', '5B;5A-E1;ENG;T2;102', '5A;;MATH;T1;170', '5A;;MATH;A1;10,5'),
    );
    expect(bad.errors).toEqual([
      { row: 3, column: 'group_id', key: 'import.errors.groupSubjectMismatch', vars: { id: '5A-E1', subject: 'MATH' } },
      { row: 4, column: 'group_id', key: 'import.errors.groupNotInClass', vars: { id: '5A-E1', className: '5Б' } },
      { row: 5, column: 'teacher_id', key: 'import.errors.duplicateRow', vars: { id: '5A||MATH|T1', row: 2 } },
      { row: 6, column: 'teacher_id', key: 'import.errors.notTeacher', vars: { id: 'A1' } },
    ]);
    const file = csv('class_id;group_id;subject_id;teacher_id;hours_per_year', '5A;;MATH;T1;170', '5A;5A-E1;ENG;T2;102', '5A;5A-E2;ENG;T3;102');
    expect(expectOk(await run(s.actor, 'load', file)).counts['load']).toEqual({ created: 3, updated: 0, unchanged: 0 });
    expect((await run(s.actor, 'load', file)).counts['load']).toEqual({ created: 0, updated: 0, unchanged: 3 });
    // Maths in 5А passes from T1 to T3: T1's load for that pair is removed (and with it the journal access).
    const changed = expectOk(
      await run(s.actor, 'load', csv('class_id;group_id;subject_id;teacher_id;hours_per_year', '5A;;MATH;T3;136')),
    );
    expect(changed.counts['load']).toEqual({ created: 1, updated: 0, unchanged: 0, removed: 1 });
    const t1 = await db.models.Person.findOne({ schoolId: s.schoolId, externalId: 'T1' }).lean();
    expect(await db.models.TeachingLoad.countDocuments({ schoolId: s.schoolId, teacherId: t1?._id })).toBe(0);
    expect(await db.models.TeachingLoad.countDocuments({ schoolId: s.schoolId })).toBe(3);
  });

  it('timetable: no teacher in two places, no second lesson over a whole-class lesson', async () => {
    const s = await withGroups();
    const header = 'class_id;group_id;weekday;lesson_no;subject_id;teacher_id;room;valid_from;valid_to';
    const bad = await run(
      s.actor,
      'timetable',
      csv(
        header,
        '5A;;Пн;1;MATH;T1;101;;',
        '5B;;1;1;MATH;T1;102;;', // T1 is in 5А at that time
        '5A;5A-E1;Пн;1;ENG;T2;;;', // 5А has a whole-class lesson then
        '5A;5A-E1;Вт;2;ENG;T2;;;',
        '5A;5A-E2;Вт;2;ENG;T3;;;', // the other group at the same time: fine
        '5B;;Вс;1;MATH;T2;;;', // no Sunday
        '5B;;Ср;3;MATH;T2;;2026-12-01;2026-11-01',
      ),
    );
    expect(bad.errors).toEqual([
      { row: 3, column: 'teacher_id', key: 'import.errors.teacherBusy', vars: { id: 'T1', row: 2 } },
      { row: 4, column: 'lesson_no', key: 'import.errors.slotTaken', vars: { row: 2 } },
      { row: 7, column: 'weekday', key: 'import.errors.badWeekday', vars: { value: 'Вс' } },
      { row: 8, column: 'valid_to', key: 'import.errors.dateOrder' },
    ]);
    expect(await db.models.TimetableSlot.countDocuments({ schoolId: s.schoolId })).toBe(0);

    const good = csv(header, '5A;;Пн;1;MATH;T1;101;;', '5A;5A-E1;Вт;2;ENG;T2;;;', '5A;5A-E2;Вт;2;ENG;T3;;;', '5B;;Пн;2;MATH;T1;102;;');
    expect(expectOk(await run(s.actor, 'timetable', good)).counts['timetable']?.created).toBe(4);
    const slot = await db.models.TimetableSlot.findOne({ schoolId: s.schoolId, weekday: 1, lessonNo: 1 }).lean();
    expect(slot?.validFrom).toBe('2026-09-01'); // the current academic year's first day
    const before = await snapshot(s.schoolId);
    expect((await run(s.actor, 'timetable', good)).counts['timetable']).toEqual({ created: 0, updated: 0, unchanged: 4 });
    expect(await snapshot(s.schoolId)).toEqual(before);

    // T1 cannot take 5Б's lesson 1 on Monday while 5А (not in this file) has him then.
    const clash = await run(s.actor, 'timetable', csv(header, '5B;;Пн;1;MATH;T1;;;'));
    expect(clash.errors).toEqual([
      { row: 2, column: 'teacher_id', key: 'import.errors.teacherBusyElsewhere', vars: { id: 'T1', className: '5А' } },
    ]);

    // A new timetable for 5Б from 1 December: the old version is closed the day before, not rewritten.
    const next = expectOk(await run(s.actor, 'timetable', csv(header, '5B;;Пн;3;MATH;T1;102;2026-12-01;')));
    expect(next.counts['timetable']).toEqual({ created: 1, updated: 1, unchanged: 0 });
    const old = await db.models.TimetableSlot.findOne({ schoolId: s.schoolId, weekday: 1, lessonNo: 2 }).lean();
    expect(old?.validTo).toBe('2026-11-30');
  });
});

describe('locales', () => {
  it('every import.* key the importer can produce exists in ru and en', () => {
    const dir = join(LOCALES_DIR, '..', 'src', 'domain', 'imports');
    const used = new Set<string>();
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/'(import\.[a-zA-Z.]*[a-zA-Z])'/g)) used.add(m[1]!);
    }
    expect(used.size).toBeGreaterThan(30);
    for (const lng of ['ru', 'en']) {
      const res = JSON.parse(readFileSync(join(LOCALES_DIR, `${lng}.json`), 'utf8')) as Record<string, unknown>;
      const missing = [...used].filter((k) => {
        let cur: unknown = res;
        for (const part of k.split('.')) cur = (cur as Record<string, unknown> | undefined)?.[part];
        return typeof cur !== 'string';
      });
      expect(missing, lng).toEqual([]);
    }
  });
});
