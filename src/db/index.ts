import type { Connection } from 'mongoose';
import { accountModel } from './models/account.js';
import { conversationStateModel, processedUpdateModel } from './models/kv.js';

/** All models of the app bound to one connection. Add a model here and its indexes are synced at start-up. */
export function createModels(conn: Connection) {
  return {
    Account: accountModel(conn),
    ConversationState: conversationStateModel(conn),
    ProcessedUpdate: processedUpdateModel(conn),
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
