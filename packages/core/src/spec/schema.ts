import { z } from 'zod';

// Shape of the input accepted by defineCluster(). Cross-field rules (IPs in subnets, unique
// ids, volume limits, AZs in the region...) live in validate-cluster.ts so every problem is
// reported at once. The descriptions here become the JSON Schema's (json-schema.ts,
// schema/cluster-spec.schema.json) and docs/spec.md repeats them: keep the three in step.

/** A lower-case DNS name of up to 253 characters, labels of 1–63 a-z, 0-9 and `-`; a final dot is allowed. */
export const DNS_NAME = /^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.?$/;
/** An AWS Region code's shape (`us-east-1`); aws-regions.ts lists the Regions that exist. */
export const REGION_SHAPE = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** An Availability Zone name's shape: a Region code and a letter (`us-east-1a`). */
export const AZ_SHAPE = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;

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

/** The EBS volume types a spec may name. */
export const volumeTypeSchema = z.enum(['gp2', 'gp3', 'io1', 'io2', 'st1', 'sc1', 'standard']);

const positiveInt = z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be > 0' });

const dataVolumeOverride = z
  .strictObject({
    sizeGiB: positiveInt.optional().describe('Size of this node\'s data volume in GiB, instead of dataVolume.sizeGiB.'),
    type: volumeTypeSchema.optional().describe('EBS volume type of this node\'s data volume, instead of dataVolume.type.'),
    iops: positiveInt.optional().describe('Provisioned IOPS of this node\'s data volume, instead of dataVolume.iops.'),
    throughputMiBps: positiveInt.optional().describe('Throughput (MiB/s, gp3) of this node\'s data volume, instead of dataVolume.throughputMiBps.'),
    snapshotId: awsId('snap').optional().describe('Snapshot this node\'s data volume is created from when it is first made, instead of dataVolume.snapshotId.'),
  })
  .describe('Per-node overrides of the cluster\'s data volume; fields left out come from dataVolume.');

/** The cluster's data volume: one EBS volume per node, kept across instance replacements. */
export const dataVolumeSchema = z
  .strictObject({
    sizeGiB: positiveInt.describe('Size in GiB, within the limits of the volume type (e.g. gp3: 1–65536).'),
    type: volumeTypeSchema.default('gp3').describe('EBS volume type.'),
    iops: positiveInt.optional().describe('Provisioned IOPS: required for io1/io2, optional for gp3 (3000–80000, at most 500 per GiB), not allowed for other types.'),
    throughputMiBps: positiveInt.optional().describe('Throughput in MiB/s, gp3 only: 125–2000 and at most iops / 4.'),
    deviceName: z
      .string()
      .regex(/^\/dev\/(sd|xvd)[f-p]$/, { error: 'must be /dev/sdf … /dev/sdp (or /dev/xvdf … /dev/xvdp)' })
      .default('/dev/sdf')
      .describe('Device name the volume is attached as (/dev/sdf … /dev/sdp); the bootstrap finds the NVMe device by the volume id on Nitro instances.'),
    fileSystem: z.enum(['xfs', 'ext4']).default('xfs').describe('File system made on a blank volume (an existing file system is kept as it is).'),
    mountPath: z.string().default('/data').describe('Absolute path the volume is mounted on (not /, no . or .. or spaces).'),
    mountOptions: z
      .string()
      .regex(/^[A-Za-z0-9_=,.:-]+$/, { error: 'must be a comma-separated list of mount options, e.g. defaults,noatime' })
      .default('defaults,noatime')
      .describe('Mount options, comma-separated; the bootstrap adds nofail.'),
    owner: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a Unix user name' }).default('root').describe('Unix user that owns the mount point; it must exist in the image.'),
    group: z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a Unix group name' }).default('root').describe('Unix group of the mount point; it must exist in the image.'),
    encrypted: z.boolean().default(true).describe('Encrypt the volume (EBS encryption).'),
    kmsKeyId: z
      .string()
      .min(1)
      .optional()
      .describe('KMS key for the volume\'s encryption (needs encrypted: true): a key id, key ARN, alias name (alias/…) or alias ARN, in the cluster\'s Region. Default: the account\'s EBS default key.'),
    snapshotId: awsId('snap').optional().describe('Snapshot each node\'s data volume is created from when it is first made.'),
    deletionPolicy: z
      .enum(['retain', 'snapshot', 'delete'])
      .default('retain')
      .describe('What deleting a node does to its data volume: retain it (default), snapshot it and then delete it, or delete it.'),
  })
  .describe('The data volume every node keeps across instance replacements: one EBS volume per node, in its AZ.');

