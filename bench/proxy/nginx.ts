/**
 * nginx as the reference reverse proxy: one worker, a keep-alive upstream pool, no access log.
 * The config lives in a temporary prefix directory, so nothing touches /etc/nginx or /var/log.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort, type Child, type ProcessGroup } from './processes.js';

export function nginxConfig(prefix: string, listenPort: number, upstreamPort: number): string {
  return `# Written by bench/proxy/nginx.ts for one benchmark run.
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
  }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
    }
  }
}
`;
}

export interface StartedNginx {
  child: Child;
  port: number;
  /** Removes the temporary prefix; call after the process has ended. */
  cleanup(): void;
}

export async function startNginx(group: ProcessGroup, nginx: string, upstreamPort: number): Promise<StartedNginx> {
  const dir = group.tempDir('weft-bench-nginx-');
  const prefix = dir.path;
  const cleanup = dir.remove;
  try {
    const port = await freePort();
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(conf, nginxConfig(prefix, port, upstreamPort));
    // -e: nginx opens its compiled-in error log (/var/log/nginx) before reading the config otherwise.
    const child = group.start('nginx', nginx, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log'), '-g', 'daemon off;']);
    await waitForPort(child, port).catch(async (e: unknown) => {
      await group.stop(child);
      throw e;
    });
    return { child, port, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
