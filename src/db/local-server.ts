/**
 * A local MongoDB for when MONGODB_URI is not set (development `npm start`, and `npm test`).
 *
 * Tried in this order (see docs/mongodb.md):
 *  1. a real `mongod`: MONGOMS_SYSTEM_BINARY, `mongod` on PATH, or one already cached by
 *     mongodb-memory-server (MONGOMS_DOWNLOAD_DIR, ~/.cache/mongodb-binaries,
 *     node_modules/.cache/mongodb-memory-server). We spawn it ourselves on a free loopback port.
 *  2. only with MONGODB_ALLOW_DOWNLOAD=1: mongod downloaded by mongodb-memory-server-core.
 *  3. the stand-in: mongo-java-server (scripts/mongo-server), built with Maven on first use
 *     (src/db/standin-build.ts),
 *     H2 file storage when persistent, in-memory otherwise.
 *
 * Everything listens on 127.0.0.1 only. Persistent data lives in `<dataDir>/mongod` (real
 * mongod) or `<dataDir>/standin.h2` (stand-in); dataDir defaults to ./data.
 *
 * The child servers die with this process: the stand-in exits when its stdin closes, and a
 * spawned mongod runs under a tiny Node supervisor that does the same.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { freePort, LOOPBACK, once, STOP_TIMEOUT_MS, watchProcess } from './child-process.js';
import { ensureStandinRunJar, findExecutable, findProjectRoot, isExecutableFile, javaHomeBin } from './standin-build.js';

export type LocalMongoKind = 'mongod' | 'downloaded-mongod' | 'standin';

export interface LocalMongo {
  /** mongodb://127.0.0.1:<port>/<dbName> */
  uri: string;
  kind: LocalMongoKind;
  /** Where the data lives (a temporary directory, or undefined for in-memory). */
  dataPath?: string;
  /** Stops the server (flushing persistent data). Safe to call more than once. */
  stop(): Promise<void>;
}

export interface StartLocalMongoOptions {
  /** true: keep data under dataDir (npm start). false: throw-away (tests). */
  persistent: boolean;
  /** Default ./data (relative to the working directory). */
  dataDir?: string;
  logger?: Logger;
  /** Database name put in the URI. Default `school_journal`. */
  dbName?: string;
  /** Allow downloading mongod. Default: env MONGODB_ALLOW_DOWNLOAD is 1/true/yes. */
  allowDownload?: boolean;
  /** Build the stand-in only from the local Maven cache (`mvn -o`); tests never download. */
  offline?: boolean;
}

export class NoDatabaseError extends Error {
  readonly attempts: string[];

