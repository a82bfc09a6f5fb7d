/**
 * Where the Kubernetes API server is and how to prove who we are to it: a kubeconfig (a file and
 * an optional context) or the pod's own service account (in-cluster), resolved as client-go's
 * default loading rules do: an explicit file, else $KUBECONFIG, else in-cluster when
 * KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
 *
 * Credentials are fetched per request rather than once: in-cluster tokens are projected and
 * rotated by the kubelet, and exec plugins (EKS, GKE, AKS) hand out short-lived tokens.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface Credentials {
  token?: string;
  cert?: string;
  key?: string;
}

export interface Connection {
  /** The API server's base URL, e.g. `https://10.96.0.1:443`. */
  server: string;
  /** PEM bundle trusted for the server's certificate; undefined: the system's roots. */
  ca?: string;
  insecureSkipTlsVerify: boolean;
  /** The namespace of the context (in-cluster: the pod's namespace). */
  namespace: string;
  /** For logs: `kubeconfig ~/.kube/config context kind-weft` or `in-cluster`. */
  describe: string;
  credentials(): Promise<Credentials>;
  /** Forgets cached credentials (after a 401), so the next request fetches fresh ones. */
  invalidate(): void;
}

export interface ConnectionOptions {
  kubeconfig?: string;
  context?: string;
  env?: NodeJS.ProcessEnv;
  /** Where an in-cluster pod's service account is mounted (tests). */
  serviceAccountDir?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function loadConnection(options: ConnectionOptions = {}): Connection {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return fromKubeconfig(options.kubeconfig, options.context);
  const fromEnv = (env.KUBECONFIG ?? '').split(':').find((p) => p !== '' && existsSync(p));
  if (fromEnv) return fromKubeconfig(fromEnv, options.context);
  if (env.KUBERNETES_SERVICE_HOST && !options.context) return inCluster(env, options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
  const home = join(homedir(), '.kube', 'config');
  if (existsSync(home)) return fromKubeconfig(home, options.context);
  throw new Error('no Kubernetes configuration: give --kubeconfig, set KUBECONFIG, or run in a pod (KUBERNETES_SERVICE_HOST)');
}

export function inCluster(env: NodeJS.ProcessEnv, dir: string): Connection {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT || '443';
  const tokenFile = join(dir, 'token');
  const caFile = join(dir, 'ca.crt');
  if (!existsSync(tokenFile)) throw new Error(`in-cluster configuration: ${tokenFile} is missing (is a service account token mounted?)`);
  const namespaceFile = join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(existsSync(caFile) ? { ca: readFileSync(caFile, 'utf8') } : {}),
    insecureSkipTlsVerify: false,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : 'default',
    describe: 'in-cluster',
    // Re-read every time: the kubelet rotates projected tokens in place.
    credentials: () => Promise.resolve({ token: readFileSync(tokenFile, 'utf8').trim() }),
    invalidate: () => {},
  };
}

type Mapping = Record<string, unknown>;

interface Named { name?: unknown; cluster?: unknown; user?: unknown; context?: unknown }

export function fromKubeconfig(file: string, contextName?: string): Connection {
  let doc: Mapping;
  try {
    doc = (parseYaml(readFileSync(file, 'utf8')) ?? {}) as Mapping;
  } catch (err) {
    throw new Error(`kubeconfig ${file}: ${(err as Error).message}`);
  }
  const base = dirname(file);
  const fail = (what: string): never => {
    throw new Error(`kubeconfig ${file}: ${what}`);
  };
  const find = (list: string, name: string): Mapping => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as Named[]) : [];
    const found = entries.find((e) => e.name === name);
    if (!found) return fail(`${list} has no entry named "${name}"`);
    return (found as Mapping);
  };
  const ctxName = contextName ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : '');
  if (!ctxName) fail('no current-context; give --kube-context');
  const context = (find('contexts', ctxName).context ?? {}) as Mapping;
  const cluster = (find('clusters', String(context.cluster ?? '')).cluster ?? {}) as Mapping;
  const user = context.user ? ((find('users', String(context.user)).user ?? {}) as Mapping) : {};
  if (typeof cluster.server !== 'string' || cluster.server === '') fail(`cluster "${String(context.cluster)}" has no server`);
  const material = (dataKey: string, fileKey: string, from: Mapping): string | undefined => {
    if (typeof from[dataKey] === 'string') return Buffer.from(from[dataKey], 'base64').toString('utf8');
    if (typeof from[fileKey] === 'string') return readFileSync(resolveFrom(base, from[fileKey]), 'utf8');
    return undefined;
  };
  const ca = material('certificate-authority-data', 'certificate-authority', cluster);
  const staticCreds: Credentials = {};
  const cert = material('client-certificate-data', 'client-certificate', user);
  const key = material('client-key-data', 'client-key', user);
  if (cert) staticCreds.cert = cert;
  if (key) staticCreds.key = key;
  if (typeof user.token === 'string') staticCreds.token = user.token;
  const tokenFile = typeof user.tokenFile === 'string' ? resolveFrom(base, user.tokenFile) : undefined;
  if (user['auth-provider']) fail(`user "${String(context.user)}": auth-provider is not supported; use an exec credential plugin (e.g. gke-gcloud-auth-plugin, kubelogin)`);
  const exec = user.exec ? execPlugin(user.exec as Mapping, base, file) : undefined;
  return {
    server: (cluster.server as string).replace(/\/+$/, ''),
    ...(ca ? { ca } : {}),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    namespace: typeof context.namespace === 'string' && context.namespace ? context.namespace : 'default',
    describe: `kubeconfig ${file} context ${ctxName}`,
    credentials: async () => ({
      ...staticCreds,
      ...(tokenFile ? { token: readFileSync(tokenFile, 'utf8').trim() } : {}),
      ...(exec ? await exec.get() : {}),
    }),
    invalidate: () => exec?.invalidate(),
  };
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : join(base, path);
}

