/**
 * Test certificates made with the openssl CLI (an implementation independent of Weft's CA): a
 * mesh root and SPIFFE leaf certificates as Istio issues them, for tests of mTLS, peer identity
 * and authorization on real TLS connections.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Secret } from '../proxy-config/index.js';

export interface TestLeaf {
  cert: string;
  key: string;
}

export interface TestPki {
  /** The root's PEM. */
  ca: string;
  /** A leaf for `spiffe://cluster.local/ns/<ns>/sa/<sa>`, signed by the root. */
  leaf(name: string, spiffe: string): TestLeaf;
  /** A self-signed certificate with that SPIFFE ID: not from the mesh's root. */
  forged(name: string, spiffe: string): TestLeaf;
}

/** The secrets a sidecar is pushed: its own certificate as `default`, the mesh root as `ROOTCA`. */
export function workloadSecrets(ca: string, own: TestLeaf): Secret[] {
  return [{ name: 'default', certificateChain: own.cert, privateKey: own.key }, { name: 'ROOTCA', trustedCa: ca }];
}

export function makeTestPki(dir: string): TestPki {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const read = (name: string): TestLeaf => ({ cert: readFileSync(join(dir, `${name}.pem`), 'utf8'), key: readFileSync(join(dir, `${name}.key`), 'utf8') });
  ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/O=cluster.local',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign']);
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    leaf: (name, spiffe) => {
      ssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/O=cluster.local']);
      writeFileSync(join(dir, `${name}.ext`), `subjectAltName=critical,URI:${spiffe}\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n`);
      ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`]);
      return read(name);
    },
    forged: (name, spiffe) => {
      ssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', '/O=cluster.local',
        '-addext', `subjectAltName=critical,URI:${spiffe}`]);
      return read(name);
    },
  };
}
