/**
 * Builds the local MongoDB stand-in (mongo-java-server behind a tiny Java launcher, see
 * scripts/mongo-server/) into scripts/mongo-server/target/mongo-standin.jar. Used by the local
 * server (src/db/local-server.ts) and by `npm run mongo:build` (scripts/build-mongo-standin.ts).
 *
 * - `ensureStandinJar()` returns the jar path and only runs Maven when the jar is missing or
 *   older than pom.xml / src/**.
 * - Two processes building at the same time (e.g. `npm start` and `npm test`) are serialised
 *   with a lock file next to the jar; the second one waits and then reuses the result.
 *
 * Needs Java 17+ and Maven 3.8+. The first build downloads the dependencies from Maven Central
 * into ~/.m2; pass `offline: true` (tests do) to build only from that local cache.
 */
import { spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from './child-process.js';

export const STANDIN_JAR_NAME = 'mongo-standin.jar';

const LOCK_NAME = '.mongo-standin-build.lock';
/** A lock older than this is considered abandoned even if its pid looks alive (pid reuse). */
const LOCK_STALE_MS = 15 * 60_000;
const LOCK_WAIT_MS = 15 * 60_000;
const BUILD_TIMEOUT_MS = 15 * 60_000;

export class StandinBuildError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StandinBuildError';
  }
}

export interface EnsureStandinOptions {
  /** Rebuild even if the jar looks up to date. */
  force?: boolean;
  /** Run Maven with `-o`: use only ~/.m2, never the network. */
  offline?: boolean;
  /** Progress messages (building, waiting for another build). Defaults to silence. */
  log?: (message: string) => void;
}

export interface StandinPaths {
  projectRoot: string;
  moduleDir: string;
  pom: string;
  sourceDir: string;
  targetDir: string;
  jar: string;
  lock: string;
}

let cachedRoot: string | undefined;

