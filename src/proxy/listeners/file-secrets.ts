/**
 * Certificates named by file path rather than delivered with the config: a Sidecar ingress `tls`
 * (and a Gateway server's serverCertificate / privateKey / caCertificates) can only point at files
 * mounted in the pod, which the control plane never sees, so the compiler names them
 * `file-cert:<cert>~<key>` and `file-root:<ca>` and the proxy reads them itself, as Envoy reads
 * SDS file sources. Read when a config's TLS context is built (once per config): a rewritten
 * file is picked up by the next config, not by the next connection.
 */
import { readFileSync } from 'node:fs';
import type { Secret } from '../../proxy-config/index.js';

const CERT_PREFIX = 'file-cert:';
const ROOT_PREFIX = 'file-root:';

/**
 * The secret with its material: as delivered when the config carries it, else read from the
 * files its name points at. Throws (naming the file) when a file cannot be read.
 */
export function withFileMaterial(name: string, delivered: Secret | undefined): Secret | undefined {
  if (delivered?.certificateChain !== undefined || delivered?.trustedCa !== undefined) return delivered;
  if (name.startsWith(CERT_PREFIX)) {
    const [cert = '', key = ''] = name.slice(CERT_PREFIX.length).split('~');
    return { name, certificateChain: read(cert, 'certificate'), privateKey: read(key, 'private key') };
  }
  if (name.startsWith(ROOT_PREFIX)) return { name, trustedCa: read(name.slice(ROOT_PREFIX.length), 'CA certificates') };
  return delivered;
}

function read(path: string, what: string): string {
  if (path === '') throw new Error(`no ${what} file named`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
