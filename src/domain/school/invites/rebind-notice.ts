import type { Types } from 'mongoose';
import type { Db } from '../../../db/index.js';
import { enqueue } from '../../notices/outbox.js';

/**
 * Moving a connected person to another Telegram account (a new phone) is never silent (issue 11,
 * R3, R32): an invite for someone who has joined needs the explicit re-bind (createInvite's
 * `rebind`), and the account that holds the person now is told twice through the outbox — when
 * the invite is issued ("issued": if you did not ask for it, tell the school) and when another
 * account redeems it ("moved": this account no longer has access). The new account accepts the
 * privacy notice itself (redeem resets the consent).
 */

export type RebindStage = 'issued' | 'moved';

export interface RebindNoticePayload {
  stage: RebindStage;
  personId: string;
}

export async function tellOldAccount(
  db: Db,
  input: { schoolId: Types.ObjectId; personId: Types.ObjectId; chatId: number; inviteId: Types.ObjectId; stage: RebindStage; now: Date },
): Promise<void> {
  const payload: RebindNoticePayload = { stage: input.stage, personId: String(input.personId) };
  await enqueue(db, {
    key: `rebind:${input.stage}:${String(input.inviteId)}`,
    schoolId: input.schoolId,
    chatId: input.chatId,
    recipientId: input.personId,
    kind: 'accountRebind',
    payload: payload as unknown as Record<string, unknown>,
    priority: 'urgent',
    notBefore: input.now,
  });
}
