import { type Connection, type InferSchemaType, Schema, type Types } from 'mongoose';

/**
 * Working state of the journal that is not the journal itself.
 *
 * AttendanceDraft: the attendance sheet a teacher is toggling (R19) before pressing Save. It lives
 * in MongoDB, not in memory, so a restart or another bot process loses nothing. The roster is
 * frozen into the draft (ids and button labels, in order): buttons carry an index into it plus
 * `rosterVersion`, which keeps callback data short (40 students fit under 64 bytes) and makes a
 * button from an older roster detectable.
 */
const attendanceDraftSchema = new Schema(
  {
    schoolId: { type: Schema.Types.ObjectId, required: true },
    lessonId: { type: Schema.Types.ObjectId, required: true },
    /** Who is editing (teacher, substitute, admin): each has their own draft. */
    editorId: { type: Schema.Types.ObjectId, required: true },
    rosterVersion: { type: String, required: true },
    roster: { type: [Schema.Types.ObjectId], default: [] },
    labels: { type: [String], default: [] },
    /** Indexes into `roster` of the students marked absent in this draft. */
    absent: { type: [Number], default: [] },
    /**
     * Who was absent in the saved sheet when the draft was opened. Save writes only what this
     * editor changed against it, so two editors of one lesson never undo each other's changes.
     */
    baseAbsent: { type: [Schema.Types.ObjectId], default: undefined },
    /**
     * A new id each time the draft is (re)started. Save records it on the lesson
     * (`Lesson.attendanceSaved`): a draft whose rev is recorded there was saved and counts as gone.
     */
    rev: { type: Schema.Types.ObjectId },
  },
  { timestamps: true, collection: 'attendance_drafts' },
);
attendanceDraftSchema.index({ lessonId: 1, editorId: 1 }, { unique: true });
attendanceDraftSchema.index({ updatedAt: 1 });

export type AttendanceDraftDoc = InferSchemaType<typeof attendanceDraftSchema> & { _id: Types.ObjectId };
export const attendanceDraftModel = (conn: Connection) => conn.model('AttendanceDraft', attendanceDraftSchema);

/**
 * One row per notice the journal jobs have sent (or are sending): `_id` is the notice's key
 * ('att:<lessonId>', 'eod:<personId>:<date>'). Inserting it claims the notice, so however often a
 * job runs, restarts or runs in two processes, each notice goes out at most once.
 */
const journalNoticeSchema = new Schema(
  {
    _id: { type: String, required: true },
    schoolId: { type: Schema.Types.ObjectId, required: true },
    personId: { type: Schema.Types.ObjectId },
    kind: { type: String, enum: ['attendanceReminder', 'endOfDay', 'periodMarksReminder'], required: true },
    at: { type: Date, required: true },
    status: { type: String, enum: ['claimed', 'sent', 'skipped'], default: 'claimed' },
  },
  { collection: 'journal_notices', versionKey: false },
);
journalNoticeSchema.index({ at: 1 });

export const journalNoticeModel = (conn: Connection) => conn.model('JournalNotice', journalNoticeSchema);
