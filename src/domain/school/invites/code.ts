import { createHash } from 'node:crypto';

/**
 * Joining by invite (R2, R3). Staff get their invite from the admin, families from their class
 * teacher; an invite binds one Telegram account to one person of the school. The code travels in
 * a `t.me/<bot>?start=<code>` link, so it is base64url (Telegram allows [A-Za-z0-9_-], ≤ 64 chars);
 * only its SHA-256 hash is stored, so a database dump reveals no usable code.
 */

/** 18 random bytes = 144 bits = 24 base64url characters. */
export const INVITE_CODE_BYTES = 18;

export const hashInviteCode = (code: string) => createHash('sha256').update(code, 'utf8').digest('hex');

export function inviteLink(botUsername: string, code: string): string {
  return `https://t.me/${botUsername}?start=${code}`;
}
