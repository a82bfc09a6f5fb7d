import type { Command } from 'commander';
import { createLogger } from '../../lib/log.js';

/**
 * `weft demo <service>`: one service of the demo application, the command its pods run
 * (src/demo/bookinfo.yaml). Hidden from help: users meet the demo through `npm start`, not here.
 */
interface DemoFlags {
  variant?: string;
  port?: string;
  bind?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo', { hidden: true })
    .description('run one service of the demo application: productpage, details, reviews or ratings')
    .argument('<service>', 'productpage, details, reviews or ratings')
    .option('--variant <version>', 'reviews only: v1 (no ratings), v2 (black stars) or v3 (red stars)', 'v1')
    .option('--port <port>', 'port to listen on (default 9080)')
    .option('--bind <address>', 'address to listen on (default $WEFT_BIND_ADDRESS, else 0.0.0.0)')
    .action(async (service: string, flags: DemoFlags) => {
      process.exitCode = await runDemo(service, flags);
    });
}

async function runDemo(service: string, flags: DemoFlags): Promise<number> {
  // Loaded only when this command runs: a demo pod holds no control-plane code.
  const demo = await import('../../demo/index.js');
  if (!demo.isDemoService(service)) {
    process.stderr.write(`weft demo: unknown service ${JSON.stringify(service)}: expected one of ${demo.DEMO_SERVICES.join(', ')}\n`);
    return 2;
  }
  const variant = flags.variant ?? 'v1';
  if (!demo.isReviewsVariant(variant)) {
    process.stderr.write(`weft demo: --variant ${JSON.stringify(variant)}: expected one of ${demo.REVIEWS_VARIANTS.join(', ')}\n`);
    return 2;
  }
  const port = flags.port === undefined ? demo.DEMO_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`weft demo: --port ${JSON.stringify(flags.port)}: expected a port number (0-65535)\n`);
    return 2;
  }
  const log = createLogger((line) => process.stderr.write(line));
  let server: Awaited<ReturnType<typeof demo.startDemoService>>;
  try {
    server = await demo.startDemoService({ service, variant, port, ...(flags.bind ? { host: flags.bind } : {}), log });
  } catch (err) {
    process.stderr.write(`weft demo ${service}: cannot start: ${(err as Error).message}\n`);
    return 1;
  }
  let stopping = false;
  const stop = () => {
    // A second signal, or requests that never finish, must not keep the pod from stopping.
    if (stopping) process.exit(0);
    stopping = true;
    setTimeout(() => process.exit(0), 5_000).unref();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  log.info('serving', { service, variant: service === 'reviews' ? variant : undefined, address: server.host, port: server.port });
  const ready = { pid: process.pid, service, ...(service === 'reviews' ? { variant } : {}), address: server.host, ports: { http: server.port } };
  process.stdout.write(`weft demo ready ${JSON.stringify(ready)}\n`);
  return 0;
}
