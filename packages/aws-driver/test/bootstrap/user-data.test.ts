import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { BerthConfigError } from '@berth/core';
import { describe, expect, it } from 'vitest';
import { NODE_BOOTSTRAP_SCRIPT } from '../../src/bootstrap-script.generated.js';
import { USER_DATA_LIMIT_BYTES, checkUserDataFits, renderUserData, userDataIssues } from '../../src/user-data.js';
import { makeSpec, userDataText } from './harness.js';

const scriptPath = fileURLToPath(new URL('../../bootstrap/node-bootstrap.sh', import.meta.url));
const dir = '/srv/berth-test';

function shellcheck(path: string, exclude: string[] = []): string {
  try {
    const ex = exclude.length > 0 ? [`--exclude=${exclude.join(',')}`] : [];
    execFileSync('shellcheck', ['--shell=bash', '--severity=style', ...ex, path], { encoding: 'utf8', stdio: 'pipe' });
    return '';
  } catch (err) {
    return String((err as { stdout?: string }).stdout ?? err);
  }
}

describe('node-bootstrap.sh', () => {
  it('is shellcheck clean', () => {
    expect(shellcheck(scriptPath)).toBe('');
  });

  // The data block holds quoted literals on purpose, so only "no expansion in single quotes"
  // (SC2016) and "escaping a quote?" (SC1003) are waived for it.
  it('the rendered user data (data block + script) is shellcheck clean', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'berth-sc-'));
    try {
      const spec = makeSpec(dir, {
        bootstrap: { configureScript: "echo 'hi' \"$X\"", files: [{ path: '/etc/a b/c', content: "x'y\n$z\\" }] },
      });
      writeFileSync(join(tmp, 'ud.sh'), userDataText(spec));
      expect(shellcheck(join(tmp, 'ud.sh'), ['SC2016', 'SC1003'])).toBe('');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('is embedded in src/bootstrap-script.generated.ts (run `node packages/aws-driver/bootstrap/generate.mjs` after editing it)', () => {
    expect(NODE_BOOTSTRAP_SCRIPT).toBe(readFileSync(scriptPath, 'utf8'));
  });
});

describe('renderUserData', () => {
  it('is the script with the data block after its first line, gzipped to fit, deterministic', () => {
    const spec = makeSpec(dir);
    const a = renderUserData(spec, 'n2', 'r-0011223344556677');
    expect(a).toEqual(renderUserData(spec, 'n2', 'r-0011223344556677'));
    expect(a.gzipped).toBe(true); // the commented script alone is over 16 KB
    expect(a.sizeBytes).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    const bytes = Buffer.from(a.userData, 'base64');
    expect(bytes.length).toBe(a.sizeBytes);
    expect(bytes[9]).toBe(3); // gzip OS byte fixed, so the bytes do not depend on the rendering machine
    const text = gunzipSync(bytes).toString('utf8');
    expect(text.startsWith('#!/bin/bash\n# ---- berth data')).toBe(true);
    expect(text).toContain("BERTH_NODE_ID='n2'\n");
    expect(text).toContain("BERTH_REVISION='r-0011223344556677'\n");
    expect(text).toContain(`BERTH_MOUNT_PATH='${dir}/data'\n`);
    expect(text.endsWith(NODE_BOOTSTRAP_SCRIPT.slice(NODE_BOOTSTRAP_SCRIPT.indexOf('\n') + 1))).toBe(true);
  });

  it('carries values as single-quoted literals: quotes, $ and newlines round-trip through bash', () => {
    const nasty = `a'b "c" $(touch /tmp/pwned) \`x\` \\ '\n'' end`;
    const spec = makeSpec(dir, { bootstrap: { healthScript: nasty, files: [{ path: '/etc/x', content: nasty }] } });
    const text = userDataText(spec);
    const data = text.slice(0, text.indexOf('# ---- end of berth data ----'));
    const out = execFileSync('bash', ['-c', `${data}\nprintf '%s\\0%s' "$BERTH_HEALTH_SCRIPT" "\${BERTH_FILE_CONTENTS[0]}"`], {
      encoding: 'utf8',
    });
    expect(out).toBe(`${nasty}\0${nasty}`);
  });

  it("carries the volume id, group and hook it is given; the group and hook default to ensureNode's", () => {
    const spec = makeSpec(dir);
    const given = userDataText(spec, 'n2', { volumeId: 'vol-0123456789abcdef0', autoScalingGroupName: 'g', lifecycleHookName: 'h' });
    expect(given).toContain("BERTH_VOLUME_ID='vol-0123456789abcdef0'\nBERTH_ASG_NAME='g'\nBERTH_LIFECYCLE_HOOK_NAME='h'\n");
    const defaults = userDataText(spec, 'n2');
    expect(defaults).toContain("BERTH_VOLUME_ID=''\nBERTH_ASG_NAME='berth-kafka-n2'\nBERTH_LIFECYCLE_HOOK_NAME='berth-launch'\n");
  });

  it('rejects an unknown node', () => {
    expect(() => renderUserData(makeSpec(dir), 'n9', 'r-1')).toThrow(BerthConfigError);
  });

  it('user data over the limit: a spec-time error on bootstrap.files that points to SSM Parameter Store or S3', () => {
    const big = randomBytes(12_000).toString('base64'); // incompressible enough
    const spec = makeSpec(dir, { bootstrap: { files: [{ path: '/etc/app/big.pem', content: big }] } });
    let err: unknown;
    try {
      renderUserData(spec, 'n1', 'r-1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BerthConfigError);
    const issues = (err as BerthConfigError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('bootstrap.files');
    expect(issues[0]!.message).toMatch(/over EC2's 16384-byte limit/);
    expect(issues[0]!.message).toMatch(/bootstrap\.files\[\]\.source: \{ ssm: .* for SSM Parameter Store, \{ s3: .* for S3/);
    expect(() => checkUserDataFits(spec)).toThrow(BerthConfigError);
    expect(userDataIssues(spec).map((i) => i.path)).toEqual(['bootstrap.files']);
  });

  it('names the largest part: a huge configure script is reported on bootstrap.configureScript', () => {
    const spec = makeSpec(dir, { bootstrap: { configureScript: `: ${randomBytes(15_000).toString('hex')}` } });
    expect(userDataIssues(spec).map((i) => i.path)).toEqual(['bootstrap.configureScript']);
  });

  it('checkUserDataFits reports the size of the worst-case node when it fits', () => {
    const fit = checkUserDataFits(makeSpec(dir));
    expect(fit.gzipped).toBe(true);
    expect(fit.sizeBytes).toBeGreaterThan(1000);
    expect(fit.sizeBytes).toBeLessThanOrEqual(fit.limitBytes);
  });

  it('rejects values the script cannot carry safely', () => {
    const base = makeSpec(dir, { bootstrap: { files: [{ path: '/etc/../x', content: 'a\0b' }, { path: '/etc/y', content: '' }] } });
    // defineCluster refuses a path written twice; the renderer still guards a spec built by hand.
    const spec = { ...base, bootstrap: { ...base.bootstrap, files: [...base.bootstrap.files, { ...base.bootstrap.files[1]! }] } };
    expect(userDataIssues(spec).map((i) => i.path)).toEqual([
      'bootstrap.files[0].path',
      'bootstrap.files[0].content',
      'bootstrap.files[2].path',
    ]);
  });
});
