import type { UserFromGetMe } from 'grammy/types';

/** The fake bot's token and `getMe` (tests, benchmarks, the demo): plain data, no test runner needed. */
export const TEST_TOKEN = '123456789:TEST_TOKEN_abcdefghijklmnopqrstuvwxyz';
export const TEST_BOT_INFO: UserFromGetMe = {
  id: 123456789,
  is_bot: true,
  first_name: 'School Journal',
  username: 'school_journal_test_bot',
  can_join_groups: false,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
  can_connect_to_business: false,
  has_main_web_app: false,
  has_topics_enabled: false,
  allows_users_to_create_topics: false,
  can_manage_bots: false,
} as UserFromGetMe;
