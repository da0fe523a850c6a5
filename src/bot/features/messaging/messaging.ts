import { Composer } from 'grammy';
import type { BotContext } from '../../context.js';
import { composeFeature } from './compose.js';
import { inboxFeature } from './inbox.js';
import { moderationFeature } from './moderation.js';
import { officeHoursFeature } from './office-hours.js';
import { writeFeature } from './write.js';

/**
 * Teacher–family messaging (R3, R24, R31): /write, /inbox, /officehours, mute and report, and
 * composing in a thread. Composing comes last: its commands run before it (so /write or /inbox
 * does not end composing), and any other command ends composing and passes on.
 */
export function messagingFeature() {
  const composer = new Composer<BotContext>();
  composer.use(writeFeature(), inboxFeature(), officeHoursFeature(), moderationFeature(), composeFeature());
  return composer;
}