/** The repository root: the nearest ancestor of this file holding scripts/mongo-server/pom.xml. */
export async function findProjectRoot(): Promise<string> {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (await exists(path.join(dir, 'scripts', 'mongo-server', 'pom.xml'))) {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new StandinBuildError(
        `cannot find scripts/mongo-server/pom.xml above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

export async function standinPaths(): Promise<StandinPaths> {
  const projectRoot = await findProjectRoot();
  const moduleDir = path.join(projectRoot, 'scripts', 'mongo-server');
  const targetDir = path.join(moduleDir, 'target');
  return {
    projectRoot,
    moduleDir,
    pom: path.join(moduleDir, 'pom.xml'),
    sourceDir: path.join(moduleDir, 'src'),
    targetDir,
    jar: path.join(targetDir, STANDIN_JAR_NAME),
    lock: path.join(targetDir, LOCK_NAME),
  };
}

/**
 * Returns the path of an up-to-date stand-in jar, building it first when needed. While another
 * process holds the build lock the jar may be half-written, so this waits for that build.
 *
 * The jar is rewritten in place by Maven; processes should run a copy of it (see
 * `startLocalMongo`), not this path, if a rebuild may happen while they run.
 */
export async function ensureStandinJar(options: EnsureStandinOptions = {}): Promise<string> {
  const paths = await standinPaths();
  const log = options.log ?? (() => {});
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announcedWait = false;
  let force = options.force ?? false;
  for (;;) {
    if (!force && !(await isLockHeld(paths.lock)) && (await isJarUpToDate(paths))) return paths.jar;
    await fs.mkdir(paths.targetDir, { recursive: true });
    const release = await tryLock(paths.lock);
    if (release) {
      try {
        // Another process may have finished the build while we were waiting for the lock.
        if (!force && (await isJarUpToDate(paths))) return paths.jar;
        await buildJar(paths, options, log);
        return paths.jar;
      } finally {
        await release();
      }
    }
    if (!announcedWait) {
      log(`another process is building the MongoDB stand-in (${paths.lock}); waiting for it`);
      announcedWait = true;
    }
    if (Date.now() > deadline) {
      throw new StandinBuildError(
        `timed out waiting for another build of the MongoDB stand-in; remove ${paths.lock} if no build is running`,
      );
    }
    await sleep(500);
    // `force` asks for a fresh build; the one that just finished elsewhere is fresh enough.
    force = false;
  }
}

/**
 * Like ensureStandinJar, but returns a private copy under target/run/ to launch. Maven rewrites
 * target/mongo-standin.jar in place, and a JVM whose jar is rewritten under it can crash; a
 * copy is never rewritten (a rebuild makes a new copy, named after the jar's mtime and size).
 */
export async function ensureStandinRunJar(options: EnsureStandinOptions = {}): Promise<string> {
  const paths = await standinPaths();
  const runDir = path.join(paths.targetDir, 'run');
  for (let attempt = 0; ; attempt++) {
    const jar = await ensureStandinJar(attempt === 0 ? options : { ...options, force: false });
    const before = await fs.stat(jar);
    const name = `mongo-standin-${Math.trunc(before.mtimeMs)}-${before.size}.jar`;
    const copy = path.join(runDir, name);
    const existing = await fs.stat(copy).catch(() => undefined);
    if (existing?.size === before.size) return copy;

    await fs.mkdir(runDir, { recursive: true });
    const tmp = `${copy}.${process.pid}.${Date.now()}.tmp`;
    await fs.copyFile(jar, tmp);
    const after = await fs.stat(jar).catch(() => undefined);
    const stable = after?.mtimeMs === before.mtimeMs && after.size === before.size && !(await isLockHeld(paths.lock));
    if (!stable) {
      // A rebuild started while copying: the copy may be torn. Wait for that build and retry.
      await fs.rm(tmp, { force: true });
      if (attempt >= 3) throw new StandinBuildError('the MongoDB stand-in jar kept changing while it was being copied');
      continue;
    }
    await fs.rename(tmp, copy);
    await removeOldCopies(runDir, name);
    return copy;
  }
}

/** Old copies may still be running (harmless to unlink on Unix), so only remove ones an hour old. */
async function removeOldCopies(runDir: string, keep: string): Promise<void> {
  const names = await fs.readdir(runDir).catch(() => [] as string[]);
  for (const name of names) {
    if (name === keep) continue;
    const file = path.join(runDir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > 3600_000) await fs.rm(file, { force: true }).catch(() => {});
  }
}

async function isLockHeld(lockPath: string): Promise<boolean> {
  return (await exists(lockPath)) && !(await isLockStale(lockPath));
}

/** True when the jar exists and is at least as new as pom.xml and every file under src/. */
export async function isJarUpToDate(paths?: StandinPaths): Promise<boolean> {
  const p = paths ?? (await standinPaths());
  const jarStat = await fs.stat(p.jar).catch(() => undefined);
  if (!jarStat?.isFile()) return false;
  const newestSource = await newestMtime([p.pom, p.sourceDir]);
  return jarStat.mtimeMs >= newestSource;
}

async function newestMtime(entries: string[]): Promise<number> {
  let newest = 0;
  for (const entry of entries) {
    const stat = await fs.stat(entry).catch(() => undefined);
    if (!stat) continue;
    if (stat.isDirectory()) {
      const children = await fs.readdir(entry);
      newest = Math.max(newest, stat.mtimeMs, await newestMtime(children.map((c) => path.join(entry, c))));
    } else {
      newest = Math.max(newest, stat.mtimeMs);
    }
  }
  return newest;
}

async function buildJar(paths: StandinPaths, options: EnsureStandinOptions, log: (m: string) => void): Promise<void> {
  const java = await findExecutable('java', javaHomeBin('java'));
  if (!java) {
    throw new StandinBuildError(
      'cannot build the MongoDB stand-in: `java` was not found (install a JDK 17+, e.g. `apt-get install openjdk-17-jdk-headless`, or set JAVA_HOME)',
    );
  }
  const mvn = await findExecutable('mvn', process.env['MAVEN_HOME'] ? path.join(process.env['MAVEN_HOME'], 'bin', 'mvn') : undefined);
  if (!mvn) {
    throw new StandinBuildError(
      'cannot build the MongoDB stand-in: `mvn` (Maven 3.8+) was not found on PATH (e.g. `apt-get install maven`)',
    );
  }
  const javaMajor = await javaMajorVersion(java);
  if (javaMajor !== undefined && javaMajor < 17) {
    throw new StandinBuildError(`cannot build the MongoDB stand-in: Java 17+ is required, found Java ${javaMajor} at ${java}`);
  }

  const args = ['-q', '-B', '-f', paths.pom, 'package', '-DskipTests'];
  if (options.offline) args.push('-o');
  log(`building the MongoDB stand-in: mvn ${args.join(' ')}`);
  const started = Date.now();
  const result = await run(mvn, args, paths.projectRoot, BUILD_TIMEOUT_MS);
  if (result.code !== 0 || !(await exists(paths.jar))) {
    const output = tail(`${result.stdout}\n${result.stderr}`, 40);
    const offlineHint =
      options.offline && /offline|Cannot access|could not resolve|resolve dependencies/i.test(output)
        ? '\nThe build ran offline (tests never download). Run `npm run mongo:build` once with network access to Maven Central, then retry.'
        : '';
    throw new StandinBuildError(
      `building the MongoDB stand-in failed (mvn exited with ${result.code ?? result.signal}).${offlineHint}\n${output}`,
    );
  }
  log(`built ${paths.jar} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Creates the lock file atomically; returns its release function, or undefined when held by someone else. */
async function tryLock(lockPath: string): Promise<(() => Promise<void>) | undefined> {
  try {
    const handle = await fs.open(lockPath, 'wx');
    await handle.writeFile(JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
    await handle.close();
    return async () => {
      await fs.rm(lockPath, { force: true });
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (await isLockStale(lockPath)) {
    await fs.rm(lockPath, { force: true });
    return tryLock(lockPath);
  }
  return undefined;
}

async function isLockStale(lockPath: string): Promise<boolean> {
  let raw: string;
  let ageMs: number;
  try {
    const [content, stat] = await Promise.all([fs.readFile(lockPath, 'utf8'), fs.stat(lockPath)]);
    raw = content;
    ageMs = Date.now() - stat.mtimeMs;
  } catch {
    // Vanished in the meantime: not stale, the caller simply retries.
    return false;
  }
  if (ageMs > LOCK_STALE_MS) return true;
  let pid = Number.NaN;
  try {
    pid = Number((JSON.parse(raw) as { pid?: unknown }).pid);
  } catch {
    // Half-written by its owner: give it a moment.
  }
  if (!Number.isInteger(pid) || pid <= 0) return ageMs > 5_000;
  return !isProcessAlive(pid);
}

/** `$JAVA_HOME/bin/<name>` when JAVA_HOME is set. */
export function javaHomeBin(name: string): string | undefined {
  const home = process.env['JAVA_HOME'];
  return home ? path.join(home, 'bin', name) : undefined;
}

/** Looks `name` up on PATH (no shell involved); `preferred` is tried first when given. */
export async function findExecutable(name: string, preferred?: string): Promise<string | undefined> {
  const candidates: string[] = [];
  if (preferred) candidates.push(preferred);
  const extensions =
    process.platform === 'win32' ? (process.env['PATHEXT'] ?? '.EXE;.CMD;.BAT').split(';').filter(Boolean) : [''];
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of extensions) candidates.push(path.join(dir, name + ext.toLowerCase()), path.join(dir, name + ext));
  }
  if (process.platform === 'win32' && preferred) {
    for (const ext of extensions) candidates.push(preferred + ext);
  }
  for (const candidate of candidates) {
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const stat = await fs.stat(file);
    if (!stat.isFile()) return false;
    if (process.platform !== 'win32') await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function javaMajorVersion(java: string): Promise<number | undefined> {
  const result = await run(java, ['-version'], undefined, 30_000).catch(() => undefined);
  if (!result) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (!match) return undefined;
  const first = Number(match[1]);
  // Java 8 and older report "1.8.0_x".
  return first === 1 && match[2] ? Number(match[2]) : first;
}

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string | undefined, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // mvn is a .cmd script on Windows, which only runs through a shell.
      shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(command),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout = keepTail(stdout + chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = keepTail(stderr + chunk);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function keepTail(text: string): string {
  return text.length > 200_000 ? text.slice(-100_000) : text;
}

const ANSI_ESCAPE = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function tail(text: string, lines: number): string {
  return text
    .replace(ANSI_ESCAPE, '')
    .split('\n')
    .filter((line) => !/^(\[ERROR\])?\s*$/.test(line) && !/full stack trace|Re-run Maven|For more information|\[Help \d+\]/.test(line))
    .slice(-lines)
    .join('\n');
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
