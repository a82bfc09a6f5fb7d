/**
 * A secret kept in a file that several processes may create at once (control plane replicas
 * starting together on one state directory): written aside, then linked into place. link fails
 * when the file exists, so no process ever replaces another's secret, and none can read a
 * half-written one. A file others can read is refused: it holds a key.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** The file's text, created (mode 0600, in a 0700 directory) from `create()` when missing. */
export function readOrCreateSecret(path: string, create: () => string, what: string): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let exists = true;
  try {
    statSync(path);
  } catch {
    exists = false;
  }
  if (!exists) {
    const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(aside, create(), { flag: 'wx', mode: 0o600 });
    try {
      linkSync(aside, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(aside);
    }
  }
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by other users; it holds ${what} and must be mode 0600 (chmod 600 ${path})`);
  }
  return readFileSync(path, 'utf8');
}
