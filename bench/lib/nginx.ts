import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, type Child } from './children.js';
import { freePort, waitUntilReady } from './http.js';

export interface NginxAnchor {
  child: Child;
  version: string;
  /** Origin of the server block proxying to each upstream, by name. */
  origins: Record<string, string>;
}

/** `nginx` on PATH or in /usr/sbin (Debian's package), else undefined. */
export function findNginx(): { path: string; version: string } | undefined {
  for (const path of ['nginx', '/usr/sbin/nginx']) {
    // nginx -v prints its version on stderr.
    const probe = spawnSync(path, ['-v'], { encoding: 'utf8' });
    if (probe.status === 0) return { path, version: probe.stderr.trim().replace(/^nginx version: /, '') };
  }
  return undefined;
}

/**
 * nginx as the "plain hop" anchor: one server block per upstream, each a `proxy_pass` with
 * upstream keep-alive, as a reverse proxy in front of an API is usually set up. Runs from its own
 * temporary prefix (config, pid, logs, temp paths) on free loopback ports; nothing under /etc or /var.
 */
export async function startNginx(
  binary: { path: string; version: string },
  upstreams: Record<string, { origin: string; readyPath: string }>,
  dir: string,
): Promise<NginxAnchor> {
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const origins: Record<string, string> = {};
  const blocks: string[] = [];
  for (const [name, { origin }] of Object.entries(upstreams)) {
    const port = await freePort();
    origins[name] = `http://127.0.0.1:${port}`;
    blocks.push(`
  upstream ${name} { server ${new URL(origin).host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://${name};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }
  }`);
  }
  const temp = (what: string) => `${what}_temp_path ${join(dir, 'temp', what)};`;
  const config = `# written by npm run bench for one run
${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes auto;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}
  keepalive_requests 100000;
  ${blocks.join('\n')}
}
`;
  const file = join(dir, 'nginx.conf');
  writeFileSync(file, config);
  const child = startChild('nginx', binary.path, ['-p', dir, '-e', join(dir, 'error.log'), '-c', file], {
    env: { PATH: process.env.PATH ?? '' },
    logFile: join(dir, 'stdout.log'),
  });
  for (const [name, { readyPath }] of Object.entries(upstreams)) await waitUntilReady(`${origins[name]}${readyPath}`, child, 15_000);
  return { child, version: binary.version, origins };
}
