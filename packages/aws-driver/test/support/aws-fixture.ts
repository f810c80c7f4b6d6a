import {
  AllocateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CreateHostedZoneCommand, DeleteHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { defineCluster, type ClusterInput, type ClusterSpec } from '@berth/core';
import { afterAll, afterEach, beforeAll, beforeEach, inject } from 'vitest';
import { createAwsDriver, type AwsDriver, type AwsDriverOptions } from '../../src/index.js';
import { sharedMoto, type MotoServer } from './moto-server.js';
import { provisionAll } from './provision.js';

export const REGION = 'us-east-1';
// A fresh object per client: the SDK writes a `$source` marker into static credentials.
const fakeCredentials = () => ({ accessKeyId: 'testing', secretAccessKey: 'testing' });

/** The account state a cluster needs: VPC, three subnets in three AZs, a security group, a private zone, an image. */
export interface AwsWorld {
  readonly subnets: readonly { id: string; az: string; cidr: string }[];
  readonly securityGroupId: string;
  /** A second security group in the same VPC, for rolls that change a node's groups. */
  readonly securityGroupId2: string;
  readonly hostedZoneId: string;
  readonly zoneName: string;
  readonly image: string;
  /** A second image, for rolls. */
  readonly otherImage: string;
  readonly ec2: EC2Client;
  readonly vpcId: string;
  /** The VPC's main route table (0.0.0.0/0 to the NAT gateway: the node subnets reach the AWS APIs). */
  readonly mainRouteTableId: string;
  readonly natGatewayId: string;
  readonly internetGatewayId: string;
}

export function clientConfig(endpoint: string) {
  if (!endpoint.startsWith('http://127.0.0.1:')) throw new Error(`tests only talk to 127.0.0.1, not ${endpoint}`);
  return { region: REGION, endpoint, credentials: fakeCredentials(), maxAttempts: 1 };
}

export function motoDriver(endpoint: string, extra: Partial<AwsDriverOptions> = {}): AwsDriver {
  return createAwsDriver({ ...clientConfig(endpoint), emulator: 'moto', ...extra });
}

/** A moto random seed under which the next hosted zone id starts with `Z`, once found. */
let zoneSeed: number | undefined;
const AWS_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;

/**
 * A private hosted zone whose id has AWS's shape (`Z` + upper-case alphanumerics), so specs
 * pass `defineCluster`'s validation unchanged. moto draws 22 random characters, starting with
 * `Z` once in 36; seeding moto's random generator (POST /moto-api/seed) right before the create
 * makes the id deterministic, and the seed that works is remembered for later worlds.
 */
async function createZoneWithAwsShapedId(endpoint: string, r53: Route53Client, vpcId: string): Promise<string> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const seed = zoneSeed ?? attempt;
    const seeded = await fetch(`${endpoint}/moto-api/seed?a=${seed}`, { method: 'POST' });
    if (!seeded.ok) throw new Error(`moto seed failed: HTTP ${seeded.status}`);
    const zone = await r53.send(
      new CreateHostedZoneCommand({ Name: 'kafka.internal', CallerReference: `berth-${seed}-${attempt}`, VPC: { VPCRegion: REGION, VPCId: vpcId }, HostedZoneConfig: { PrivateZone: true } }),
    );
    const id = zone.HostedZone!.Id!.replace('/hostedzone/', '');
    if (AWS_ZONE_ID.test(id)) {
      zoneSeed = seed;
      return id;
    }
    await r53.send(new DeleteHostedZoneCommand({ Id: id }));
    zoneSeed = undefined;
  }
  throw new Error('moto gave no hosted zone id of the form Z... in 500 tries');
}

/** The instance profile every test spec names (`iamInstanceProfile`); createWorld makes it. */
export const INSTANCE_PROFILE = 'berth-test-node';

/**
 * Creates an IAM instance profile on moto, so that launches and RunInstances dry runs naming it
 * succeed. A raw IAM query request (the package has no IAM client); moto routes it by the
 * service in the credential scope and checks no signature.
 */
