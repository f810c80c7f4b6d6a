import { AlreadyExistsFault, AutoScalingServiceException, LimitExceededFault, ResourceContentionFault, ResourceInUseFault, ScalingActivityInProgressFault } from '@aws-sdk/client-auto-scaling';
import { ConditionalCheckFailedException, DynamoDBServiceException, ResourceInUseException, ResourceNotFoundException as DynamoResourceNotFound } from '@aws-sdk/client-dynamodb';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import {
  DuplicateListenerException,
  DuplicateLoadBalancerNameException,
  DuplicateTargetGroupNameException,
  ElasticLoadBalancingV2ServiceException,
  IncompatibleProtocolsException,
  InvalidConfigurationRequestException,
  InvalidSubnetException,
  InvalidTargetException,
  ListenerNotFoundException,
  LoadBalancerNotFoundException,
  ResourceInUseException as ElbResourceInUse,
  SubnetNotFoundException,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeServiceException, InvalidEventPatternException, LimitExceededException as EventsLimitExceeded, ResourceNotFoundException as EventsResourceNotFound } from '@aws-sdk/client-eventbridge';
import { InvalidChangeBatch, InvalidInput, NoSuchChange, NoSuchHostedZone, PriorRequestNotComplete, Route53ServiceException } from '@aws-sdk/client-route-53';
import {
  BatchEntryIdsNotDistinct,
  EmptyBatchRequest,
  InvalidAddress,
  InvalidAttributeName,
  InvalidAttributeValue,
  InvalidBatchEntryId,
  InvalidMessageContents,
  MessageNotInflight,
  OverLimit,
  QueueDeletedRecently,
  QueueDoesNotExist,
  QueueNameExists,
  ReceiptHandleIsInvalid,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';

/** The services the simulated account answers for. */
export type ServiceName = 'ec2' | 'autoscaling' | 'route53' | 'dynamodb' | 'sqs' | 'events' | 'elasticloadbalancing' | 'ssm' | 's3' | 'fis' | 'cloudwatch';

type Fault = 'client' | 'server';
interface ExceptionCtor {
  new (opts: { message: string; $metadata: Metadata; name?: string; $fault?: Fault }): Error;
}
interface Metadata {
  readonly httpStatusCode: number;
  readonly requestId: string;
  readonly attempts: number;
  readonly totalRetryDelay: number;
}

/** The base exception class of each client: what the SDK throws for an error it has no model for. */
const BASE: Record<ServiceName, ExceptionCtor> = {
  ec2: EC2ServiceException as unknown as ExceptionCtor,
  autoscaling: AutoScalingServiceException as unknown as ExceptionCtor,
  route53: Route53ServiceException as unknown as ExceptionCtor,
  dynamodb: DynamoDBServiceException as unknown as ExceptionCtor,
  sqs: SQSServiceException as unknown as ExceptionCtor,
  events: EventBridgeServiceException as unknown as ExceptionCtor,
  elasticloadbalancing: ElasticLoadBalancingV2ServiceException as unknown as ExceptionCtor,
  // No SDK client of SSM or S3 is a dependency: their errors reach the simulated AWS CLI (the
  // bootstrap) and the agent by code; a generic service exception carries the same fields.
  ssm: genericServiceException('SSMServiceException'),
  s3: genericServiceException('S3ServiceException'),
  // FIS and CloudWatch: their SDK clients are not dependencies of the simulator either.
  fis: genericServiceException('FisServiceException'),
  cloudwatch: genericServiceException('CloudWatchServiceException'),
};

function genericServiceException(className: string): ExceptionCtor {
  return class extends Error {
    readonly $fault: Fault | undefined;
    readonly $metadata: Metadata;
    constructor(opts: { message: string; $metadata: Metadata; name?: string; $fault?: Fault }) {
      super(opts.message);
      this.name = opts.name ?? className;
      this.$fault = opts.$fault;
      this.$metadata = opts.$metadata;
    }
  };
}

/** Error codes the SDK deserializes into a modeled class (so `instanceof` works in user code). */
const MODELED: Partial<Record<ServiceName, Record<string, unknown>>> = {
  autoscaling: {
    AlreadyExists: AlreadyExistsFault,
    LimitExceeded: LimitExceededFault,
    ResourceContention: ResourceContentionFault,
    ResourceInUse: ResourceInUseFault,
    ScalingActivityInProgress: ScalingActivityInProgressFault,
  },
  route53: { InvalidChangeBatch, InvalidInput, NoSuchHostedZone, NoSuchChange, PriorRequestNotComplete },
  dynamodb: { ConditionalCheckFailedException, ResourceInUseException, ResourceNotFoundException: DynamoResourceNotFound },
  sqs: {
    QueueDoesNotExist,
    ReceiptHandleIsInvalid,
    QueueNameExists,
    QueueDeletedRecently,
    InvalidAttributeName,
    InvalidAttributeValue,
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    InvalidBatchEntryId,
    InvalidMessageContents,
    MessageNotInflight,
    InvalidAddress,
    OverLimit,
  },
  events: { ResourceNotFoundException: EventsResourceNotFound, InvalidEventPatternException, LimitExceededException: EventsLimitExceeded },
  // ELBv2 (awsQuery): the wire code names the SDK's `...Exception` class.
  elasticloadbalancing: {
    TargetGroupNotFound: TargetGroupNotFoundException,
    InvalidTarget: InvalidTargetException,
    DuplicateTargetGroupName: DuplicateTargetGroupNameException,
    ResourceInUse: ElbResourceInUse,
    LoadBalancerNotFound: LoadBalancerNotFoundException,
    ListenerNotFound: ListenerNotFoundException,
    DuplicateLoadBalancerName: DuplicateLoadBalancerNameException,
    DuplicateListener: DuplicateListenerException,
    InvalidConfigurationRequest: InvalidConfigurationRequestException,
    IncompatibleProtocols: IncompatibleProtocolsException,
    SubnetNotFound: SubnetNotFoundException,
    InvalidSubnet: InvalidSubnetException,
  },
};

/** SQS's JSON protocol still carries the legacy query error code in `Code` for some errors. */
const SQS_LEGACY_CODE: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
};

