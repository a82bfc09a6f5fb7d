/** The mesh certificate authority: signing workload certificates, and where its keys come from. */
export {
  CertificateAuthority, SigningRefused, spiffeId, DEFAULT_WORKLOAD_CERT_TTL_MS, MAX_WORKLOAD_CERT_TTL_MS,
  type IssuedCertificate, type WorkloadIdentity,
} from './authority.js';
export { loadSelfSignedCa, loadPluggedInCa, previousRoots, SELF_SIGNED_CA_FILE, ROOT_CERT_FILE, PREVIOUS_ROOTS_FILE, CACERTS_FILES } from './load.js';
export { rotateSelfSignedRoot, rootNeedsRotation, type RotateOptions, type Rotated } from './rotate.js';
export { CaWatcher, type CaWatcherOptions } from './watch.js';