async function createInstanceProfile(endpoint: string, name: string): Promise<void> {
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20250101/${REGION}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: 'CreateInstanceProfile', Version: '2010-05-08', InstanceProfileName: name }).toString(),
  });
  const body = await r.text();
  // IAM is global: a second world in the same moto state finds the profile there already.
  if (!r.ok && !body.includes('EntityAlreadyExists')) throw new Error(`moto CreateInstanceProfile failed: HTTP ${r.status} ${body}`);
}

export async function createWorld(endpoint: string): Promise<AwsWorld> {
  const ec2 = new EC2Client(clientConfig(endpoint));
  const r53 = new Route53Client(clientConfig(endpoint));
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }));
  const vpcId = vpc.Vpc!.VpcId!;
  const subnets = [];
  for (const [i, az] of ['us-east-1a', 'us-east-1b', 'us-east-1c'].entries()) {
    const cidr = `10.0.${i + 1}.0/24`;
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: az }));
    subnets.push({ id: s.Subnet!.SubnetId!, az, cidr });
  }
  // As a private-subnet VPC is set up: a public subnet with the internet gateway's route holds a
  // public NAT gateway; the main route table (the node subnets') sends 0.0.0.0/0 to it (VPC-1, VPC-2).
  const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
  await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
  const publicSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.200.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
  const eip = await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
  const nat = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: publicSubnet, AllocationId: eip.AllocationId! }))).NatGateway!.NatGatewayId!;
  const main = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }));
  const mainRouteTableId = main.RouteTables![0]!.RouteTableId!;
  await ec2.send(new CreateRouteCommand({ RouteTableId: mainRouteTableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat }));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'berth-test', Description: 'berth test', VpcId: vpcId }));
  const sg2 = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'berth-test-2', Description: 'berth test 2', VpcId: vpcId }));
  const hostedZoneId = await createZoneWithAwsShapedId(endpoint, r53, vpcId);
  await createInstanceProfile(endpoint, INSTANCE_PROFILE);
  const [image, otherImage] = inject('motoImages'); // described once per run by moto-global-setup.ts
  r53.destroy();
  return { subnets, securityGroupId: sg.GroupId!, securityGroupId2: sg2.GroupId!, hostedZoneId, zoneName: 'kafka.internal', image, otherImage, ec2, vpcId, mainRouteTableId, natGatewayId: nat, internetGatewayId: igw };
}

/** The cluster input of `count` nodes spread over the world's subnets (valid for `defineCluster`). */
export function clusterInput(world: AwsWorld, count: number, overrides: Partial<ClusterInput> = {}): ClusterInput {
  const nodes = Array.from({ length: count }, (_, i) => {
    const s = world.subnets[i % world.subnets.length]!;
    const base = s.cidr.split('.').slice(0, 3).join('.');
    return { id: `n${i + 1}`, ip: `${base}.${10 + Math.floor(i / world.subnets.length)}`, subnetId: s.id };
  });
  return {
    name: 'kafka',
    region: REGION,
    subnets: world.subnets.map((s) => ({ ...s })),
    nodes,
    image: world.image,
    instanceType: 't3.medium',
    securityGroupIds: [world.securityGroupId],
    iamInstanceProfile: INSTANCE_PROFILE,
    dataVolume: { sizeGiB: 50, type: 'gp3', mountPath: '/var/lib/kafka', deletionPolicy: 'retain' },
    dns: { hostedZoneId: world.hostedZoneId, clusterRecord: 'kafka.kafka.internal', nodeRecordTemplate: '{node}.kafka.internal', ttl: 30 },
    tags: { team: 'data' },
    quorum: { allowUnsafeSize: count % 2 === 0 || count < 3 },
    ...overrides,
  };
}

/** A spec of `count` nodes spread over the world's subnets. */
export function clusterSpec(world: AwsWorld, count: number, overrides: Partial<ClusterInput> = {}): ClusterSpec {
  return defineCluster(clusterInput(world, count, overrides));
}

export interface MotoWorldOptions {
  /** Options of the driver, passed to `motoDriver`. */
  readonly driver?: Partial<AwsDriverOptions>;
  /** Make the lock table once the driver is made (once per account, as the docs ask of users). */
  readonly lockTable?: boolean;
  /** Make `spec`: a cluster of this many nodes (`clusterSpec(world, nodes)`). */
  readonly nodes?: number;
  /** Provision every node of `spec` (`provisionAll`), `true` at its default concurrency, a number at that one. */
  readonly provision?: boolean | number;
}

