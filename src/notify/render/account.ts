import type { RebindNoticePayload } from '../../domain/school/invites/rebind-notice.js';
import { fullName } from '../../domain/school/people.js';
import type { SingleRenderer } from './common.js';

/**
 * To the account that holds a connected person who is being moved to another Telegram account
 * (issue 11): "a new invite was issued for you" when the re-bind starts, "this account no longer
 * has access" once another account used it. In this account's language; nothing of the children.
 */
export const renderAccountRebind: SingleRenderer = async (input, doc, base, nothing) => {
  const { db, t } = input;
  const payload = (doc.payload ?? {}) as Partial<RebindNoticePayload>;
  const [person, school] = await Promise.all([
    db.models.Person.findById(payload.personId, { firstName: 1, lastName: 1, middleName: 1 }).lean(),
    db.models.School.findById(doc.schoolId, { name: 1 }).lean(),
  ]);
  if (!person) return nothing();
  const vars = { name: fullName(person), school: school?.name ?? '' };
  return { ...base, text: t(payload.stage === 'moved' ? 'invite.rebind.toldMoved' : 'invite.rebind.toldIssued', vars) };
};
