/**
 * Local Redis: a private redis-server for Parley on its own port, without persistence.
 * On a machine without Redis, Debian's `redis-server` is installed first when apt-get and root
 * rights are available (as on this project's machines); otherwise we stop with one instruction.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { startProcess, waitForPort, type Log, type Managed } from './proc.ts';

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

export class RedisUnavailableError extends Error {}

function which(binary: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status === 0 && path) return path;
  return CANDIDATES.find((p) => spawnSync('test', ['-x', p]).status === 0);
}

/** Finds redis-server, installing Debian's package when that is possible. */
export function ensureRedisBinary(log: Log): string {
  const existing = which('redis-server');
  if (existing) return existing;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !which('apt-get')) {
    throw new RedisUnavailableError(
      'redis-server not found: install it (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) and run again.',
    );
  }
  log('[redis] redis-server not found; installing Debian package redis-server (one time)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { env, stdio: 'pipe' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'redis-server'], {
      env,
      stdio: 'pipe',
    });
  } catch (err) {
    const output =
      err instanceof Error && 'stderr' in err ? String(err.stderr).trim().split('\n').slice(-3).join(' | ') : '';
    throw new RedisUnavailableError(
      `redis-server could not be installed with apt-get${output ? ` (${output})` : ''}: install it by hand (\`apt-get install redis-server\`) and run again.`,
    );
  }
  const installed = which('redis-server');
  if (!installed) throw new RedisUnavailableError('redis-server was installed but is not on PATH.');
  return installed;
}

export async function startRedis(opts: { port: number; log: Log }): Promise<Managed> {
  const binary = ensureRedisBinary(opts.log);
  const args = [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--protected-mode',
    'yes',
    '--loglevel',
    'warning',
  ];
  // Quiet: Redis prints kernel-tuning advice that does not apply to a throw-away dev server.
  const managed = startProcess('redis', binary, args, { log: opts.log, quiet: true });
  await waitForPort(opts.port, 15_000, managed.child);
  return managed;
}
