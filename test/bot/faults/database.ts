/**
 * A database of its own for the fault tests and bench:outage: the stand-in (mongo-java-server) on a
 * fixed loopback port with an H2 file, so it can be frozen (SIGSTOP/SIGCONT: connections stay
 * open, nothing answers) and stopped and started again on the same port with the same data (the
 * driver reconnects by itself). Never the shared server of the test run: freezing that would stall
 * every other test file.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { freePort, LOOPBACK } from '../../../src/db/child-process.js';
import { ensureStandinRunJar, findExecutable, javaHomeBin } from '../../../src/db/standin-build.js';

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

export class ControlledDatabase {
  private child: Child | undefined;
  private frozen = false;

  private constructor(
    private readonly java: string,
    private readonly jar: string,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<ControlledDatabase> {
    const java = await findExecutable('java', javaHomeBin('java'));
    if (!java) throw new Error('java is needed for the stand-in');
    const jar = await ensureStandinRunJar({ offline: true });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sjb-faults-'));
    const db = new ControlledDatabase(java, jar, await freePort(), dir);
    await db.up();
    return db;
  }

  uri(dbName: string): string {
    return `mongodb://${LOOPBACK}:${this.port}/${dbName}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server (again) on the same port and file. */
  async up(): Promise<void> {
    if (this.child) return;
    const args = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-jar', this.jar];
    args.push('--host', LOOPBACK, '--port', String(this.port), '--h2', path.join(this.dir, 'faults.h2'));
    const child = spawn(this.java, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stand-in did not start: ${out}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/^LISTENING /m.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stand-in exited with ${code}: ${out}`));
      });
    });
    child.removeAllListeners('exit');
  }

  /** SIGSTOP: open connections stay open, nothing is answered. */
  freeze(): void {
    if (!this.child?.pid || this.frozen) return;
    process.kill(this.child.pid, 'SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (!this.child?.pid || !this.frozen) return;
    process.kill(this.child.pid, 'SIGCONT');
    this.frozen = false;
  }

  /** A clean stop (its data is flushed to the file): connections are refused until `up()`. */
  async down(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.thaw();
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end();
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    await this.down();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
