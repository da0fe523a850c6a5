import { z } from 'zod';
import { cbField, defineCallback } from './index.js';

/**
 * The button formats of joining, the role menu, /profile, /language, /privacy, /invite (R2, R3)
 * and the admin's file import. Every button carries ids only; the domain re-checks the presser's
 * rights on every press. A leaf: nothing here knows grammY or the domain's use cases. Prefixes and
 * field order are frozen (buttons already sent must keep working).
 */
const oid = cbField.objectId;

/** The languages of the bot as /language offers them; test/unit/callbacks.test.ts keeps this equal to config's LOCALES. */
export const LANGUAGES = ['ru', 'en'] as const;
export const languageCb = defineCallback('lang', { l: cbField.enumOf(LANGUAGES) });

/** "Accept" under the privacy notice; carries the notice version the user actually read. */
export const consentCb = defineCallback('consent', { v: cbField.int(1, 1000) });

// The role menu and /profile.
export const MENU_ACTIONS = ['children', 'invite', 'privacy', 'profile', 'today'] as const;
export const menuCb = defineCallback('menu', { a: cbField.enumOf(MENU_ACTIONS) });
export const profileCb = defineCallback('prof', { p: oid() });

/** The admin's import preview: ok = import for real, no = discard; id = the pending import. */
export const importCb = defineCallback('imp', { a: cbField.enumOf(['ok', 'no'] as const), id: oid() });
/** "Send me the templates": the sample files of docs/import/, as documents (issue 11). */
export const importTemplatesCb = defineCallback('imtpl', {});

// /invite: p = parents, s = the student themself.
export const INVITE_FAMILY = ['p', 's'] as const;
export const inviteMenuCb = defineCallback('invm', { k: cbField.enumOf(['staff', 'classes']) });
export const inviteClassCb = defineCallback('invc', { c: oid() });
export const inviteSheetCb = defineCallback('invs', { c: oid(), r: cbField.enumOf(INVITE_FAMILY) });
export const inviteStudentCb = defineCallback('invst', { s: oid(), r: cbField.enumOf(INVITE_FAMILY) });
export const inviteStaffListCb = defineCallback('invsl', { n: cbField.int(0, 1000) });
export const inviteStaffCb = defineCallback('invp', { p: oid() });
export const inviteAllStaffCb = defineCallback('inva', {});

/** Which outstanding invites a button is about: a class (its id) or the staff ('s'). */
export const INVITE_STAFF_SCOPE = 's';
const scopeField = () => z.union([oid(), z.literal(INVITE_STAFF_SCOPE)]);
const pageField = () => cbField.int(0, 1000);
/** The outstanding invites of a class or of the staff, one page (R2). */
export const inviteOutstandingCb = defineCallback('invo', { c: scopeField(), n: pageField() });
/** "Revoke this one?" and its "Yes": the invite, plus the list (scope, page) to come back to. */
export const inviteRevokeAskCb = defineCallback('invr', { i: oid(), c: scopeField(), n: pageField() });
export const inviteRevokeCb = defineCallback('invy', { i: oid(), c: scopeField(), n: pageField() });
/**
 * Moving a connected person to a new phone (issue 11): "Re-bind …?" and its "Yes". The role is
 * the one the person's invite carries (p = parent, s = student, t = their staff role).
 */
export const REBIND_ROLES = ['p', 's', 't'] as const;
export const inviteRebindAskCb = defineCallback('invb', { p: oid(), r: cbField.enumOf(REBIND_ROLES) });
export const inviteRebindCb = defineCallback('invbc', { p: oid(), r: cbField.enumOf(REBIND_ROLES) });
export const inviteRebindNoCb = defineCallback('invbn', {});

/** The admin changes a period's mark window for the whole school from /calendar (R15). */
export const calendarWindowCb = defineCallback('calw', {
  p: z.string().regex(/^(q[1-4]|h[12]|t[1-3]|year)$/),
  a: cbField.enumOf(['open', 'week', 'close'] as const),
});