  constructor(attempts: string[], options?: { cause?: unknown; reason?: string }) {
    const lines = [
      options?.reason ?? 'No MongoDB available: MONGODB_URI is not set and no local server could be started.',
      'Tried:',
      ...attempts.map((a) => `  - ${a}`),
      'To fix, do one of:',
      '  - point the app at a MongoDB 6+ server: MONGODB_URI=mongodb://127.0.0.1:27017/school_journal',
      '    (or a replica set / Atlas URI, see docs/mongodb.md)',
      '  - install Java 17+ and Maven 3.8+ (e.g. `apt-get install openjdk-17-jdk-headless maven`) so the',
      '    bundled stand-in can be built (`npm run mongo:build`, needs Maven Central once)',
      '  - install mongod, or set MONGODB_ALLOW_DOWNLOAD=1 to let mongodb-memory-server download it once',
    ];
    super(lines.join('\n'), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NoDatabaseError';
    this.attempts = attempts;
  }
}

/**
 * The local database files are open in another process: a running bot, or a CLI command, using the
 * same DATA_DIR (an H2 file or a mongod dbpath is opened by one server at a time). Installing Java
 * or downloading mongod would not help, so the message says what would.
 */
export class DatabaseInUseError extends NoDatabaseError {
  constructor(dataPath: string, options?: { cause?: unknown; holder?: { pid: number; uri: string } }) {
    super([], options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DatabaseInUseError';
    const by = options?.holder
      ? `the bot running as pid ${options.holder.pid} (its database: ${options.holder.uri})`
      : 'another process (a running bot or CLI command with the same DATA_DIR)';
    this.message = [
      `The local database in ${dataPath} is in use by ${by}.`,
      'Only one process can open these files. To fix, do one of:',
      '  - stop that process first (Ctrl-C, or SIGTERM to `npm start`), then try again;',
      '  - while the bot runs, the CLI (`npm run cli -- …`) uses its database by itself: no action is needed there;',
      '  - use another DATA_DIR, or point everything at one MongoDB server with MONGODB_URI.',
    ].join('\n');
  }
}

/** The server's own words for "these files are open elsewhere" (H2 and mongod). */
const IN_USE = /The file is locked|DBPathInUse|Unable to lock the lock file/i;

const MONGOD_START_TIMEOUT_MS = 90_000;
const STANDIN_START_TIMEOUT_MS = 60_000;

export async function startLocalMongo(opts: StartLocalMongoOptions): Promise<LocalMongo> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const dataDir = path.resolve(opts.dataDir ?? './data');
  const dbName = opts.dbName ?? 'school_journal';
  const allowDownload = opts.allowDownload ?? envFlag(process.env['MONGODB_ALLOW_DOWNLOAD']);
  const attempts: string[] = [];

  // 1. A mongod that is already on this machine.
  const located = await locateMongod(attempts);
  if (located) {
    try {
      const started = await startMongod(located.binary, { persistent: opts.persistent, dataDir, dbName, logger });
      logger.info({ kind: started.kind, uri: started.uri, binary: located.binary, data: started.dataPath }, 'Local MongoDB started');
      return started;
    } catch (error) {
      if (opts.persistent && IN_USE.test(errorMessage(error))) throw new DatabaseInUseError(path.join(dataDir, 'mongod'), { cause: error });
      const message = `mongod at ${located.binary} (${located.source}) failed to start: ${errorMessage(error)}`;
      attempts.push(message);
      if (opts.persistent) {
        // Falling back would silently switch to another, empty data store.
        throw new NoDatabaseError(attempts, {
          cause: error,
          reason: `The local mongod failed to start, so the app stopped rather than use another, empty database.`,
        });
      }
      logger.warn({ binary: located.binary }, 'mongod failed to start; trying the next option');
    }
  }

  // 2. Download mongod, only when asked to.
  if (allowDownload) {
    try {
      const started = await startDownloadedMongod({ persistent: opts.persistent, dataDir, dbName, logger });
      logger.info({ kind: started.kind, uri: started.uri, data: started.dataPath }, 'Local MongoDB started');
      return started;
    } catch (error) {
      attempts.push(`download of mongod (MONGODB_ALLOW_DOWNLOAD=1) failed: ${errorMessage(error)}`);
    }
  } else {
    attempts.push('download of mongod: not allowed (set MONGODB_ALLOW_DOWNLOAD=1 to allow it)');
  }

