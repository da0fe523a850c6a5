/**
 * The MongoDB features the app relies on, run against the test server (the stand-in unless a
 * mongod is available or TEST_MONGODB_URI is set). If one of these fails on the stand-in, the
 * app must not use that feature — see docs/mongodb.md.
 */
import mongoose, { type Connection, type Model, Schema, type Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dropTestDatabase, testMongoUri } from '../support/db.js';

interface SchoolClass {
  _id: Types.ObjectId;
  name: string;
}
interface Student {
  _id: Types.ObjectId;
  login: string;
  fullName: string;
  classId: Types.ObjectId;
  createdAt?: Date;
}
interface Enrollment {
  classId: Types.ObjectId;
  studentId: Types.ObjectId;
  year: number;
}
interface Counter {
  _id: string;
  seq: number;
  createdAt?: Date;
}
interface Mark {
  studentId: Types.ObjectId;
  subject: string;
  value: number;
  at: Date;
}

const uri = testMongoUri('standin');
let conn: Connection;
let SchoolClassModel: Model<SchoolClass>;
let StudentModel: Model<Student>;
let EnrollmentModel: Model<Enrollment>;
let CounterModel: Model<Counter>;
let MarkModel: Model<Mark>;

beforeAll(async () => {
  conn = await mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000, autoIndex: false }).asPromise();
  SchoolClassModel = conn.model<SchoolClass>('SchoolClass', new Schema<SchoolClass>({ name: { type: String, required: true } }));
  StudentModel = conn.model<Student>(
    'Student',
    new Schema<Student>(
      {
        login: { type: String, required: true, unique: true },
        fullName: { type: String, required: true },
        classId: { type: Schema.Types.ObjectId, ref: 'SchoolClass', required: true },
      },
      { timestamps: { createdAt: true, updatedAt: false } },
    ),
  );
  const enrollment = new Schema<Enrollment>({
    classId: { type: Schema.Types.ObjectId, required: true },
    studentId: { type: Schema.Types.ObjectId, required: true },
    year: { type: Number, required: true },
  });
  enrollment.index({ classId: 1, studentId: 1, year: 1 }, { unique: true });
  EnrollmentModel = conn.model<Enrollment>('Enrollment', enrollment);
  CounterModel = conn.model<Counter>(
    'Counter',
    new Schema<Counter>({ _id: String, seq: { type: Number, default: 0 }, createdAt: Date }, { versionKey: false }),
  );
  const mark = new Schema<Mark>({
    studentId: { type: Schema.Types.ObjectId, required: true },
    subject: { type: String, required: true },
    value: { type: Number, required: true },
    at: { type: Date, required: true },
  });
  mark.index({ subject: 1, at: 1 });
  MarkModel = conn.model<Mark>('Mark', mark);
  for (const model of [SchoolClassModel, StudentModel, EnrollmentModel, CounterModel, MarkModel]) {
    await model.createCollection();
    await model.syncIndexes();
  }
});

afterAll(async () => {
  await conn?.close();
  await dropTestDatabase(uri);
});