/** An existing network interface and data volume the node takes over (docs/adopt.md). */
export const adoptSchema = z
  .strictObject({
    eniId: awsId('eni').describe('The network interface that carries the node\'s IP today (its private IP must be the node\'s ip, in the node\'s subnet).'),
    volumeId: awsId('vol').describe('The EBS volume that holds the node\'s data today, in the node\'s AZ; its file system is kept.'),
  })
  .describe('Adopt an existing node: the network interface and data volume of an instance Berth did not launch, taken over by controller.adopt() (docs/adopt.md).');

/** Spot or on-demand, and when a spot node falls back to on-demand (docs/spot.md). */
export const capacitySchema = z
  .strictObject({
    spot: z.boolean().default(false).describe('Launch the nodes as spot instances (the launch template asks for one-time spot, terminated on interruption); the ENI and data volume stay the node\'s as on-demand.'),
    onDemandFallback: z.boolean().default(true).describe('When the node\'s group cannot get spot capacity in its AZ for fallbackAfterSec, launch it on-demand; try spot again spotRetryAfterSec later.'),
    fallbackAfterSec: positiveInt.default(300).describe('Seconds spot capacity may be missing (the group\'s launches failing for it) before the node falls back to on-demand: 60–86400.'),
    spotRetryAfterSec: positiveInt.default(3600).describe('Seconds a node stays on-demand after falling back before Berth tries spot again (replacing a healthy on-demand instance, one node at a time, quorum allowing): 300–604800.'),
  })
  .describe('Spot or on-demand capacity, and the fallback to on-demand when spot capacity is missing (docs/spot.md).');

/** A node's own capacity settings, over the cluster's. */
const capacityOverride = z
  .strictObject({
    spot: z.boolean().optional().describe('Spot for this node, instead of capacity.spot.'),
    onDemandFallback: z.boolean().optional().describe('This node\'s fallback, instead of capacity.onDemandFallback.'),
    fallbackAfterSec: positiveInt.optional().describe('Instead of capacity.fallbackAfterSec.'),
    spotRetryAfterSec: positiveInt.optional().describe('Instead of capacity.spotRetryAfterSec.'),
  })
  .describe('Per-node overrides of the cluster\'s capacity; fields left out come from capacity.');

/** One node: the durable slot (id, fixed IP, subnet) that outlives every instance. */
export const nodeSchema = z
  .strictObject({
    id: nodeId.describe('The node\'s id: 1–32 characters of a-z, 0-9 and "-"; unique in the cluster. It becomes a DNS label and part of resource names.'),
    ip: z.string().describe('The node\'s fixed private IPv4 address, inside its subnet\'s CIDR and not one of the 5 addresses AWS reserves.'),
    subnetId: awsId('subnet').describe('The subnet the node lives in; it must be listed in subnets.'),
    image: awsId('ami').optional().describe('An image for this node only, instead of the cluster\'s image.'),
    dataVolume: dataVolumeOverride.optional(),
    adopt: adoptSchema.optional(),
    capacity: capacityOverride.optional(),
  })
  .describe('A node: a durable slot with a fixed IP on its own network interface, its own data volume and DNS name.');

