/**
 * A MongoDB replica set on AWS with Berth: the primary is replaced last, after a step-down.
 *
 *   tsx examples/aws/mongodb-replica-set.ts check              # validate, user-data size, IAM policy: no AWS call
 *   tsx examples/aws/mongodb-replica-set.ts roll --image ami-… # preflight, apply, quorum-safe roll (needs AWS credentials)
 *
 * Every member keeps its DNS name and its data volume across replacements, so a new instance
 * rejoins the set as the same member from its own data: no rs.add/rs.remove on a roll. The
 * image must carry mongod, mongosh and the AWS CLI; the hooks use mongosh, so run this where it
 * can reach the members (a bastion, a CI runner in the VPC).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ClusterInput, RollHooks } from '@berth/core';
import { runAwsExample } from './run-aws-example.js';

const run = promisify(execFile);

const SUBNETS = [
  { id: 'subnet-0b1c2d3e4f5a60001', az: 'us-east-1a', cidr: '10.30.1.0/24' },
  { id: 'subnet-0b1c2d3e4f5a60002', az: 'us-east-1b', cidr: '10.30.2.0/24' },
  { id: 'subnet-0b1c2d3e4f5a60003', az: 'us-east-1c', cidr: '10.30.3.0/24' },
];
const DOMAIN = 'mongo.internal.example.com';
const IMAGE = 'ami-0b1c2d3e4f5a60001';
const nodes = [1, 2, 3].map((i) => ({ id: `mongo-${i}`, ip: `10.30.${i}.20`, subnetId: SUBNETS[i - 1]!.id }));
const host = (nodeId: string) => `${nodeId}.${DOMAIN}:27017`;

export function mongoCluster(image: string): ClusterInput {
  const members = nodes.map((n, i) => `{ _id: ${i}, host: '${host(n.id)}' }`).join(', ');
  return {
    name: 'orders-mongo',
    region: 'us-east-1',
    subnets: SUBNETS,
    nodes,
    image,
    instanceType: 'r7i.large',
    securityGroupIds: ['sg-0b1c2d3e4f5a60001'],
    iamInstanceProfile: 'mongo-node',
    dataVolume: { sizeGiB: 500, type: 'gp3', iops: 6000, fileSystem: 'xfs', mountPath: '/var/lib/mongo', owner: 'mongod', group: 'mongod' },
    dns: { hostedZoneId: 'Z0B1C2D3E4F5A6B7C8D9E', clusterRecord: DOMAIN, nodeRecordTemplate: `{node}.${DOMAIN}`, ttl: 30 },
    lifecycle: { heartbeatTimeoutSec: 600, defaultResult: 'ABANDON', onFailure: 'abandon' },
    bootstrap: {
      files: [
        {
          path: '/etc/mongod.conf',
          mode: '0644',
          owner: 'root:root',
          content: ['storage:', '  dbPath: /var/lib/mongo/db', 'net:', '  bindIpAll: true', '  port: 27017', 'replication:', '  replSetName: rs0', ''].join('\n'),
        },
      ],
      configureScript: [
        'set -euo pipefail',
        'install -d -o mongod -g mongod /var/lib/mongo/db',
        'systemctl enable --now mongod',
        'for _ in $(seq 1 60); do mongosh --quiet --eval "db.hello().ok" >/dev/null 2>&1 && break; sleep 2; done',
        // Only the very first boot of mongo-1 on a blank volume creates the set; every other
        // boot finds its membership in its own data.
        'if [ "$BERTH_NODE_ID" = mongo-1 ] && [ "$(mongosh --quiet --eval "db.getSiblingDB(\'local\').system.replset.countDocuments()")" = 0 ]; then',
        `  mongosh --quiet --eval "rs.initiate({ _id: 'rs0', members: [${members}] })"`,
        'fi',
      ].join('\n'),
      // Healthy: this member is PRIMARY (1) or SECONDARY (2) — caught up enough to serve.
      healthScript: ['set -euo pipefail', 'state=$(mongosh --quiet --eval "rs.status().myState")', '[ "$state" = 1 ] || [ "$state" = 2 ]'].join('\n'),
      healthTimeoutSec: 3600,
    },
    tags: { team: 'orders', env: 'production' },
  };
}

async function mongo(nodeId: string, js: string): Promise<string> {
  const { stdout } = await run('mongosh', ['--quiet', `mongodb://${host(nodeId)}/?directConnection=true`, '--eval', js]);
  return stdout.trim();
}

/** Application gates through mongosh. */
export const mongoHooks: RollHooks = {
  async isLeader(nodeId) {
    return (await mongo(nodeId, 'db.hello().isWritablePrimary')) === 'true';
  },
  // The primary steps down before its instance goes; an election picks another.
  async beforeReplace(nodeId) {
    if ((await mongo(nodeId, 'db.hello().isWritablePrimary')) === 'true') {
      await mongo(nodeId, 'rs.stepDown(120, 30)').catch(() => undefined); // the connection drops by design
    }
  },
  // A primary exists and every secondary is within 10 s of it.
  async clusterHealthy() {
    const out = await mongo(nodes[0]!.id, [
      'const s = rs.status();',
      'const p = s.members.find((m) => m.stateStr === "PRIMARY");',
      'print(!!p && s.members.every((m) => m.stateStr === "PRIMARY" || (m.stateStr === "SECONDARY" && p.optimeDate - m.optimeDate < 10000)));',
    ].join(' '));
    return out === 'true';
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runAwsExample({ cluster: mongoCluster, defaultImage: IMAGE, hooks: mongoHooks });