/** A fresh moto account: its world, a driver, and the spec of `options.nodes` nodes if asked. */
export interface MotoWorld {
  readonly world: AwsWorld;
  readonly driver: AwsDriver;
  readonly spec: ClusterSpec | undefined;
}

/** Resets moto, makes a world and a driver on it, then (as asked) the lock table, the spec, and its nodes. */
export async function freshMotoWorld(moto: MotoServer, options: MotoWorldOptions = {}): Promise<MotoWorld> {
  await moto.reset();
  const world = await createWorld(moto.endpoint);
  const driver = motoDriver(moto.endpoint, options.driver);
  if (options.lockTable) await driver.ensureLockTable();
  const spec = options.nodes === undefined ? undefined : clusterSpec(world, options.nodes);
  if (options.provision !== undefined && options.provision !== false) {
    if (!spec) throw new Error('freshMotoWorld: `provision` needs `nodes`');
    await provisionAll(driver, spec, options.provision === true ? undefined : options.provision);
  }
  return { world, driver, spec };
}

export interface UseMotoWorldOptions extends MotoWorldOptions {
  /**
   * `'each'` (the default): a fresh moto state, world and driver before each test.
   * `'manual'`: only when the file calls `fresh()` (say in a `beforeAll`, for state several tests share).
   */
  readonly fresh?: 'each' | 'manual';
}

/** What `useMotoWorld` set up; the getters give the current test's moto, world, driver and spec. */
export interface MotoWorldContext {
  readonly moto: MotoServer;
  readonly world: AwsWorld;
  readonly driver: AwsDriver;
  /** The spec of `options.nodes` nodes (throws if no `nodes` was given). */
  readonly spec: ClusterSpec;
  /** `freshMotoWorld`, after destroying the previous world's and driver's clients. */
  fresh(): Promise<void>;
}

/**
 * Registers the vitest hooks of a moto test file: the shared moto_server (beforeAll), a fresh
 * moto state, world and driver before each test (beforeEach, unless `fresh: 'manual'`), and the
 * last world's and driver's clients destroyed (afterAll). Call it at the top of the file, before
 * the file's own hooks, which then run after it.
 */
export function useMotoWorld(options: UseMotoWorldOptions = {}): MotoWorldContext {
  let moto: MotoServer | undefined;
  let current: MotoWorld | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useMotoWorld: no ${what} (read it inside a test or hook, after a fresh world)`);
    return value;
  };
  const destroy = () => {
    current?.driver.destroy();
    current?.world.ec2.destroy();
    current = undefined;
  };

  beforeAll(async () => {
    moto = sharedMoto();
  });
  afterAll(async () => {
    destroy();
  });

  const context: MotoWorldContext = {
    get moto() {
      return ready(moto, 'moto');
    },
    get world() {
      return ready(current, 'world').world;
    },
    get driver() {
      return ready(current, 'driver').driver;
    },
    get spec() {
      return ready(ready(current, 'spec').spec, 'spec (useMotoWorld was given no `nodes`)');
    },
    async fresh() {
      destroy();
      current = await freshMotoWorld(ready(moto, 'moto'), options);
    },
  };
  if ((options.fresh ?? 'each') === 'each') beforeEach(() => context.fresh());
  return context;
}

/**
 * SQS and EventBridge clients on the test's moto server, made before each test and destroyed
 * after it: the change feed's tests read the queue and put the events AWS would send.
 */
export function useFeedClients(m: MotoWorldContext): { readonly sqs: SQSClient; readonly events: EventBridgeClient } {
  let sqs: SQSClient | null = null;
  let events: EventBridgeClient | null = null;
  beforeEach(() => {
    sqs = new SQSClient(clientConfig(m.moto.endpoint));
    events = new EventBridgeClient(clientConfig(m.moto.endpoint));
  });
  afterEach(() => {
    sqs?.destroy();
    events?.destroy();
  });
  return {
    get sqs() {
      return sqs as SQSClient;
    },
    get events() {
      return events as EventBridgeClient;
    },
  };
}

/** The error `p` rejects with; fails the test when it resolves. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}
