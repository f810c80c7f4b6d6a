/**
 * Kafka in KRaft mode (combined broker + controller nodes) on AWS with Berth.
 *
 *   tsx examples/aws/kafka-kraft.ts check              # validate, user-data size, IAM policy: no AWS call
 *   tsx examples/aws/kafka-kraft.ts roll --image ami-… # preflight, apply, then a quorum-safe roll (needs AWS credentials)
 *
 * Edit SUBNETS, SECURITY_GROUP, ZONE and IMAGE for your account. The image must carry Kafka
 * under /opt/kafka, a JDK and the AWS CLI (the bootstrap uses it; docs/bootstrap.md).
 * The controller's hooks shell out to Kafka's own tools, so run this where they are installed
 * and can reach the cluster (a bastion or a CI runner in the VPC).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ClusterInput, RollHooks } from '@berth/core';
import { runAwsExample } from './run-aws-example.js';

const run = promisify(execFile);

const SUBNETS = [
  { id: 'subnet-0a1b2c3d4e5f60001', az: 'eu-west-1a', cidr: '10.20.1.0/24' },
  { id: 'subnet-0a1b2c3d4e5f60002', az: 'eu-west-1b', cidr: '10.20.2.0/24' },
  { id: 'subnet-0a1b2c3d4e5f60003', az: 'eu-west-1c', cidr: '10.20.3.0/24' },
];
const SECURITY_GROUP = 'sg-0a1b2c3d4e5f60001';
const ZONE = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', domain: 'kafka.internal.example.com' };
const IMAGE = 'ami-0123456789abcdef0';

const nodes = [1, 2, 3].map((i) => ({ id: `kafka-${i}`, ip: `10.20.${i}.10`, subnetId: SUBNETS[i - 1]!.id }));
// KRaft voters are fixed: node id, DNS name and controller port never change across instances.
const voters = nodes.map((n, i) => `${i + 1}@${n.id}.${ZONE.domain}:9093`).join(',');

/** The spec for one image: everything that shapes an instance lives here (and in its revision). */
export function kafkaCluster(image: string): ClusterInput {
  return {
    name: 'kafka-prod',
    region: 'eu-west-1',
    subnets: SUBNETS,
    nodes,
    image,
    instanceType: 'm7i.xlarge',
    securityGroupIds: [SECURITY_GROUP],
    iamInstanceProfile: 'kafka-node',
    rootVolume: { sizeGiB: 30, type: 'gp3' },
    dataVolume: { sizeGiB: 1000, type: 'gp3', iops: 6000, throughputMiBps: 500, fileSystem: 'xfs', mountPath: '/var/lib/kafka', owner: 'kafka', group: 'kafka' },
    dns: { hostedZoneId: ZONE.hostedZoneId, clusterRecord: ZONE.domain, nodeRecordTemplate: `{node}.${ZONE.domain}`, ttl: 30 },
    lifecycle: { heartbeatTimeoutSec: 300, defaultResult: 'ABANDON', onFailure: 'abandon' },
    bootstrap: {
      files: [
        // One id for the whole cluster, generated once (kafka-storage.sh random-uuid) and kept here.
        { path: '/etc/kafka/cluster-id', mode: '0644', owner: 'root:root', content: 'MkU3OEVBNTcwNTJENDM2Qg\n' },
        {
          path: '/etc/kafka/kraft.properties.tmpl',
          mode: '0640',
          owner: 'kafka:kafka',
          content: [
            'process.roles=broker,controller',
            `controller.quorum.voters=${voters}`,
            'listeners=PLAINTEXT://:9092,CONTROLLER://:9093',
            'controller.listener.names=CONTROLLER',
            'log.dirs=/var/lib/kafka/data',
            'min.insync.replicas=2',
            'default.replication.factor=3',
            '',
          ].join('\n'),
        },
      ],
      // BERTH_NODE_ID is the node's slot (kafka-1 …): its KRaft node id is the number.
      configureScript: [
        'set -euo pipefail',
        'id=${BERTH_NODE_ID##*-}',
        '{ echo "node.id=${id}"; echo "advertised.listeners=PLAINTEXT://${BERTH_NODE_ID}.' + ZONE.domain + ':9092"; cat /etc/kafka/kraft.properties.tmpl; } > /etc/kafka/server.properties',
        // Format the log dir only when the volume is new; an existing one keeps its cluster id.
        'if [ ! -f /var/lib/kafka/data/meta.properties ]; then sudo -u kafka /opt/kafka/bin/kafka-storage.sh format -t "$(cat /etc/kafka/cluster-id)" -c /etc/kafka/server.properties; fi',
        'systemctl enable --now kafka',
      ].join('\n'),
      // Healthy = this broker is in the ISR of everything it hosts (no under-replicated partitions).
      healthScript: [
        'set -euo pipefail',
        'out=$(/opt/kafka/bin/kafka-topics.sh --bootstrap-server localhost:9092 --describe --under-replicated-partitions)',
        'test -z "$out"',
      ].join('\n'),
      healthTimeoutSec: 1800,
    },
    tags: { team: 'data', env: 'production' },
  };
}

const bootstrap = `${nodes[0]!.id}.${ZONE.domain}:9092`;

/** Application gates: Kafka's own view of the cluster, through its CLI tools. */
export const kafkaHooks: RollHooks = {
  // The active KRaft controller goes last.
  async isLeader(nodeId) {
    const { stdout } = await run('/opt/kafka/bin/kafka-metadata-quorum.sh', ['--bootstrap-server', bootstrap, 'describe', '--status']);
    const leader = /LeaderId:\s*(\d+)/.exec(stdout)?.[1];
    return leader !== undefined && nodeId.endsWith(`-${leader}`);
  },
  // Before every batch and after every replacement: no under-replicated partitions.
  async clusterHealthy() {
    const { stdout } = await run('/opt/kafka/bin/kafka-topics.sh', ['--bootstrap-server', bootstrap, '--describe', '--under-replicated-partitions']);
    return stdout.trim() === '';
  },
};

if (import.meta.url === `file://${process.argv[1]}`) await runAwsExample({ cluster: kafkaCluster, defaultImage: IMAGE, hooks: kafkaHooks, replacementTimeoutMs: 45 * 60_000 });
