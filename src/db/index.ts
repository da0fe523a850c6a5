import type { Connection } from 'mongoose';
import { auditEntryModel, inviteModel, inviteThrottleModel } from './models/access.js';
import { accountModel } from './models/account.js';
import { announcementModel, announcementReceiptModel } from './models/announcements.js';
import { pendingImportModel } from './models/imports.js';
import {
  absenceModel,
  accessGrantModel,
  lessonModel,
  markModel,
  periodMarkModel,
  planItemModel,
} from './models/journal.js';
import { attendanceDraftModel, journalNoticeModel } from './models/journal-work.js';
import { conversationStateModel, processedUpdateModel } from './models/kv.js';
import { messageThreadModel, officeHoursModel, sendRateModel, threadMessageModel } from './models/messaging.js';
import {
  absenceReportModel,
  acknowledgementModel,
  deliveryLeaderModel,
  noticeStateModel,
  noticeIntentModel,
  notifyPreferenceModel,
  outboxModel,
  rateSlotModel,
} from './models/notify.js';
import { guardianshipModel, personModel, studentMovementModel } from './models/people.js';
import { academicYearModel, schoolModel } from './models/school.js';
import { peExemptionModel, studentOutcomeModel, yearClosingModel } from './models/year-end.js';
import {
  groupModel,
  schoolClassModel,
  subjectModel,
  substitutionModel,
  teachingLoadModel,
  timetableSlotModel,
} from './models/structure.js';

/** All models of the app bound to one connection. Add a model here and its indexes are synced at start-up. */
export function createModels(conn: Connection) {
  return {
    Account: accountModel(conn),
    // notifications (src/notify)
    OutboxMessage: outboxModel(conn),
    NoticeState: noticeStateModel(conn),
    NoticeIntent: noticeIntentModel(conn),
    DeliveryLeader: deliveryLeaderModel(conn),
    RateSlot: rateSlotModel(conn),
    NotifyPreference: notifyPreferenceModel(conn),
    Acknowledgement: acknowledgementModel(conn),
    AbsenceReport: absenceReportModel(conn),
    // teacher–family messaging (src/domain/messaging.ts)
    MessageThread: messageThreadModel(conn),
    ThreadMessage: threadMessageModel(conn),
    OfficeHours: officeHoursModel(conn),
    SendRate: sendRateModel(conn),
    // class announcements (src/domain/announcements.ts)
    Announcement: announcementModel(conn),
    AnnouncementReceipt: announcementReceiptModel(conn),
    ConversationState: conversationStateModel(conn),
    ProcessedUpdate: processedUpdateModel(conn),
    School: schoolModel(conn),
    AcademicYear: academicYearModel(conn),
    Person: personModel(conn),
    Guardianship: guardianshipModel(conn),
    StudentMovement: studentMovementModel(conn),
    SchoolClass: schoolClassModel(conn),
    Subject: subjectModel(conn),
    Group: groupModel(conn),
    TeachingLoad: teachingLoadModel(conn),
    TimetableSlot: timetableSlotModel(conn),
    Substitution: substitutionModel(conn),
    Invite: inviteModel(conn),
    InviteThrottle: inviteThrottleModel(conn),
    AuditEntry: auditEntryModel(conn),
    Lesson: lessonModel(conn),
    Absence: absenceModel(conn),
    Mark: markModel(conn),
    PeriodMark: periodMarkModel(conn),
    PlanItem: planItemModel(conn),
    AccessGrant: accessGrantModel(conn),
    AttendanceDraft: attendanceDraftModel(conn),
    JournalNotice: journalNoticeModel(conn),
    PendingImport: pendingImportModel(conn),
    // the end of the year (R5, R30) and PE exemptions (R21)
    StudentOutcome: studentOutcomeModel(conn),
    YearClosing: yearClosingModel(conn),
    PeExemption: peExemptionModel(conn),
  };
}

export type Models = ReturnType<typeof createModels>;

export interface Db {
  conn: Connection;
  models: Models;
}

export async function createDb(conn: Connection): Promise<Db> {
  const models = createModels(conn);
  // createIndexes only adds what is missing: safe for several processes starting at once.
  await Promise.all(Object.values(models).map((m) => m.createIndexes()));
  return { conn, models };
}