  // 3. The stand-in.
  try {
    const started = await startStandin({
      persistent: opts.persistent,
      dataDir,
      dbName,
      logger,
      offline: opts.offline ?? false,
    });
    logger.info({ kind: started.kind, uri: started.uri, data: started.dataPath ?? 'memory' }, 'Local MongoDB started');
    return started;
  } catch (error) {
    if (opts.persistent && IN_USE.test(errorMessage(error))) throw new DatabaseInUseError(path.join(dataDir, 'standin.h2'), { cause: error });
    attempts.push(`stand-in (mongo-java-server): ${errorMessage(error)}`);
    throw new NoDatabaseError(attempts, { cause: error });
  }
}

// ---------------------------------------------------------------------------------------------
// 1. mongod on this machine

interface LocatedMongod {
  binary: string;
  source: string;
}

async function locateMongod(attempts: string[]): Promise<LocatedMongod | undefined> {
  const systemBinary = process.env['MONGOMS_SYSTEM_BINARY'];
  if (systemBinary) {
    if (await isExecutableFile(systemBinary)) return { binary: path.resolve(systemBinary), source: 'MONGOMS_SYSTEM_BINARY' };
    attempts.push(`MONGOMS_SYSTEM_BINARY=${systemBinary}: not an executable file`);
  }
  const onPath = await findExecutable('mongod');
  if (onPath) return { binary: onPath, source: 'PATH' };

  const dirs = await mongodCacheDirs();
  const cached = await newestCachedMongod(dirs);
  if (cached) return { binary: cached, source: 'mongodb-memory-server cache' };
  attempts.push(`mongod: not on PATH and not cached in ${dirs.join(', ')}`);
  return undefined;
}

async function mongodCacheDirs(): Promise<string[]> {
  const dirs: string[] = [];
  const downloadDir = process.env['MONGOMS_DOWNLOAD_DIR'];
  if (downloadDir) dirs.push(path.resolve(downloadDir));
  dirs.push(path.join(os.homedir(), '.cache', 'mongodb-binaries'));
  const root = await findProjectRoot().catch(() => undefined);
  if (root) dirs.push(path.join(root, 'node_modules', '.cache', 'mongodb-memory-server'));
  dirs.push(path.resolve('node_modules', '.cache', 'mongodb-memory-server'));
  return [...new Set(dirs)];
}

/** mongodb-memory-server names its binaries `mongod-<arch>-<dist>-<version>`; take the newest. */
async function newestCachedMongod(dirs: string[]): Promise<string | undefined> {
  const found: Array<{ file: string; version: number[] }> = [];
  for (const dir of dirs) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const match = /^mongod-.+-(\d+)\.(\d+)\.(\d+)(?:\.exe)?$/.exec(name);
      if (!match) continue;
      const file = path.join(dir, name);
      const stat = await fs.stat(file).catch(() => undefined);
      // A partial extraction is small; real mongod binaries are tens of MB.
      if (!stat?.isFile() || stat.size < 1_000_000 || !(await isExecutableFile(file))) continue;
      found.push({ file, version: [Number(match[1]), Number(match[2]), Number(match[3])] });
    }
  }
  found.sort((a, b) => compareVersions(b.version, a.version));
  return found[0]?.file;
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Runs mongod under a small Node supervisor: when the supervisor's stdin closes (this process
 * exited or crashed) or it gets SIGTERM/SIGINT, it stops mongod with SIGTERM, so no mongod is
 * left behind. Plain CommonJS because `node -e` evaluates CommonJS.
 */
const SUPERVISOR = `
const { spawn } = require('node:child_process');
const [bin, ...args] = process.argv.slice(1);
const child = spawn(bin, args, { stdio: ['ignore', 'inherit', 'inherit'] });
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), ${STOP_TIMEOUT_MS}).unref();
};
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
child.on('error', (e) => { console.error(String(e)); process.exit(127); });
child.on('exit', (code, signal) => process.exit(code === null ? (signal ? 1 : 0) : code));
`;

