import { z } from 'zod';

// Shape of the input accepted by defineCluster(). Cross-field rules (IPs in subnets, unique
// ids, volume limits...) live in validate-cluster.ts so every problem is reported at once.

const name = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: 'must be 2–40 characters of a-z, 0-9 and "-", starting with a letter and not ending with "-" (it becomes part of AWS resource names and DNS labels)',
  });

const nodeId = z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, {
  error: 'must be 1–32 characters of a-z, 0-9 and "-", not starting or ending with "-" (it becomes a DNS label and part of the Auto Scaling group name)',
});

const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8}([0-9a-f]{9})?$`), {
    error: `must be an AWS id like ${prefix}-0123456789abcdef0`,
  });

export const volumeTypeSchema = z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard'], {
  error: 'must be one of gp2, gp3, io1, io2, st1, sc1, standard',
});

const positiveInt = z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be > 0' });

const dataVolumeOverride = z.strictObject({
  sizeGiB: positiveInt.optional(),
  type: volumeTypeSchema.optional(),
  iops: positiveInt.optional(),
  throughputMiBps: positiveInt.optional(),
  snapshotId: awsId('snap').optional(),
});

export const dataVolumeSchema = z.strictObject({
  sizeGiB: positiveInt,
  type: volumeTypeSchema.default('gp3'),
  iops: positiveInt.optional(),
  throughputMiBps: positiveInt.optional(),
  deviceName: z
    .string()
    .regex(/^\/dev\/(sd|xvd)[f-p]$/, { error: 'must be /dev/sdf … /dev/sdp (or /dev/xvdf … /dev/xvdp)' })
    .default('/dev/sdf'),
  fileSystem: z.enum(['xfs', 'ext4'], { error: 'must be xfs or ext4' }).default('xfs'),
  mountPath: z.string().default('/data'),
  mountOptions: z
    .string()
    .regex(/^[A-Za-z0-9_=,.:-]+$/, { error: 'must be a comma-separated list of mount options, e.g. defaults,noatime' })
    .default('defaults,noatime'),
  owner: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a Unix user name' }).default('root'),
  group: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a Unix group name' }).default('root'),
  encrypted: z.boolean().default(true),
  kmsKeyId: z.string().min(1).optional(),
  snapshotId: awsId('snap').optional(),
  deletionPolicy: z.enum(['retain', 'snapshot', 'delete'], { error: 'must be retain, snapshot or delete' }).default('retain'),
});

export const nodeSchema = z.strictObject({
  id: nodeId,
  ip: z.string(),
  subnetId: awsId('subnet'),
  image: awsId('ami').optional(),
  dataVolume: dataVolumeOverride.optional(),
});

export const subnetSchema = z.strictObject({
  id: awsId('subnet'),
  az: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, { error: 'must be an availability zone name like us-east-1a' }),
  cidr: z.string(),
});

const dnsName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}\.?$/, {
    error: 'must be a lower-case DNS name like kafka.internal.example.com',
  });

export const dnsSchema = z.strictObject({
  hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, { error: 'must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ' }),
  clusterRecord: dnsName,
  nodeRecordTemplate: z.string().includes('{node}', { error: 'must contain {node}, e.g. {node}.kafka.internal.example.com' }),
  ttl: z.number().int().min(0).max(2147483647).default(60),
});

/** An ELBv2 target group ARN: arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID. */
const targetGroupArn = z.string().regex(/^arn:aws(-cn|-us-gov|-iso[a-z-]*)?:elasticloadbalancing:[a-z]{2}(-[a-z]+)+-\d:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/, {
  error: 'must be a target group ARN like arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef',
});

export const loadBalancerSchema = z.strictObject({
  targetGroupArns: z.array(targetGroupArn).min(1, { error: 'must list at least one target group ARN' }),
});

const fileSchema = z.strictObject({
  path: z.string(),
  content: z.string(),
  mode: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be an octal mode like 0644' }).default('0644'),
  owner: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$/, { error: 'must be user or user:group' }).default('root:root'),
});

export const bootstrapSchema = z.strictObject({
  configureScript: z.string().default(''),
  healthScript: z.string().default(''),
  files: z.array(fileSchema).default([]),
  configureTimeoutSec: positiveInt.default(600),
  healthTimeoutSec: positiveInt.default(900),
  attachTimeoutSec: positiveInt.default(600),
});

export const clusterInputSchema = z.strictObject({
  name,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { error: 'must be an AWS region like us-east-1' }),
  subnets: z.array(subnetSchema).min(1, { error: 'must list at least one subnet (id, az, cidr)' }),
  nodes: z.array(nodeSchema),
  image: awsId('ami'),
  instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: 'must be an EC2 instance type like m6i.large' }),
  securityGroupIds: z.array(awsId('sg')).min(1, { error: 'must list at least one security group' }).max(5, {
    error: 'takes at most 5 security groups per network interface',
  }),
  keyName: z.string().min(1).max(255).optional(),
  // Required: the node bootstrap calls EC2 and Auto Scaling with the instance's role credentials.
  iamInstanceProfile: z.string({
    error: (iss) =>
      iss.input === undefined
        ? "is required: every node's bootstrap calls EC2 and Auto Scaling with the instance's role. Create an instance profile whose role carries iamPolicyFor(spec).node (from @berth/aws-driver) and name it here"
        : 'must be an instance profile name',
  }).regex(/^[\w+=,.@-]{1,128}$/, { error: 'must be an instance profile name (1–128 letters, digits and +=,.@_-)' }),
  rootVolume: z
    .strictObject({ sizeGiB: positiveInt.default(20), type: volumeTypeSchema.default('gp3'), encrypted: z.boolean().default(true) })
    .default({ sizeGiB: 20, type: 'gp3', encrypted: true }),
  dataVolume: dataVolumeSchema,
  dns: dnsSchema.optional(),
  loadBalancer: loadBalancerSchema.optional(),
  lifecycle: z
    .strictObject({
      heartbeatTimeoutSec: z.number().int().min(30, { error: 'must be 30–7200 (AWS limit)' }).max(7200, { error: 'must be 30–7200 (AWS limit)' }).default(600),
      defaultResult: z.enum(['CONTINUE', 'ABANDON']).default('ABANDON'),
      onFailure: z.enum(['abandon', 'wait']).default('abandon'),
    })
    .default({ heartbeatTimeoutSec: 600, defaultResult: 'ABANDON', onFailure: 'abandon' }),
  bootstrap: bootstrapSchema.default({ configureScript: '', healthScript: '', files: [], configureTimeoutSec: 600, healthTimeoutSec: 900, attachTimeoutSec: 600 }),
  tags: z.record(z.string(), z.string()).default({}),
  quorum: z
    .strictObject({
      /** Allow an even node count or fewer than 3 nodes. Quorum math still applies. */
      allowUnsafeSize: z.boolean().default(false),
    })
    .default({ allowUnsafeSize: false }),
});

export type ClusterInput = z.input<typeof clusterInputSchema>;
export type ParsedClusterInput = z.output<typeof clusterInputSchema>;
