import type { Types } from 'mongoose';
import type { Db } from '../../db/index.js';
import type { Role } from '../shared/vocabulary.js';

type Id = Types.ObjectId;

/**
 * The acting person, as every use case receives it. Derived facts (whose class teacher, whose
 * parent, what they teach) are loaded once per update, so access checks are cheap set lookups.
 */
export interface Actor {
  via: 'bot' | 'cli' | 'job' | 'import';
  schoolId: Id;
  /** Absent only for the deployment operator (CLI) and jobs, which act with full rights. */
  personId?: Id;
  telegramId?: number;
  roles: ReadonlySet<Role>;
  /** Classes this person leads as class teacher. */
  classTeacherOf: ReadonlySet<string>;
  /** Students this person is a parent of. */
  childIds: ReadonlySet<string>;
  /** Class ids (and group ids) this teacher teaches by load or timetable. */
  teachesClassIds: ReadonlySet<string>;
  teachesGroupIds: ReadonlySet<string>;
  /** (class or group id)|subjectId pairs this teacher teaches. */
  teachesPairs: ReadonlySet<string>;
}

export const pairKey = (classOrGroupId: Id | string, subjectId: Id | string) => `${classOrGroupId}|${subjectId}`;

/** An actor with every right in one school: the CLI operator and scheduled jobs. */
export function systemActor(schoolId: Id, via: 'cli' | 'job' | 'import' = 'cli'): Actor {
  return {
    via,
    schoolId,
    roles: new Set<Role>(['admin']),
    classTeacherOf: new Set(),
    childIds: new Set(),
    teachesClassIds: new Set(),
    teachesGroupIds: new Set(),
    teachesPairs: new Set(),
  };
}

type ActorPerson = { _id: Id; schoolId: Id; roles: string[]; telegramId?: number | null; active?: boolean | null };

/** What a bound person's actor is derived from (one read: see `boundPersonsLookup`). */
export interface ActorFacts {
  led: Array<{ _id: Id }>;
  children: Array<{ studentId: Id }>;
  load: Array<{ classId: Id; groupId?: Id | null; subjectId: Id }>;
}

const byPersonInSchool = (field: string) => ({
  $match: { $expr: { $and: [{ $eq: [`$${field}`, '$$pid'] }, { $eq: ['$schoolId', '$$sid'] }] } },
});

/**
 * One aggregation stage (for a pipeline over `accounts`): the persons bound to the account's
 * Telegram id, each with the facts its actor is derived from (classes led, children, teaching
 * load) — what `loadActor` reads in four queries, in the same round trip as the account itself.
 * Equality matches inside `$lookup` pipelines use the indexes on a real MongoDB (5.0+).
 */
export function boundPersonsLookup(telegramId: number, as = 'persons') {
  return {
    $lookup: {
      from: 'persons',
      // The id is known: a plain equality (index-backed on every server), not an expression.
      pipeline: [
        { $match: { telegramId } },
        { $project: { schoolId: 1, roles: 1, telegramId: 1, active: 1 } },
        {
          $lookup: {
            from: 'classes',
            let: { pid: '$_id', sid: '$schoolId' },
            pipeline: [byPersonInSchool('classTeacherId'), { $project: { _id: 1 } }],
            as: 'led',
          },
        },
        {
          $lookup: {
            from: 'guardianships',
            let: { pid: '$_id', sid: '$schoolId' },
            pipeline: [byPersonInSchool('parentId'), { $project: { _id: 0, studentId: 1 } }],
            as: 'children',
          },
        },
        {
          $lookup: {
            from: 'teaching_load',
            let: { pid: '$_id', sid: '$schoolId' },
            pipeline: [byPersonInSchool('teacherId'), { $project: { _id: 0, classId: 1, groupId: 1, subjectId: 1 } }],
            as: 'load',
          },
        },
      ],
      as,
    },
  };
}

/** The actor of a person from facts already read (no query); undefined for an inactive or foreign person. */
export function actorFromFacts(person: ActorPerson, facts: ActorFacts, telegramId?: number): Actor | undefined {
  if (person.active === false) return undefined;
  if (telegramId !== undefined && person.telegramId !== telegramId) return undefined;
  const roles = new Set(person.roles as Role[]);
  // The same rights as loadActor: a parent's children only with the parent role, a load only for a teacher.
  const children = roles.has('parent') ? facts.children : [];
  const load = roles.has('teacher') ? facts.load : [];
  const led = roles.has('teacher') ? facts.led : [];
  const pairs = new Set<string>();
  for (const l of load) {
    pairs.add(pairKey(l.classId, l.subjectId));
    if (l.groupId) pairs.add(pairKey(l.groupId, l.subjectId));
  }
  return {
    via: 'bot',
    schoolId: person.schoolId,
    personId: person._id,
    telegramId,
    roles,
    classTeacherOf: new Set(led.map((c) => String(c._id))),
    childIds: new Set(children.map((g) => String(g.studentId))),
    teachesClassIds: new Set(load.map((l) => String(l.classId))),
    teachesGroupIds: new Set(load.flatMap((l) => (l.groupId ? [String(l.groupId)] : []))),
    teachesPairs: pairs,
  };
}

/**
 * Builds the actor for a bound person. Returns undefined for an unknown or foreign person.
 * `preloaded`: the person document the caller already read (saves a query on every update).
 */
export async function loadActor(
  db: Db,
  personId: Id,
  telegramId?: number,
  preloaded?: ActorPerson,
): Promise<Actor | undefined> {
  const { Person, SchoolClass, Guardianship, TeachingLoad } = db.models;
  const person: ActorPerson | null =
    preloaded && String(preloaded._id) === String(personId)
      ? preloaded
      : await Person.findById(personId, { schoolId: 1, roles: 1, telegramId: 1, active: 1 }).lean();
  if (!person || person.active === false) return undefined;
  if (telegramId !== undefined && person.telegramId !== telegramId) return undefined;
  const roles = new Set(person.roles as Role[]);
  const schoolId = person.schoolId;
  const [led, children, load] = await Promise.all([
    roles.has('teacher') ? SchoolClass.find({ schoolId, classTeacherId: personId }, { _id: 1 }).lean() : [],
    roles.has('parent') ? Guardianship.find({ schoolId, parentId: personId }, { studentId: 1 }).lean() : [],
    roles.has('teacher')
      ? TeachingLoad.find({ schoolId, teacherId: personId }, { classId: 1, groupId: 1, subjectId: 1 }).lean()
      : [],
  ]);
  return actorFromFacts({ ...person, _id: personId }, { led, children, load }, telegramId);
}