/** client.authentication.k8s.io ExecCredential: run the command, cache its answer until it expires. */
function execPlugin(spec: Mapping, base: string, file: string): { get(): Promise<Credentials>; invalidate(): void } {
  if (typeof spec.command !== 'string') throw new Error(`kubeconfig ${file}: exec needs a command`);
  const command = spec.command.includes('/') ? resolveFrom(base, spec.command) : spec.command;
  const args = Array.isArray(spec.args) ? spec.args.map(String) : [];
  const extraEnv = Object.fromEntries((Array.isArray(spec.env) ? (spec.env as Mapping[]) : []).map((e) => [String(e.name), String(e.value)]));
  const apiVersion = typeof spec.apiVersion === 'string' ? spec.apiVersion : 'client.authentication.k8s.io/v1';
  let cached: { creds: Credentials; expires: number } | undefined;
  return {
    invalidate: () => (cached = undefined),
    get: async () => {
      if (cached && Date.now() < cached.expires) return cached.creds;
      const execInfo = JSON.stringify({ apiVersion, kind: 'ExecCredential', spec: { interactive: false } });
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(command, args, { env: { ...process.env, ...extraEnv, KUBERNETES_EXEC_INFO: execInfo }, timeout: 30_000 }, (err, out, errOut) => {
          if (err) reject(new Error(`kubeconfig ${file}: exec ${command} failed: ${errOut.trim() || err.message}`));
          else resolve(out);
        });
      });
      let status: Mapping;
      try {
        status = ((JSON.parse(stdout) as Mapping).status ?? {}) as Mapping;
      } catch {
        throw new Error(`kubeconfig ${file}: exec ${command} did not print an ExecCredential`);
      }
      const creds: Credentials = {};
      if (typeof status.token === 'string') creds.token = status.token;
      if (typeof status.clientCertificateData === 'string') creds.cert = status.clientCertificateData;
      if (typeof status.clientKeyData === 'string') creds.key = status.clientKeyData;
      const expiry = typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : NaN;
      cached = { creds, expires: Number.isNaN(expiry) ? Number.MAX_SAFE_INTEGER : expiry - 10_000 };
      return creds;
    },
  };
}