/** A subnet the nodes may live in, with the AZ and CIDR the offline checks need. */
export const subnetSchema = z
  .strictObject({
    id: awsId('subnet').describe('Subnet id.'),
    az: z.string().regex(AZ_SHAPE, { error: 'must be an availability zone name like us-east-1a' }).describe('The subnet\'s Availability Zone, in the spec\'s region (e.g. eu-west-1a).'),
    cidr: z.string().describe('The subnet\'s IPv4 CIDR block (/16 to /28), e.g. 10.0.1.0/24; subnets must not overlap.'),
  })
  .describe('A subnet nodes may be placed in; all subnets are in one VPC.');

const dnsName = z.string().regex(DNS_NAME, { error: 'must be a lower-case DNS name like kafka.internal.example.com' });

/** The Route 53 records Berth keeps: one per node and one for the whole cluster. */
export const dnsSchema = z
  .strictObject({
    hostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, { error: 'must be a Route 53 hosted zone id like Z0123456789ABCDEFGHIJ' })
      .describe('The Route 53 hosted zone that holds the records.'),
    clusterRecord: dnsName.describe('A record listing every node\'s IP, e.g. kafka.internal.example.com; different from every node record.'),
    nodeRecordTemplate: z
      .string()
      .regex(/\{node\}/, { error: 'must contain {node}, e.g. {node}.kafka.internal.example.com' })
      .describe('Each node\'s A record, {node} standing for the node id, e.g. {node}.kafka.internal.example.com; a DNS name once {node} is replaced.'),
    ttl: z.number().int().min(0).max(2147483647).default(60).describe('TTL of the records in seconds.'),
  })
  .describe('DNS records kept in Route 53: one per node (its IP) and one for the cluster (every IP).');

/** An ELBv2 target group ARN: arn:PARTITION:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID. */
const targetGroupArn = z.string().regex(/^arn:aws(-cn|-us-gov|-iso[a-z-]*)?:elasticloadbalancing:[a-z]{2}(-[a-z]+)+-\d:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/, {
  error: 'must be a target group ARN like arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/kafka/0123456789abcdef',
});

/** ELBv2 target groups the nodes serve behind. */
export const loadBalancerSchema = z
  .strictObject({
    targetGroupArns: z
      .array(targetGroupArn)
      .min(1, { error: 'must list at least one target group ARN' })
      .describe('Target groups (ARNs) every node\'s instance is registered in.'),
  })
  .describe('ELBv2 target groups: a roll deregisters an instance (waiting out draining) before replacing it, and registers the new one and waits for healthy.');

/** Where a node file's content comes from, fetched by the bootstrap (docs/secrets.md): exactly one of `ssm` or `s3`. */
export const fileSourceSchema = z
  .strictObject({
    ssm: z
      .strictObject({
        name: z.string().describe('The parameter\'s name (e.g. /kafka/prod/server.properties) or its ARN, in the spec\'s region.'),
        version: positiveInt.optional().describe('A fixed version of the parameter (the latest when absent). Pin it so that a new value rolls the nodes: the revision includes the source, not the value.'),
        kmsKeyId: z.string().optional().describe('The customer managed KMS key (ARN) of a SecureString parameter; the node role gets kms:Decrypt on it. Not needed for the default aws/ssm key.'),
      })
      .optional()
      .describe('A String or SecureString parameter of SSM Parameter Store (decrypted on the node).'),
    s3: z
      .strictObject({
        uri: z.string().describe('s3://bucket/key of the object.'),
        versionId: z.string().optional().describe('A fixed version of the object (in a versioned bucket).'),
      })
      .optional()
      .describe('An S3 object, written byte for byte.'),
  })
  .describe('Exactly one of ssm or s3.');

