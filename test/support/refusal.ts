import { DomainError } from '../../src/domain/shared/errors.js';

/** The i18n key a use case refused with (a DomainError); anything else, or no refusal, fails the test. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e.key;
    throw e;
  }
  throw new Error('expected a refusal');
}
