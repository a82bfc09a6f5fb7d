import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { repoPath } from '../lib/repo.js';
import { registerAnalyze } from './commands/analyze.js';
import { registerProxy } from './commands/proxy.js';
import { registerControlPlane } from './commands/control-plane.js';
import { registerProxyStatus } from './commands/proxy-status.js';
import { registerProxyConfig } from './commands/proxy-config.js';
import { registerPending } from './commands/not-yet.js';
import { registerUp } from './commands/up.js';
import { registerApply } from './commands/apply.js';
import { registerGet } from './commands/get.js';
import { registerRollout } from './commands/rollout.js';
import { registerDemo } from './commands/demo.js';
import { registerInstall } from './commands/install.js';

const version = (JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version;

const program = new Command('weft')
  .description('Weft: a service mesh driven by Istio\'s own configuration')
  .version(version, '--version')
  .showHelpAfterError();

registerAnalyze(program);
registerProxy(program);
registerControlPlane(program);
registerProxyStatus(program);
registerProxyConfig(program);
registerUp(program);
registerApply(program);
registerGet(program);
registerRollout(program);
registerInstall(program);
registerPending(program);
registerDemo(program);

await program.parseAsync(process.argv);
