// The real bootstrap of a spot node (capacity.spot): it installs the spot interruption watcher
// as a systemd unit (systemctl faked), and the watcher — the same script run as `spot-watch` —
// polls a fake instance metadata service (IMDSv2) until the notice, then tags the phase
// `stopping` on the simulated account (node policy), runs the pre-stop script and unmounts the
// data volume (umount faked).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeWorlds, makeWorld, once, type BootWorld } from './harness.js';

afterAll(closeWorlds);

/** A fake IMDS: IMDSv2 tokens, the instance id, and spot/instance-action (404 for the first `quiet` reads). */
async function fakeImds(instanceId: string, quiet: number): Promise<{ server: Server; url: string; reads: () => number; tokenless: () => number }> {
  let reads = 0;
  let tokenless = 0;
  const server = createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end('tok-1');
    if (req.headers['x-aws-ec2-metadata-token'] !== 'tok-1') {
      tokenless++;
      res.statusCode = 401;
      return void res.end();
    }
    if (req.url === '/latest/meta-data/instance-id') return void res.end(instanceId);
    if (req.url === '/latest/meta-data/spot/instance-action') {
      reads++;
      if (reads <= quiet) {
        res.statusCode = 404;
        return void res.end('Not Found');
      }
      return void res.end('{"action": "terminate", "time": "2024-01-01T00:02:00Z"}');
    }
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reads: () => reads, tokenless: () => tokenless };
}

function fake(world: BootWorld, name: string, log: string): void {
  const path = join(world.dir, 'bin', name);
  writeFileSync(path, `#!/bin/bash\necho "${log} $*" >>"$BERTH_TEST_DIR/local-calls.log"\n`);
  chmodSync(path, 0o755);
}

const world = once(async () => {
  const w = await makeWorld({
    spot: true,
    input: (dir) => ({ capacity: { spot: true }, bootstrap: { preStopScript: `echo "pre-stop $BERTH_NODE_ID $BERTH_SPOT_NOTICE" >>${join(dir, 'pre-stop.log')}`, preStopTimeoutSec: 30 } }),
  });
  fake(w, 'fake-systemctl', 'systemctl');
  fake(w, 'fake-umount', 'umount');
  w.linkById('/dev/null'); // the device exists: the boot reaches in-service without a real disk
  w.env = { BERTH_SYSTEMCTL_CMD: 'fake-systemctl', BERTH_SYSTEMD_DIR: join(w.dir, 'systemd'), BERTH_UMOUNT_CMD: 'fake-umount' };
  return w;
});

describe('spot interruption watcher (real bootstrap)', () => {
  it('a spot node\'s boot installs the watcher unit and starts it', async () => {
    const w = await world();
    expect(w.userData).toMatch(/^BERTH_SPOT='1'$/m);
    const r = await w.run();
    expect(r.stderr).toMatch(/spot watcher installed/);
    const unit = readFileSync(join(w.dir, 'systemd', 'berth-spot-watcher.service'), 'utf8');
    expect(unit).toContain(`ExecStart=/bin/bash ${join(w.stateDir, 'node-bootstrap.sh')} spot-watch`);
    expect(existsSync(join(w.stateDir, 'node-bootstrap.sh'))).toBe(true);
    expect(r.localCalls).toEqual(expect.arrayContaining(['systemctl daemon-reload', 'systemctl enable --now berth-spot-watcher.service']));
  });

  it('SPOT-4: the watcher polls spot/instance-action with an IMDSv2 token until the notice, then tags `stopping`, runs the pre-stop script and unmounts the data volume', async () => {
    const w = await world();
    if (!existsSync(join(w.stateDir, 'node-bootstrap.sh'))) await w.run();
    const imds = await fakeImds(w.instanceId, 3);
    try {
      const env: Record<string, string> = {
        PATH: `${w.bridge.binDir}:${join(w.dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: w.dir,
        LANG: 'C',
        ...w.bridge.env,
        ...w.env,
        BERTH_TEST_DIR: w.dir,
        BERTH_STATE_DIR: w.stateDir,
        BERTH_IMDS_ENDPOINT: imds.url,
        BERTH_SLEEP_CMD: 'true', // polls back to back: the fake answers 404 three times, then the notice
      };
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn('bash', [join(w.stateDir, 'node-bootstrap.sh'), 'spot-watch'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        child.on('error', reject);
        child.on('close', (c) => resolve(c ?? -1));
      });
      expect(code).toBe(0);
      expect(imds.reads()).toBe(4);
      expect(imds.tokenless()).toBe(0);
      expect(w.phases().at(-1)).toBe('stopping');
      expect(readFileSync(join(w.dir, 'pre-stop.log'), 'utf8')).toBe('pre-stop n1 {"action": "terminate", "time": "2024-01-01T00:02:00Z"}\n');
      const local = readFileSync(join(w.dir, 'local-calls.log'), 'utf8').split('\n').filter(Boolean);
      expect(local.at(-1)).toBe(`umount ${w.spec.dataVolume.mountPath}`);
      expect(readFileSync(join(w.stateDir, 'spot-watch'), 'utf8')).toBe('stopped\n');
    } finally {
      await new Promise((r) => imds.server.close(r));
    }
  });
});
