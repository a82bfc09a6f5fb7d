/**
 * The runtime's store: every applied resource (and every running Pod) as one YAML file under
 * WEFT_HOME/store, written atomically (a hidden temp file, then rename), so a crash mid-write
 * leaves the old file or the new one, never half of one, and the control plane watching the
 * folder (it skips dot-files) never reads a partial set. The in-memory index is the truth while
 * the daemon runs; the folder is the truth across restarts.
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { loadResources, type AnyResource } from '../resources/index.js';
import { formatDiagnostic } from '../lib/diagnostic.js';
import type { Logger } from '../lib/log.js';

/** `group|Kind|namespace|name`, the identity of a resource ('' group for core). */
export function resourceKey(r: { apiVersion: string; kind: string; metadata: { namespace: string; name: string } }): string {
  const group = r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '';
  return `${group}|${r.kind}|${r.metadata.namespace}|${r.metadata.name}`;
}

export class Store {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #byKey = new Map<string, AnyResource>();

  constructor(dir: string, log: Logger) {
    this.#dir = dir;
    this.#log = log;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Reads every file; one that no longer validates is reported and left out (never fatal). */
  load(): void {
    this.#byKey.clear();
    for (const file of yamlFiles(this.#dir)) {
      const result = loadResources([{ file, text: readFileSync(file, 'utf8') }]);
      for (const d of result.diagnostics) if (d.level === 'Error') this.#log.error('stored resource does not validate; ignored', { diagnostic: formatDiagnostic(d) });
      for (const r of result.resources) this.#byKey.set(resourceKey(r), r);
    }
  }

  all(): AnyResource[] {
    return [...this.#byKey.values()];
  }

  get(key: string): AnyResource | undefined {
    return this.#byKey.get(key);
  }

  /** Writes an object (Kubernetes-shaped, validated by the caller) and indexes its typed form. */
  put(object: Record<string, unknown>): AnyResource {
    const text = stringify(object, { lineWidth: 0 });
    const path = this.#path(object);
    const loaded = loadResources([{ file: path, text }]);
    const resource = loaded.resources[0];
    if (!loaded.ok || !resource) {
      throw new Error(`refusing to store an invalid object: ${loaded.diagnostics.map(formatDiagnostic).join('; ')}`);
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
    writeFileSync(temp, text, { mode: 0o600 });
    renameSync(temp, path);
    this.#byKey.set(resourceKey(resource), resource);
    return resource;
  }

  delete(key: string): boolean {
    const r = this.#byKey.get(key);
    if (!r) return false;
    rmSync(this.#path(r.raw), { force: true });
    this.#byKey.delete(key);
    return true;
  }

  /** store/<kind>[.<group>]/<namespace or _cluster>/<name>.yaml */
  #path(object: Record<string, unknown>): string {
    const apiVersion = String(object.apiVersion);
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
    const kind = String(object.kind).toLowerCase() + (group ? `.${group}` : '');
    return join(this.#dir, kind, meta.namespace || '_cluster', `${meta.name ?? ''}.yaml`);
  }
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...yamlFiles(path));
    else if (entry.endsWith('.yaml')) out.push(path);
  }
  return out;
}