const fileSchema = z
  .strictObject({
    path: z.string().describe('Absolute path of the file on the instance.'),
    content: z.string().optional().describe('The file\'s content, carried in the user data (visible to anyone who may read the launch template). Give content or source, not both.'),
    source: fileSourceSchema.optional().describe('Where the bootstrap fetches the content from with the instance role, instead of carrying it in the user data: SSM Parameter Store or S3 (docs/secrets.md).'),
    mode: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be an octal mode like 0644' }).default('0644').describe('Octal file mode.'),
    owner: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}(:[a-z_][a-z0-9_-]{0,31})?$/, { error: 'must be user or user:group' })
      .default('root:root')
      .describe('Owner as user or user:group; they must exist in the image.'),
  })
  .describe('A file the bootstrap writes before the configure script runs.');

/** What the node bootstrap runs on every new instance, and how long each step may take. */
export const bootstrapSchema = z
  .strictObject({
    configureScript: z.string().default('').describe('Bash script run once the data volume is mounted (with BERTH_NODE_ID, BERTH_DATA_DIR... in its environment), under a timeout of configureTimeoutSec.'),
    healthScript: z.string().default('').describe('Bash script run every 10 s until it exits 0, within healthTimeoutSec; the instance goes in service only then.'),
    configureScriptSource: fileSourceSchema
      .optional()
      .describe('Where the bootstrap fetches the configure script from (SSM Parameter Store or S3, with the instance role), instead of configureScript carrying it in the user data (docs/secrets.md).'),
    healthScriptSource: fileSourceSchema
      .optional()
      .describe('Where the bootstrap fetches the health script from (SSM Parameter Store or S3, with the instance role), instead of healthScript carrying it in the user data (docs/secrets.md).'),
    files: z.array(fileSchema).default([]).describe('Files written before the configure script runs; each path once.'),
    configureTimeoutSec: positiveInt.default(600).describe('Seconds the configure script may run.'),
    healthTimeoutSec: positiveInt.default(900).describe('Seconds the health script has to pass.'),
    attachTimeoutSec: positiveInt.default(600).describe('Seconds the bootstrap waits for the data volume to attach (it may still be leaving the old instance).'),
    preStopScript: z.string().default('').describe('Bash script a spot node runs when EC2 announces its interruption (two minutes ahead), before the data volume is unmounted; under a timeout of preStopTimeoutSec.'),
    preStopTimeoutSec: positiveInt.default(60).describe('Seconds the pre-stop script may run: 1–100, so that the unmount fits in the two minutes.'),
  })
  .describe('What every new instance runs before it goes in service (docs/bootstrap.md). attachTimeoutSec + configureTimeoutSec + healthTimeoutSec must fit in the lifecycle hook\'s global timeout.');

