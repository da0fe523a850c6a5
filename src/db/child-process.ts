/**
 * Child process plumbing for the local database servers (src/db/local-server.ts): read a child's
 * output line by line, wait for its "ready" line, stop it cleanly, pick a free loopback port.
 */
import type { ChildProcessByStdio } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';

export const LOOPBACK = '127.0.0.1';
/** How long a server gets to stop after its stdin closed, before SIGTERM. */
export const STOP_TIMEOUT_MS = 20_000;

export type PipedChild = ChildProcessByStdio<Writable, Readable, Readable>;

export interface WatchedProcess {
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Lets this process exit while the child runs; the child then sees EOF on stdin and stops. */
  detach(): void;
  /** Closes stdin (clean shutdown), then SIGTERM, then SIGKILL. Resolves once the child exited. */
  stop(): Promise<void>;
  /** The last lines of output, for error messages. */
  output(): string;
}

/**
 * Reads the child's stdout/stderr line by line. Keeps the last lines for error messages and
 * forwards the lines `forward` picks to the logger at the level it returns.
 */
export function watchProcess(
  child: PipedChild,
  name: string,
  logger: Logger,
  forward: (line: string) => 'warn' | 'debug' | undefined,
): WatchedProcess {
  const recent: string[] = [];
  const lineListeners = new Set<(line: string) => void>();
  let exited = false;
  let exitDescription = '';
  let spawnError: Error | undefined;
  const exitWaiters = new Set<() => void>();

  const onLine = (line: string) => {
    if (line.trim() === '') return;
    recent.push(line);
    if (recent.length > 40) recent.shift();
    const level = forward(line);
    if (level) logger[level]({ server: name }, line);
    for (const listener of lineListeners) listener(line);
  };
  const splitLines = (stream: Readable) => {
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffer += chunk;
      let index = buffer.indexOf('\n');
      while (index !== -1) {
        onLine(buffer.slice(0, index).replace(/\r$/, ''));
        buffer = buffer.slice(index + 1);
        index = buffer.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (buffer) onLine(buffer);
      buffer = '';
    });
  };
  splitLines(child.stdout);
  splitLines(child.stderr);
  // EPIPE when the child is already gone is expected during shutdown.
  child.stdin.on('error', () => {});
  child.on('error', (error) => {
    spawnError = error;
    exited = true;
    exitDescription = `could not be started: ${error.message}`;
    for (const waiter of exitWaiters) waiter();
  });
  child.on('exit', (code, signal) => {
    exited = true;
    exitDescription = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    for (const waiter of exitWaiters) waiter();
  });

  const output = () => recent.slice(-15).join('\n');
  const waitForExit = (timeoutMs: number) =>
    new Promise<boolean>((resolve) => {
      if (exited) return resolve(true);
      const done = () => {
        clearTimeout(timer);
        exitWaiters.delete(done);
        resolve(true);
      };
      const timer = setTimeout(() => {
        exitWaiters.delete(done);
        resolve(false);
      }, timeoutMs);
      exitWaiters.add(done);
    });

  return {
    output,
    waitForLine(pattern, timeoutMs) {
      return new Promise<string>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          lineListeners.delete(listener);
          exitWaiters.delete(onExit);
        };
        const listener = (line: string) => {
          if (!pattern.test(line)) return;
          cleanup();
          resolve(line);
        };
        const onExit = () => {
          cleanup();
          const detail = output();
          reject(spawnError ?? new Error(`${name} ${exitDescription} before it was ready${detail ? `:\n${detail}` : ''}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${name} was not ready after ${timeoutMs / 1000} s${output() ? `:\n${output()}` : ''}`));
        }, timeoutMs);
        if (exited) return onExit();
        lineListeners.add(listener);
        exitWaiters.add(onExit);
      });
    },
    detach() {
      child.unref();
      for (const stream of [child.stdin, child.stdout, child.stderr]) {
        (stream as unknown as { unref?: () => void }).unref?.();
      }
    },
    async stop() {
      if (exited) return;
      child.stdin.end();
      if (await waitForExit(STOP_TIMEOUT_MS)) return;
      logger.warn({ server: name }, 'did not stop after its stdin closed; sending SIGTERM');
      child.kill('SIGTERM');
      if (await waitForExit(5_000)) return;
      child.kill('SIGKILL');
      await waitForExit(5_000);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

/** A stop function that runs once, however often it is called. */
export function once(fn: () => Promise<void>): () => Promise<void> {
  let promise: Promise<void> | undefined;
  return () => {
    promise ??= fn();
    return promise;
  };
}

/** True while a process with this pid exists (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