describe(`MongoDB features the app relies on (${inject('mongoKind')})`, () => {
  it('speaks a wire version the driver accepts', async () => {
    const hello = await conn.db!.admin().command({ isMaster: 1 });
    expect(hello['ok']).toBe(1);
    expect(hello['maxWireVersion']).toBeGreaterThanOrEqual(9);
  });

  it('creates, reads, updates and deletes documents', async () => {
    const cls = await SchoolClassModel.create({ name: '5A' });
    const created = await StudentModel.create({ login: 'crud-1', fullName: 'Ann Example', classId: cls._id });
    expect(created.createdAt).toBeInstanceOf(Date);

    const found = await StudentModel.findOne({ login: 'crud-1' });
    expect(found?.fullName).toBe('Ann Example');

    const updated = await StudentModel.updateOne({ _id: created._id }, { $set: { fullName: 'Ann Changed' } });
    expect(updated.matchedCount).toBe(1);
    expect(updated.modifiedCount).toBe(1);
    expect((await StudentModel.findById(created._id))?.fullName).toBe('Ann Changed');

    const after = await StudentModel.findOneAndUpdate(
      { login: 'crud-1' },
      { $set: { fullName: 'Ann Final' } },
      { returnDocument: 'after' },
    );
    expect(after?.fullName).toBe('Ann Final');

    const deleted = await StudentModel.deleteOne({ _id: created._id });
    expect(deleted.deletedCount).toBe(1);
    expect(await StudentModel.countDocuments({ login: 'crud-1' })).toBe(0);
  });

  it('rejects a duplicate on a unique index with E11000 (code 11000)', async () => {
    const cls = await SchoolClassModel.create({ name: '6B' });
    await StudentModel.create({ login: 'unique-1', fullName: 'First', classId: cls._id });
    const error = await StudentModel.create({ login: 'unique-1', fullName: 'Second', classId: cls._id }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 11000 });
    expect(String((error as Error).message)).toMatch(/E11000/);
    // An update that would create a duplicate is rejected the same way.
    await StudentModel.create({ login: 'unique-2', fullName: 'Third', classId: cls._id });
    await expect(StudentModel.updateOne({ login: 'unique-2' }, { $set: { login: 'unique-1' } })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await StudentModel.countDocuments({ login: 'unique-1' })).toBe(1);
  });

  it('enforces a compound unique index on the combination only', async () => {
    const classId = new mongoose.Types.ObjectId();
    const studentId = new mongoose.Types.ObjectId();
    await EnrollmentModel.create({ classId, studentId, year: 2026 });
    // Same class and student, another year: allowed.
    await EnrollmentModel.create({ classId, studentId, year: 2027 });
    // Another student, same class and year: allowed.
    await EnrollmentModel.create({ classId, studentId: new mongoose.Types.ObjectId(), year: 2026 });
    await expect(EnrollmentModel.create({ classId, studentId, year: 2026 })).rejects.toMatchObject({ code: 11000 });
    expect(await EnrollmentModel.countDocuments({ classId })).toBe(3);
  });

  it('upserts with $inc and $setOnInsert, atomically under concurrency', async () => {
    const first = await CounterModel.findOneAndUpdate(
      { _id: 'invites' },
      { $inc: { seq: 1 }, $setOnInsert: { createdAt: new Date('2026-01-01T00:00:00Z') } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(first?.seq).toBe(1);
    expect(first?.createdAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');

    const second = await CounterModel.findOneAndUpdate(
      { _id: 'invites' },
      { $inc: { seq: 1 }, $setOnInsert: { createdAt: new Date('2030-01-01T00:00:00Z') } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(second?.seq).toBe(2);
    // $setOnInsert does not touch an existing document.
    expect(second?.createdAt?.toISOString()).toBe('2026-01-01T00:00:00.000Z');

    // 25 concurrent increments: every one counted, every returned value distinct.
    const results = await Promise.all(
      Array.from({ length: 25 }, () =>
        CounterModel.findOneAndUpdate({ _id: 'invites' }, { $inc: { seq: 1 } }, { returnDocument: 'after' }).lean(),
      ),
    );
    const seen = results.map((r) => r?.seq);
    expect(new Set(seen).size).toBe(25);
    expect((await CounterModel.findById('invites').lean())?.seq).toBe(27);

    const viaUpdateOne = await CounterModel.updateOne({ _id: 'other' }, { $inc: { seq: 5 } }, { upsert: true });
    expect(viaUpdateOne.upsertedCount).toBe(1);
    expect((await CounterModel.findById('other').lean())?.seq).toBe(5);
  });

  it('runs bulkWrite with mixed operations', async () => {
    const cls = await SchoolClassModel.create({ name: 'bulk' });
    await StudentModel.create({ login: 'bulk-existing', fullName: 'Existing', classId: cls._id });
    const result = await StudentModel.bulkWrite([
      { insertOne: { document: { login: 'bulk-1', fullName: 'One', classId: cls._id } } },
      { insertOne: { document: { login: 'bulk-2', fullName: 'Two', classId: cls._id } } },
      { updateOne: { filter: { login: 'bulk-existing' }, update: { $set: { fullName: 'Existing 2' } } } },
      {
        updateOne: {
          filter: { login: 'bulk-new' },
          update: { $setOnInsert: { fullName: 'New', classId: cls._id } },
          upsert: true,
        },
      },
      { deleteOne: { filter: { login: 'bulk-2' } } },
    ]);
    expect(result.insertedCount).toBe(2);
    expect(result.matchedCount).toBe(1);
    expect(result.modifiedCount).toBe(1);
    expect(result.upsertedCount).toBe(1);
    expect(result.deletedCount).toBe(1);
    const logins = (await StudentModel.find({ classId: cls._id }, { login: 1 }).sort({ login: 1 }).lean()).map(
      (s) => s.login,
    );
    expect(logins).toEqual(['bulk-1', 'bulk-existing', 'bulk-new']);

    // An ordered bulk stops at the first duplicate and reports it as 11000.
    await expect(
      StudentModel.bulkWrite([
        { insertOne: { document: { login: 'bulk-3', fullName: 'Three', classId: cls._id } } },
        { insertOne: { document: { login: 'bulk-1', fullName: 'Dup', classId: cls._id } } },
        { insertOne: { document: { login: 'bulk-4', fullName: 'Four', classId: cls._id } } },
      ]),
    ).rejects.toMatchObject({ code: 11000 });
    expect(await StudentModel.countDocuments({ login: 'bulk-3' })).toBe(1);
    expect(await StudentModel.countDocuments({ login: 'bulk-4' })).toBe(0);
  });

  it('returns plain objects from lean() queries', async () => {
    const cls = await SchoolClassModel.create({ name: 'lean' });
    await StudentModel.create({ login: 'lean-1', fullName: 'Lean', classId: cls._id });
    const doc = await StudentModel.findOne({ login: 'lean-1' }).lean();
    expect(doc).not.toBeNull();
    expect(doc).not.toBeInstanceOf(mongoose.Document);
    expect(doc?._id).toBeInstanceOf(mongoose.Types.ObjectId);
    expect(doc?.classId.equals(cls._id)).toBe(true);
    expect(doc?.createdAt).toBeInstanceOf(Date);
  });

  it('populates references', async () => {
    const cls = await SchoolClassModel.create({ name: '7V' });
    await StudentModel.create([
      { login: 'pop-1', fullName: 'Pop One', classId: cls._id },
      { login: 'pop-2', fullName: 'Pop Two', classId: cls._id },
    ]);
    const students = await StudentModel.find({ login: /^pop-/ })
      .sort({ login: 1 })
      .populate<{ classId: SchoolClass }>('classId')
      .lean();
    expect(students.map((s) => [s.login, s.classId.name])).toEqual([
      ['pop-1', '7V'],
      ['pop-2', '7V'],
    ]);
  });

  it('aggregates marks: $match, $group with $avg/$sum/$push/$min/$max, $sort, $project', async () => {
    const [ann, bob, cid] = [new mongoose.Types.ObjectId(), new mongoose.Types.ObjectId(), new mongoose.Types.ObjectId()];
    const day = (d: number) => new Date(Date.UTC(2026, 8, d, 9));
    await MarkModel.insertMany([
      { studentId: ann, subject: 'math', value: 5, at: day(1) },
      { studentId: ann, subject: 'math', value: 4, at: day(2) },
      { studentId: ann, subject: 'math', value: 3, at: day(3) },
      { studentId: bob, subject: 'math', value: 5, at: day(1) },
      { studentId: bob, subject: 'math', value: 5, at: day(4) },
      { studentId: cid, subject: 'math', value: 2, at: day(2) },
      { studentId: cid, subject: 'math', value: 4, at: day(30) }, // outside the period
      { studentId: ann, subject: 'history', value: 2, at: day(2) }, // other subject
    ]);
    const rows = await MarkModel.aggregate<{
      _id: Types.ObjectId;
      avg: number;
      count: number;
      total: number;
      values: number[];
      best: number;
      worst: number;
    }>([
      { $match: { subject: 'math', at: { $gte: day(1), $lt: day(15) } } },
      { $sort: { at: 1 } },
      {
        $group: {
          _id: '$studentId',
          avg: { $avg: '$value' },
          count: { $sum: 1 },
          total: { $sum: '$value' },
          values: { $push: '$value' },
          best: { $max: '$value' },
          worst: { $min: '$value' },
        },
      },
      { $sort: { avg: -1, _id: 1 } },
      { $project: { avg: 1, count: 1, total: 1, values: 1, best: 1, worst: 1 } },
    ]);
    expect(rows.map((r) => ({ ...r, _id: r._id.toHexString() }))).toEqual([
      { _id: bob.toHexString(), avg: 5, count: 2, total: 10, values: [5, 5], best: 5, worst: 5 },
      { _id: ann.toHexString(), avg: 4, count: 3, total: 12, values: [5, 4, 3], best: 5, worst: 3 },
      { _id: cid.toHexString(), avg: 2, count: 1, total: 2, values: [2], best: 2, worst: 2 },
    ]);

    // Totals across all students, and a per-subject count with $lookup-free grouping.
    const [overall] = await MarkModel.aggregate<{ _id: null; avg: number; n: number }>([
      { $match: { at: { $gte: day(1), $lt: day(15) } } },
      { $group: { _id: null, avg: { $avg: '$value' }, n: { $sum: 1 } } },
    ]);
    expect(overall?.n).toBe(7);
    expect(overall?.avg).toBeCloseTo(26 / 7, 10);
  });

  it('joins with $lookup and $unwind', async () => {
    const cls = await SchoolClassModel.create({ name: 'lookup' });
    const student = await StudentModel.create({ login: 'lookup-1', fullName: 'Look Up', classId: cls._id });
    await MarkModel.insertMany([
      { studentId: student._id, subject: 'art', value: 5, at: new Date() },
      { studentId: student._id, subject: 'art', value: 3, at: new Date() },
    ]);
    const rows = await MarkModel.aggregate<{ avg: number; login: string }>([
      { $match: { subject: 'art' } },
      { $group: { _id: '$studentId', avg: { $avg: '$value' } } },
      { $lookup: { from: StudentModel.collection.name, localField: '_id', foreignField: '_id', as: 'student' } },
      { $unwind: '$student' },
      { $project: { _id: 0, avg: 1, login: '$student.login' } },
    ]);
    expect(rows).toEqual([{ avg: 4, login: 'lookup-1' }]);
  });
});
