/**
 * One local database for the bot and the CLI (issue 11, item 3). Without MONGODB_URI, `npm start`
 * starts a local server on the files in DATA_DIR; those files can be opened by one server only. So
 * the bot, once its server is up, writes `<DATA_DIR>/mongo.uri` (the server's URI and the bot's
 * pid) and removes it when it stops. A CLI command that finds the file, with the pid alive and the
 * port answering, uses that server instead of starting its own, and leaves it running.
 * A second `npm start` on the same DATA_DIR refuses, naming the running bot.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { isProcessAlive } from './child-process.js';

export const SHARE_FILE = 'mongo.uri';

export interface SharedLocalMongo {
  uri: string;
  /** The process that started the server (the bot); the server lives as long as it does. */
  pid: number;
  kind: string;
  startedAt: string;
}

const shareFile = (dataDir: string) => path.join(path.resolve(dataDir), SHARE_FILE);

/** Writes the share file (atomically) and returns the function that removes it, if still ours. */
export async function publishLocalMongo(dataDir: string, server: { uri: string; kind: string }): Promise<() => Promise<void>> {
  const file = shareFile(dataDir);
  const share: SharedLocalMongo = { uri: server.uri, pid: process.pid, kind: server.kind, startedAt: new Date().toISOString() };
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(share)}\n`, { mode: 0o600 });
  await fs.rename(tmp, file);
  return async () => {
    const current = await readShare(file);
    if (current?.pid === process.pid) await fs.rm(file, { force: true });
  };
}

/**
 * The server a running bot shares from this DATA_DIR, or undefined. A file left by a process that
 * is gone (killed with SIGKILL) is removed; its server has stopped with it (the stand-in and the
 * mongod supervisor exit when the pipe from their parent closes).
 */
export async function findRunningLocalMongo(dataDir: string): Promise<SharedLocalMongo | undefined> {
  const file = shareFile(dataDir);
  const share = await readShare(file);
  if (!share) return undefined;
  if (share.pid === process.pid) return share;
  if (!isProcessAlive(share.pid)) {
    await fs.rm(file, { force: true }).catch(() => undefined);
    return undefined;
  }
  return (await answers(share.uri)) ? share : undefined;
}

async function readShare(file: string): Promise<SharedLocalMongo | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<SharedLocalMongo>;
    if (typeof value.uri !== 'string' || !/^mongodb:\/\/127\.0\.0\.1:\d+\//.test(value.uri)) return undefined;
    if (typeof value.pid !== 'number' || !Number.isInteger(value.pid) || value.pid <= 0) return undefined;
    return { uri: value.uri, pid: value.pid, kind: String(value.kind ?? ''), startedAt: String(value.startedAt ?? '') };
  } catch {
    return undefined;
  }
}

/** True when the URI's port accepts a TCP connection within a second. */
function answers(uri: string): Promise<boolean> {
  const { hostname, port } = new URL(uri);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
