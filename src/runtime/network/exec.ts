/**
 * Runs the host's network tools (ip, iptables) for the netns provider. Every failure carries the
 * command line and the tool's own message, so a broken setup says what the kernel refused.
 */
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${command}: ${stderr.trim() || `exited ${code}`}`);
  }
}

/** Runs `command args`, feeding `input` on stdin; resolves with stdout, rejects with a CommandError. */
export function run(command: string, args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => reject(new CommandError([command, ...args].join(' '), null, e.code === 'ENOENT' ? `${command} is not installed` : e.message)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new CommandError([command, ...args].join(' '), code, err))));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Like run, for cleanup: a failure (already gone) is not an error. */
export async function tryRun(command: string, args: readonly string[], input?: string): Promise<boolean> {
  try {
    await run(command, args, input);
    return true;
  } catch {
    return false;
  }
}
