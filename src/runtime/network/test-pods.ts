/**
 * Helpers for the netns tests: why a test must skip on this machine, and processes run inside
 * a pod's namespace (one-shot commands with their output, and servers that say when they listen).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { NetnsPod, RunAs } from './provider.js';
import { NetnsNetwork } from './provider.js';

export async function skipReason(): Promise<string | false> {
  const problem = await NetnsNetwork.problem();
  return problem === undefined ? false : `netns tests skipped: ${problem}`;
}

/** A mesh id no other run uses (t + 6 hex). */
export function testMeshId(): string {
  return `t${Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0')}`;
}

/** Runs a command in the pod; resolves with stdout, rejects with stderr on a non-zero exit. */
export function runIn(pod: NetnsPod, command: string, args: readonly string[], as?: RunAs): Promise<string> {
  const [cmd, argv] = pod.wrap(command, args, as);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} in ${pod.netns} exited ${code}: ${err || out}`))));
  });
}

/** Starts a long-running process in the pod and waits until its stdout contains `ready`. */
export function startIn(pod: NetnsPod, command: string, args: readonly string[], ready: string, as?: RunAs): Promise<ChildProcess> {
  const [cmd, argv] = pod.wrap(command, args, as);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} in ${pod.netns} did not print ${JSON.stringify(ready)}: ${out}${err}`));
    }, 10_000);
    child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} in ${pod.netns} exited ${code}: ${out}${err}`));
    });
  });
}

/** A node script as `node -e` arguments. */
export function nodeScript(source: string): [string, string[]] {
  return [process.execPath, ['-e', source]];
}
