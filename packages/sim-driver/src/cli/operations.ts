// The commands the simulated AWS CLI supports, with each operation's input shape and paginator
// configuration as the AWS service models (botocore data: service-2.json, paginators-1.json) define
// them. A command that is not listed here is refused with an error naming the supported ones:
// add it here (input members in model order, `required`, `min` constraints, paginator) to support it.
import type { Shape, StructureShape } from './shapes.js';
import { boolean, integer, list, string, structure } from './shapes.js';

export type CliServiceName = 'ec2' | 'autoscaling' | 'route53' | 'dynamodb' | 'sqs' | 'events' | 'sts' | 'ssm' | 's3api';

export interface PaginatorSpec {
  readonly inputToken: readonly string[];
  readonly outputToken: readonly string[];
  /** The input member that limits a page's size (the CLI's --page-size). */
  readonly limitKey?: string;
  readonly resultKeys: readonly string[];
  readonly nonAggregateKeys?: readonly string[];
  readonly moreResults?: string;
}

export interface OperationSpec {
  readonly service: CliServiceName;
  /** The CLI command name, e.g. `describe-volumes`. */
  readonly command: string;
  /** The API operation name, e.g. `DescribeVolumes`. */
  readonly operation: string;
  readonly input: StructureShape;
  readonly paginator?: PaginatorSpec;
  /**
   * The CLI's EC2 page-size injector (awscli/customizations/ec2/paginate.py): when only these
   * members (plus NextToken, DryRun) are given, auto-pagination asks for pages of 1000.
   */
  readonly defaultPageSize?: { readonly size: number; readonly allowedMembers: readonly string[] };
  /** The simulated service that answers, when it is not named as the CLI command (`s3api` → `s3`). */
  readonly apiService?: string;
  /** The command takes a positional `outfile` and writes the output's streaming `Body` to it (`s3api get-object`). */
  readonly outfile?: boolean;
}

export interface ServiceSpec {
  readonly name: CliServiceName;
  /** Endpoint host prefix, as in https://<prefix>.<region>.amazonaws.com/ */
  readonly endpointPrefix: string;
  /** A global service (one endpoint for every region of the partition). */
  readonly global?: boolean;
  /**
   * AWS SDK v3 exception names (modeled error shape names) that differ from the wire error code
   * the CLI prints, e.g. autoscaling `ResourceContentionFault` is sent as `ResourceContention`.
   */
  readonly errorCodes?: Readonly<Record<string, string>>;
}

const filters = list(structure({ Name: string(), Values: list(string()) }));
const tags = list(structure({ Key: string(), Value: string() }));

const ec2Describe = (
  command: string,
  operation: string,
  members: Record<string, Shape>,
  resultKey: string,
): OperationSpec => ({
  service: 'ec2',
  command,
  operation,
  input: structure(members),
  paginator: { inputToken: ['NextToken'], outputToken: ['NextToken'], limitKey: 'MaxResults', resultKeys: [resultKey] },
});

export const SERVICES: readonly ServiceSpec[] = [
  { name: 'autoscaling', endpointPrefix: 'autoscaling', errorCodes: autoscalingErrorCodes() },
  { name: 'dynamodb', endpointPrefix: 'dynamodb' },
  { name: 'ec2', endpointPrefix: 'ec2' },
  { name: 'events', endpointPrefix: 'events' },
  { name: 'route53', endpointPrefix: 'route53', global: true },
  { name: 'sqs', endpointPrefix: 'sqs' },
  { name: 'sts', endpointPrefix: 'sts', errorCodes: stsErrorCodes() },
  { name: 'ssm', endpointPrefix: 'ssm' },
  { name: 's3api', endpointPrefix: 's3' },
];