async function startMongod(
  binary: string,
  opts: { persistent: boolean; dataDir: string; dbName: string; logger: Logger },
): Promise<LocalMongo> {
  let dbPath: string;
  let tmpDir: string | undefined;
  if (opts.persistent) {
    dbPath = path.join(opts.dataDir, 'mongod');
    await fs.mkdir(dbPath, { recursive: true });
  } else {
    tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sjb-mongod-'));
    dbPath = tmpDir;
  }
  const removeTmp = async () => {
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true }).catch(() => {});
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind_ip', LOOPBACK, '--dbpath', dbPath, '--nounixsocket'];
    if (!opts.persistent) args.push('--wiredTigerCacheSizeGB', '0.25');
    const child = spawn(process.execPath, ['-e', SUPERVISOR, binary, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const proc = watchProcess(child, 'mongod', opts.logger, () => undefined);
    try {
      await proc.waitForLine(/waiting for connections/i, MONGOD_START_TIMEOUT_MS);
    } catch (error) {
      lastError = error;
      await proc.stop();
      if (/address already in use/i.test(proc.output())) continue; // lost the race for the port
      await removeTmp();
      throw error;
    }
    proc.detach();
    return {
      uri: `mongodb://${LOOPBACK}:${port}/${opts.dbName}`,
      kind: 'mongod',
      dataPath: dbPath,
      stop: once(async () => {
        await proc.stop();
        await removeTmp();
      }),
    };
  }
  await removeTmp();
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

// ---------------------------------------------------------------------------------------------
// 2. mongod downloaded by mongodb-memory-server-core (opt-in)

async function startDownloadedMongod(opts: {
  persistent: boolean;
  dataDir: string;
  dbName: string;
  logger: Logger;
}): Promise<LocalMongo> {
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  let dbPath: string | undefined;
  if (opts.persistent) {
    dbPath = path.join(opts.dataDir, 'mongod');
    await fs.mkdir(dbPath, { recursive: true });
  }
  opts.logger.info('Starting mongod via mongodb-memory-server (downloads it once if it is not cached)');
  const server = await MongoMemoryServer.create({
    instance: {
      ip: LOOPBACK,
      ...(dbPath ? { dbPath, storageEngine: 'wiredTiger' as const } : {}),
    },
  });
  return {
    uri: server.getUri(opts.dbName),
    kind: 'downloaded-mongod',
    dataPath: dbPath ?? server.instanceInfo?.dbPath,
    stop: once(async () => {
      await server.stop(opts.persistent ? { doCleanup: false } : { doCleanup: true, force: true });
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. the stand-in (mongo-java-server)

async function startStandin(opts: {
  persistent: boolean;
  dataDir: string;
  dbName: string;
  logger: Logger;
  offline: boolean;
}): Promise<LocalMongo> {
  const java = await findExecutable('java', javaHomeBin('java'));
  if (!java) throw new Error('`java` was not found on PATH or in JAVA_HOME (Java 17+ is needed)');
  const jar = await ensureStandinRunJar({ offline: opts.offline, log: (m) => opts.logger.info(m) });

  let h2File: string | undefined;
  // Serial GC: one small heap, few threads. Throw-away servers live for seconds to minutes, so
  // they skip the optimising JIT, which starts faster.
  const jvm = opts.persistent ? ['-XX:+UseSerialGC'] : ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];
  const args = [...jvm, '-jar', jar, '--host', LOOPBACK, '--port', '0'];
  if (opts.persistent) {
    await fs.mkdir(opts.dataDir, { recursive: true });
    h2File = path.join(opts.dataDir, 'standin.h2');
    args.push('--h2', h2File);
  } else {
    args.push('--memory');
  }
  const child = spawn(java, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const proc = watchProcess(child, 'mongo-standin', opts.logger, standinLogLevel);
  let line: string;
  try {
    line = await proc.waitForLine(/^LISTENING \S+:\d+$/, STANDIN_START_TIMEOUT_MS);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  proc.detach();
  const port = Number(line.slice(line.lastIndexOf(':') + 1));
  return {
    uri: `mongodb://${LOOPBACK}:${port}/${opts.dbName}`,
    kind: 'standin',
    ...(h2File ? { dataPath: h2File } : {}),
    stop: once(() => proc.stop()),
  };
}

/**
 * The stand-in logs at WARN and above (stack trace lines are not forwarded). WARN is mostly
 * "secondary index ... is not yet implemented. ignoring" (it only keeps unique indexes), so it
 * goes to debug; ERROR is a real problem.
 */
function standinLogLevel(line: string): 'warn' | 'debug' | undefined {
  const match = /^\d\d:\d\d:\d\d\.\d{3} (WARN|ERROR)/.exec(line);
  if (!match) return undefined;
  return match[1] === 'ERROR' ? 'warn' : 'debug';
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes'].includes(value.trim().toLowerCase());
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
