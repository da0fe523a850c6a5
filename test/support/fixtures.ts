/**
 * A small school built directly with the models: two classes with their class teachers, two
 * families (one child in each class), a subject teacher who teaches both classes, and an admin.
 * `tag` keeps two schools in one database apart (names, external ids).
 */
import type { Types } from 'mongoose';
import type { Db } from '../../src/db/index.js';
import type { Role } from '../../src/domain/shared/vocabulary.js';
import { type Actor, loadActor } from '../../src/domain/school/actor.js';

export interface Family {
  parentId: Types.ObjectId;
  studentId: Types.ObjectId;
  parentName: string;
  childFirstName: string;
  childName: string;
}

export interface SchoolFixture {
  schoolId: Types.ObjectId;
  name: string;
  classA: { id: Types.ObjectId; name: string };
  classB: { id: Types.ObjectId; name: string };
  adminId: Types.ObjectId;
  teacherAId: Types.ObjectId;
  teacherBId: Types.ObjectId;
  subjectTeacherId: Types.ObjectId;
  subjectId: Types.ObjectId;
  familyA: Family;
  familyB: Family;
}

export interface MakeSchoolOptions {
  /** Distinguishes names and ids of a second school; default ''. */
  tag?: string;
  name?: string;
  locale?: 'ru' | 'en';
  inviteTtlDays?: number;
}

export async function makeSchool(db: Db, opts: MakeSchoolOptions = {}): Promise<SchoolFixture> {
  const tag = opts.tag ?? '';
  const { School, Person, SchoolClass, Guardianship, Subject, TeachingLoad } = db.models;
  const name = opts.name ?? `Школа №${tag || '1'}`;
  const school = await School.create({
    name,
    timezone: 'Europe/Moscow',
    locale: opts.locale ?? 'ru',
    settings: opts.inviteTtlDays ? { inviteTtlDays: opts.inviteTtlDays } : {},
  });
  const schoolId = school._id;
  const person = async (
    externalId: string,
    lastName: string,
    firstName: string,
    roles: Role[],
    extra: Record<string, unknown> = {},
  ) => (await Person.create({ schoolId, externalId: `${tag}${externalId}`, lastName, firstName, roles, ...extra }))._id;

  const adminId = await person('admin', `Админова${tag}`, 'Ольга', ['admin']);
  const teacherAId = await person('t-a', `Петрова${tag}`, 'Анна', ['teacher'], { middleName: 'Ивановна' });
  const teacherBId = await person('t-b', `Смирнова${tag}`, 'Елена', ['teacher'], { middleName: 'Павловна' });
  const subjectTeacherId = await person('t-math', `Кузнецов${tag}`, 'Игорь', ['teacher']);
  const classA = await SchoolClass.create({ schoolId, externalId: `${tag}5A`, grade: 5, letter: 'А', name: '5А', classTeacherId: teacherAId });
  const classB = await SchoolClass.create({ schoolId, externalId: `${tag}5B`, grade: 5, letter: 'Б', name: '5Б', classTeacherId: teacherBId });
  const subject = await Subject.create({ schoolId, externalId: `${tag}math`, name: 'Математика' });
  for (const c of [classA, classB]) {
    await TeachingLoad.create({ schoolId, classId: c._id, subjectId: subject._id, teacherId: subjectTeacherId, hoursPerYear: 170 });
  }

  const family = async (key: string, classId: Types.ObjectId, parent: [string, string], child: [string, string]) => {
    const parentId = await person(`p-${key}`, parent[0], parent[1], ['parent'], { phone: '+7 900 123-45-67' });
    const studentId = await person(`s-${key}`, child[0], child[1], ['student'], {
      student: { classId, status: 'studying', form: 'regular', birthDate: '2015-03-01' },
    });
    await Guardianship.create({ schoolId, parentId, studentId, relation: 'mother' });
    return {
      parentId,
      studentId,
      parentName: `${parent[0]} ${parent[1]}`,
      childFirstName: child[1],
      childName: `${child[1]} ${child[0]}`,
    };
  };
  const familyA = await family('a', classA._id, [`Иванова${tag}`, 'Мария'], [`Иванов${tag}`, 'Матвей']);
  const familyB = await family('b', classB._id, [`Сидорова${tag}`, 'Светлана'], [`Сидоров${tag}`, 'Степан']);

  return {
    schoolId,
    name,
    classA: { id: classA._id, name: classA.name },
    classB: { id: classB._id, name: classB.name },
    adminId,
    teacherAId,
    teacherBId,
    subjectTeacherId,
    subjectId: subject._id,
    familyA,
    familyB,
  };
}

/** The actor of a person as the bot would build it (no Telegram binding needed). */
export async function actorOf(db: Db, personId: Types.ObjectId): Promise<Actor> {
  const actor = await loadActor(db, personId);
  if (!actor) throw new Error(`no actor for ${String(personId)}`);
  return actor;
}