export const OPERATIONS: readonly OperationSpec[] = [
  // ---- ec2 ----
  {
    ...ec2Describe(
      'describe-volumes',
      'DescribeVolumes',
      {
        VolumeIds: list(string()),
        IncludeManagedResources: boolean(),
        DryRun: boolean(),
        Filters: filters,
        NextToken: string(),
        MaxResults: integer(),
      },
      'Volumes',
    ),
    defaultPageSize: { size: 1000, allowedMembers: [] },
  },
  ec2Describe(
    'describe-instances',
    'DescribeInstances',
    {
      InstanceIds: list(string()),
      IncludeManagedResources: boolean(),
      DryRun: boolean(),
      Filters: filters,
      NextToken: string(),
      MaxResults: integer(),
    },
    'Reservations',
  ),
  ec2Describe(
    'describe-tags',
    'DescribeTags',
    { DryRun: boolean(), Filters: filters, MaxResults: integer(), NextToken: string() },
    'Tags',
  ),
  ec2Describe(
    'describe-network-interfaces',
    'DescribeNetworkInterfaces',
    {
      NextToken: string(),
      MaxResults: integer(5),
      IncludeManagedResources: boolean(),
      DryRun: boolean(),
      NetworkInterfaceIds: list(string()),
      Filters: filters,
    },
    'NetworkInterfaces',
  ),
  ec2Describe(
    'describe-volumes-modifications',
    'DescribeVolumesModifications',
    {
      DryRun: boolean(),
      VolumeIds: list(string()),
      Filters: filters,
      NextToken: string(),
      MaxResults: integer(),
      IncludeManagedResources: boolean(),
    },
    'VolumesModifications',
  ),
  {
    service: 'ec2',
    command: 'attach-volume',
    operation: 'AttachVolume',
    input: structure(
      { Device: string(), InstanceId: string(), VolumeId: string(), EbsCardIndex: integer(), DryRun: boolean() },
      ['Device', 'InstanceId', 'VolumeId'],
    ),
  },
  {
    service: 'ec2',
    command: 'detach-volume',
    operation: 'DetachVolume',
    input: structure(
      { Device: string(), Force: boolean(), InstanceId: string(), VolumeId: string(), DryRun: boolean() },
      ['VolumeId'],
    ),
  },
  {
    service: 'ec2',
    command: 'create-tags',
    operation: 'CreateTags',
    input: structure({ DryRun: boolean(), Resources: list(string()), Tags: tags }, ['Resources', 'Tags']),
  },
  {
    service: 'ec2',
    command: 'delete-tags',
    operation: 'DeleteTags',
    input: structure({ DryRun: boolean(), Resources: list(string()), Tags: tags }, ['Resources']),
  },
  // ---- autoscaling ----
  {
    service: 'autoscaling',
    command: 'describe-auto-scaling-instances',
    operation: 'DescribeAutoScalingInstances',
    input: structure({ InstanceIds: list(string(1)), MaxRecords: integer(), NextToken: string() }),
    paginator: { inputToken: ['NextToken'], outputToken: ['NextToken'], limitKey: 'MaxRecords', resultKeys: ['AutoScalingInstances'] },
  },
  {
    service: 'autoscaling',
    command: 'describe-auto-scaling-groups',
    operation: 'DescribeAutoScalingGroups',
    input: structure({
      AutoScalingGroupNames: list(string(1)),
      IncludeInstances: boolean(),
      NextToken: string(),
      MaxRecords: integer(),
      Filters: filters,
    }),
    paginator: { inputToken: ['NextToken'], outputToken: ['NextToken'], limitKey: 'MaxRecords', resultKeys: ['AutoScalingGroups'] },
  },
  {
    service: 'autoscaling',
    command: 'describe-lifecycle-hooks',
    operation: 'DescribeLifecycleHooks',
    input: structure({ AutoScalingGroupName: string(1), LifecycleHookNames: list(string(1)) }, ['AutoScalingGroupName']),
  },
  {
    service: 'autoscaling',
    command: 'complete-lifecycle-action',
    operation: 'CompleteLifecycleAction',
    input: structure(
      {
        LifecycleHookName: string(1),
        AutoScalingGroupName: string(1),
        LifecycleActionToken: string(36),
        LifecycleActionResult: string(),
        InstanceId: string(1),
      },
      ['LifecycleHookName', 'AutoScalingGroupName', 'LifecycleActionResult'],
    ),
  },
  {
    service: 'autoscaling',
    command: 'record-lifecycle-action-heartbeat',
    operation: 'RecordLifecycleActionHeartbeat',
    input: structure(
      { LifecycleHookName: string(1), AutoScalingGroupName: string(1), LifecycleActionToken: string(36), InstanceId: string(1) },
      ['LifecycleHookName', 'AutoScalingGroupName'],
    ),
  },
  {
    service: 'autoscaling',
    command: 'set-instance-health',
    operation: 'SetInstanceHealth',
    input: structure({ InstanceId: string(1), HealthStatus: string(1), ShouldRespectGracePeriod: boolean() }, ['InstanceId', 'HealthStatus']),
  },
  // ---- sts ----
  { service: 'sts', command: 'get-caller-identity', operation: 'GetCallerIdentity', input: structure({}) },
  // ---- ssm (the bootstrap's file sources: docs/secrets.md) ----
  { service: 'ssm', command: 'get-parameter', operation: 'GetParameter', input: structure({ Name: string(1), WithDecryption: boolean() }, ['Name']) },
  // ---- s3api (the bootstrap's file sources) ----
  {
    service: 's3api',
    apiService: 's3',
    command: 'get-object',
    operation: 'GetObject',
    outfile: true,
    input: structure({ Bucket: string(1), Key: string(1), VersionId: string() }, ['Bucket', 'Key']),
  },
];

export function findService(name: string): ServiceSpec | undefined {
  return SERVICES.find((s) => s.name === name);
}

export function findOperation(service: string, command: string): OperationSpec | undefined {
  return OPERATIONS.find((o) => o.service === service && o.command === command);
}

export function commandsOf(service: string): string[] {
  return OPERATIONS.filter((o) => o.service === service).map((o) => o.command);
}

/** Every supported command as `service command`, for error messages. */
export function supportedCommandList(): string[] {
  return OPERATIONS.map((o) => `${o.service} ${o.command}`);
}

function autoscalingErrorCodes(): Record<string, string> {
  return {
    ActiveInstanceRefreshNotFoundFault: 'ActiveInstanceRefreshNotFound',
    AlreadyExistsFault: 'AlreadyExists',
    IdempotentParameterMismatchError: 'IdempotentParameterMismatch',
    InstanceRefreshInProgressFault: 'InstanceRefreshInProgress',
    IrreversibleInstanceRefreshFault: 'IrreversibleInstanceRefresh',
    LimitExceededFault: 'LimitExceeded',
    ResourceContentionFault: 'ResourceContention',
    ResourceInUseFault: 'ResourceInUse',
    ScalingActivityInProgressFault: 'ScalingActivityInProgress',
    ServiceLinkedRoleFailure: 'ServiceLinkedRoleFailure',
  };
}

function stsErrorCodes(): Record<string, string> {
  return {
    IDPCommunicationErrorException: 'IDPCommunicationError',
    IDPRejectedClaimException: 'IDPRejectedClaim',
    InvalidIdentityTokenException: 'InvalidIdentityToken',
    MalformedPolicyDocumentException: 'MalformedPolicyDocument',
    PackedPolicyTooLargeException: 'PackedPolicyTooLarge',
  };
}