/** Services whose SDK errors carry the wire `Code` next to `name` (Query and REST-XML protocols). */
const CARRIES_CODE = new Set<ServiceName>(['ec2', 'autoscaling', 'route53', 'elasticloadbalancing', 's3', 'cloudwatch']);

/** HTTP status AWS answers with, when it is not 400. */
const STATUS: Record<string, number> = {
  UnauthorizedOperation: 403,
  AccessDenied: 403,
  RequestLimitExceeded: 503,
  InternalError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  InternalServerError: 500,
  NoSuchHostedZone: 404,
  NoSuchChange: 404,
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NoSuchVersion: 404,
  Unavailable: 503,
};

let requestCounter = 0;

export interface SimAwsErrorOptions {
  /** Default: 'server' for 5xx, else 'client'. */
  readonly fault?: Fault;
  readonly httpStatusCode?: number;
}

/**
 * An error as the AWS SDK v3 client of `service` throws it: the service's modeled exception
 * class where the SDK has one, else its base `ServiceException`, with `name` = the AWS error
 * code, `message`, `$fault`, `$metadata.httpStatusCode`, and `Code` where the protocol has it.
 * Code written against the real SDK (`err.name === 'VolumeInUse'`, `instanceof
 * ConditionalCheckFailedException`) works unchanged against the simulated clients.
 */
export function awsServiceError(service: ServiceName, code: string, message: string, options: SimAwsErrorOptions = {}): Error {
  // SQS-4: SQS answers AccessDenied with HTTP 400 (its common-errors list); other services 403.
  const status = options.httpStatusCode ?? (service === 'sqs' && code === 'AccessDenied' ? 400 : STATUS[code]) ?? 400;
  const fault: Fault = options.fault ?? (status >= 500 ? 'server' : 'client');
  const $metadata: Metadata = { httpStatusCode: status, requestId: `sim-${(++requestCounter).toString(16).padStart(8, '0')}`, attempts: 1, totalRetryDelay: 0 };
  const Modeled = MODELED[service]?.[code] as ExceptionCtor | undefined;
  const err = withoutStack(() => (Modeled ? new Modeled({ message, $metadata }) : new BASE[service]({ name: code, $fault: fault, message, $metadata })));
  const extra = err as unknown as Record<string, unknown>;
  if (!Modeled) extra['name'] = code;
  extra['$fault'] = fault;
  if (CARRIES_CODE.has(service)) extra['Code'] = code;
  const legacy = service === 'sqs' ? SQS_LEGACY_CODE[code] : undefined;
  if (legacy) extra['Code'] = legacy;
  return err;
}

/** The AWS error code of an error thrown by a simulated (or real) client. */
export function awsErrorCode(err: unknown): string | null {
  if (!err || typeof err !== 'object') return null;
  const e = err as { name?: unknown; Code?: unknown };
  if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return typeof e.Code === 'string' ? e.Code : null;
}

/**
 * Thrown by the world's operations: a service error not yet bound to a service. The gateway
 * turns it into the calling client's SDK exception ({@link awsServiceError}).
 */
export class SimFault extends Error {
  readonly code: string;
  readonly httpStatusCode: number | undefined;
  constructor(code: string, message: string, httpStatusCode?: number) {
    super(message);
    this.name = 'SimFault';
    this.code = code;
    this.httpStatusCode = httpStatusCode;
  }
}

/** Shorthand for world code: `throw fault('VolumeInUse', '...')`. */
export function fault(code: string, message: string, httpStatusCode?: number): SimFault {
  return withoutStack(() => new SimFault(code, message, httpStatusCode));
}

/**
 * Constructs an error without capturing a stack: a simulated service's error comes from the
 * event loop of the simulation, where a stack says nothing (an AWS error's says as little), and
 * capturing one is most of an error's cost — expected errors (an ENI still in use during a
 * replacement) are frequent.
 */
function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
