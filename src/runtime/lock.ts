/**
 * One daemon per WEFT_HOME: a pid file created exclusively is the lock, and a socket left by a
 * crashed daemon (nobody answers on it) is removed before the new daemon listens. A pid file whose
 * process is gone is stale and taken over, so a crash never needs manual cleanup.
 */
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, existsSync } from 'node:fs';
import net from 'node:net';

export class AlreadyRunning extends Error {
  constructor(readonly pid: number, home: string) {
    super(`a Weft runtime is already running for ${home} (pid ${pid}); stop it with \`weft down\``);
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in the lock file, if a live process holds it. */
export function lockHolder(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
}

/** Takes the lock for this process; throws AlreadyRunning when a live daemon holds it. */
export function acquireLock(pidFile: string, home: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(pidFile, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        if (lockHolder(pidFile) === process.pid || !existsSync(pidFile)) rmQuiet(pidFile);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = lockHolder(pidFile);
      if (holder !== undefined && holder !== process.pid) throw new AlreadyRunning(holder, home);
      rmQuiet(pidFile); // stale: its daemon is gone
    }
  }
  throw new Error(`cannot take the lock ${pidFile}`);
}

/** Removes a socket nobody answers on; refuses one a live process still serves. */
export async function clearStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${path} is served by another process`);
  rmQuiet(path);
}

function rmQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
