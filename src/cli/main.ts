import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { repoPath } from '../lib/repo.js';

type Register = (program: Command) => void;

/**
 * Each command's module, loaded only when that command runs: a sidecar (`weft proxy`) then holds
 * no install, runtime or analyzer code (about 1.5 MB of idle memory per proxy, measured). Help
 * and unknown commands load them all.
 */
const MODULES: Record<string, () => Promise<Register[]>> = {
  analyze: async () => [(await import('./commands/analyze.js')).registerAnalyze],
  proxy: async () => [(await import('./commands/proxy.js')).registerProxy],
  'control-plane': async () => [(await import('./commands/control-plane.js')).registerControlPlane],
  'proxy-status': async () => [(await import('./commands/proxy-status.js')).registerProxyStatus],
  'proxy-config': async () => [(await import('./commands/proxy-config.js')).registerProxyConfig],
  up: async () => [(await import('./commands/up.js')).registerUp],
  apply: async () => [(await import('./commands/apply.js')).registerApply],
  get: async () => [(await import('./commands/get.js')).registerGet],
  rollout: async () => [(await import('./commands/rollout.js')).registerRollout],
  install: async () => [(await import('./commands/install.js')).registerInstall],
  pending: async () => [(await import('./commands/not-yet.js')).registerPending],
  demo: async () => [(await import('./commands/demo.js')).registerDemo],
  dashboard: async () => [(await import('./commands/dashboard.js')).registerDashboard],
  graph: async () => [(await import('./commands/graph.js')).registerGraph],
};
/** Commands registered by a module under another name. */
const MODULE_OF: Record<string, string> = { down: 'up', status: 'up', delete: 'apply', label: 'get', logs: 'rollout', uninstall: 'install' };

const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

const program = new Command('weft')
  .description('Weft: a service mesh driven by Istio\'s own configuration')
  .version(version, '--version')
  .showHelpAfterError();

const name = process.argv[2] ?? '';
const only = MODULES[name] ? name : MODULE_OF[name];
const loaders = only ? [MODULES[only] as () => Promise<Register[]>] : Object.values(MODULES);
for (const load of loaders) for (const register of await load()) register(program);

await program.parseAsync(process.argv);