/** Everything defineCluster() accepts; see docs/spec.md for every field, default and rule. */
export const clusterInputSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema this file follows, for editors (e.g. ./schema/cluster-spec.schema.json); Berth ignores it.'),
    name: name.describe('Cluster name: 2–40 characters of a-z, 0-9 and "-", starting with a letter; part of every resource name and tag.'),
    region: z.string().regex(REGION_SHAPE, { error: 'must be an AWS region like us-east-1' }).describe('AWS Region code (commercial, China or GovCloud), e.g. eu-west-1.'),
    subnets: z.array(subnetSchema).min(1, { error: 'must list at least one subnet (id, az, cidr)' }).describe('Subnets the nodes live in, with their AZ and CIDR.'),
    nodes: z.array(nodeSchema).describe('The nodes: an odd number, at least 3, unless quorum.allowUnsafeSize.'),
    image: awsId('ami').describe('The AMI every node runs unless the node names its own.'),
    instanceType: z.string().regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, { error: 'must be an EC2 instance type like m6i.large' }).describe('EC2 instance type, e.g. m6i.large.'),
    securityGroupIds: z
      .array(awsId('sg'))
      .min(1, { error: 'must list at least one security group' })
      .max(5, { error: 'takes at most 5 security groups per network interface' })
      .describe('Security groups of every node\'s network interface: 1–5, each once, in the subnets\' VPC.'),
    keyName: z.string().min(1).max(255).optional().describe('EC2 key pair for SSH access; none by default.'),
    // Required: the node bootstrap calls EC2 and Auto Scaling with the instance's role credentials.
    iamInstanceProfile: z
      .string({
        error: (iss) =>
          iss.input === undefined
            ? "is required: every node's bootstrap calls EC2 and Auto Scaling with the instance's role. Create an instance profile whose role carries iamPolicyFor(spec).node (from @berth/aws-driver) and name it here"
            : 'must be an instance profile name',
      })
      .regex(/^[\w+=,.@-]{1,128}$/, { error: 'must be an instance profile name (1–128 letters, digits and +=,.@_-)' })
      .describe('Instance profile every instance runs with; its role needs iamPolicyFor(spec).node from @berth/aws-driver.'),
    rootVolume: z
      .strictObject({
        sizeGiB: positiveInt.default(20).describe('Root volume size in GiB (at least 8).'),
        type: volumeTypeSchema.default('gp3').describe('Root volume type (not st1 or sc1).'),
        encrypted: z.boolean().default(true).describe('Encrypt the root volume.'),
      })
      .default({ sizeGiB: 20, type: 'gp3', encrypted: true })
      .describe('Each instance\'s root volume, deleted with the instance.'),
    dataVolume: dataVolumeSchema,
    dns: dnsSchema.optional(),
    loadBalancer: loadBalancerSchema.optional(),
    lifecycle: z
      .strictObject({
        heartbeatTimeoutSec: z
          .number()
          .int()
          .min(30, { error: 'must be 30–7200 (AWS limit)' })
          .max(7200, { error: 'must be 30–7200 (AWS limit)' })
          .default(600)
          .describe('Heartbeat timeout of the launch lifecycle hook (30–7200 s); the bootstrap sends heartbeats, and the hook gives up after min(48 h, 100 × this).'),
        defaultResult: z.enum(['CONTINUE', 'ABANDON']).default('ABANDON').describe('What Auto Scaling does when the hook times out: ABANDON terminates the instance, CONTINUE puts it in service.'),
        onFailure: z.enum(['abandon', 'wait']).default('abandon').describe('On a failed boot: abandon (terminate; the group launches another) or wait for manual repair.'),
      })
      .default({ heartbeatTimeoutSec: 600, defaultResult: 'ABANDON', onFailure: 'abandon' })
      .describe('The launch lifecycle hook that holds a new instance until its bootstrap is done.'),
    bootstrap: bootstrapSchema.default({ configureScript: '', healthScript: '', files: [], configureTimeoutSec: 600, healthTimeoutSec: 900, attachTimeoutSec: 600, preStopScript: '', preStopTimeoutSec: 60 }),
    capacity: capacitySchema.default({ spot: false, onDemandFallback: true, fallbackAfterSec: 300, spotRetryAfterSec: 3600 }),
    tags: z
      .record(z.string(), z.string())
      .default({})
      .describe('Tags on every resource Berth creates: at most 41 (AWS allows 50 per resource and Berth adds up to 9), keys 1–128 characters, values up to 256; no aws:, berth: or Name keys.'),
    quorum: z
      .strictObject({
        /** Allow an even node count or fewer than 3 nodes. Quorum math still applies. */
        allowUnsafeSize: z.boolean().default(false).describe('Allow an even node count or fewer than 3 nodes; quorum math still applies.'),
      })
      .default({ allowUnsafeSize: false })
      .describe('Quorum settings.'),
  })
  .meta({ title: 'Berth cluster spec', description: 'The input of defineCluster() in @berth/core: a stateful cluster on AWS, one Auto Scaling group of size 1 per node. See docs/spec.md.' });

/**
 * What {@link defineCluster} accepts: a cluster spec as written, before defaults. Every field,
 * default and validation rule is in docs/spec.md; schema/cluster-spec.schema.json is its JSON
 * Schema, for specs written in JSON or YAML.
 *
 * @interface
 */
export type ClusterInput = z.input<typeof clusterInputSchema>;
/** The parsed input with defaults applied, before per-node resolution. */
export type ParsedClusterInput = z.output<typeof clusterInputSchema>;
