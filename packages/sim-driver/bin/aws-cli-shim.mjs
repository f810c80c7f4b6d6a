#!/usr/bin/env node
// A stand-in for the `aws` command (put it on PATH as `aws`): it forwards the command line to the
// simulated AWS CLI at ${BERTH_SIM_AWS_ENDPOINT}/cli (handleCliRequest in src/cli) and prints its
// answer, exiting with its exit code. Plain JavaScript with no dependencies: it runs once per call.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';

const ENV_NAMES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_DEFAULT_OUTPUT', 'AWS_MAX_ATTEMPTS', 'AWS_CLI_ERROR_FORMAT'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost']);

function fail(message) {
  process.stderr.write(`\n${message}\n`);
  process.exitCode = 255;
}

function main() {
  const endpoint = process.env.BERTH_SIM_AWS_ENDPOINT;
  if (!endpoint) return fail('berth-sim aws shim: BERTH_SIM_AWS_ENDPOINT is not set (the URL of the simulated AWS, e.g. http://127.0.0.1:4566)');
  let url;
  try {
    url = new URL(`${endpoint.replace(/\/+$/, '')}/cli`);
  } catch {
    return fail(`berth-sim aws shim: BERTH_SIM_AWS_ENDPOINT is not a URL: ${endpoint}`);
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
    return fail(`berth-sim aws shim: refusing ${endpoint}: the simulated AWS must be at http://127.0.0.1 or http://localhost`);
  }
  const env = {};
  for (const name of ENV_NAMES) if (process.env[name] !== undefined) env[name] = process.env[name];
  const body = JSON.stringify({ argv: process.argv.slice(2), env });
  const req = request(
    url,
    { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let answer;
        try {
          answer = JSON.parse(text);
        } catch {
          answer = null;
        }
        if (res.statusCode !== 200 || answer === null || typeof answer.exitCode !== 'number') {
          return fail(`berth-sim aws shim: ${url.href} answered HTTP ${res.statusCode}: ${text.slice(0, 500)}`);
        }
        // Files the command writes (s3api get-object's outfile), where the real CLI would write them.
        for (const f of Array.isArray(answer.files) ? answer.files : []) {
          try {
            writeFileSync(f.path, Buffer.from(String(f.base64), 'base64'));
          } catch (e) {
            return fail(`[Errno 2] No such file or directory: '${f.path}' (${e && e.code})`);
          }
        }
        process.stdout.write(String(answer.stdout ?? ''));
        process.stderr.write(String(answer.stderr ?? ''));
        process.exitCode = answer.exitCode;
      });
      res.on('error', () => fail(`aws: [ERROR]: Could not connect to the endpoint URL: "${url.href}"`));
    },
  );
  // What the CLI says when nothing answers at its endpoint.
  req.on('error', () => fail(`aws: [ERROR]: Could not connect to the endpoint URL: "${url.href}"`));
  req.end(body);
}

main();
